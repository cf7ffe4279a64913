"""Editing span labels on the label lane: select a span (click, or E at the playhead), drag its edges or
body, set an edge to the playhead ([ and ]), give it another label (1–9, or its right-click menu), delete it
(Delete). Each edit is a ``SpanEditCommand`` run on the session's one-thread database worker, so
it is committed before the lane shows it, and each lands in the annotator's history: Ctrl+Z takes it back.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, Slot
from PySide6.QtWidgets import QMenu

from affectscope.app.services.label_state import edit_span
from affectscope.db.records import SpanRecord

HINT = (
    "Span {value} {start:.3f}–{end:.3f} s selected: drag its edges, [ / ] set start / end to the playhead, "
    "1–9 relabel, Delete removes it, Esc deselects"
)


class SpanEditor(QObject):
    """The span-editing half of the labelling panel (``panel.spans``); owns no data of its own."""

    def __init__(self, panel) -> None:  # noqa: ANN001 - the LabellingPanel that builds it
        super().__init__(panel)
        self.panel = panel
        self.lane = panel.lane
        self.menu: QMenu | None = None  # the open right-click menu (kept for tests)
        self.lane.edit_requested.connect(self._on_drag)
        self.lane.context_requested.connect(self.show_menu)
        self.lane.selection_changed.connect(self._on_selection)

    @property
    def selected(self) -> SpanRecord | None:
        return self.lane.selected

    # -- actions (keys, menu, drags) -------------------------------------------------------------------
    def select_at_playhead(self) -> None:
        """E: select the span under the playhead; pressed again, the next span covering it."""
        under = self.lane.spans_at(self.panel._now())
        if not under:
            self.lane.select(None)
            self.panel.notice.emit("No labelled span at the playhead")
            return
        ids = [s.id for s in under]
        now = self.selected.id if self.selected is not None else None
        self.lane.select(ids[(ids.index(now) + 1) % len(ids)] if now in ids else ids[0])

    def set_start(self) -> None:
        """[: the selected span starts at the playhead."""
        self._move_edge(start=self.panel._now())

    def set_end(self) -> None:
        """]: the selected span ends at the playhead."""
        self._move_edge(end=self.panel._now())

    def relabel(self, value: str) -> None:
        span = self.selected
        if span is not None and value != span.value:
            self._edit(span, value=value)

    def delete(self) -> None:
        if self.selected is not None:
            self._edit(self.selected, delete=True)

    def _move_edge(self, start: float | None = None, end: float | None = None) -> None:
        span = self.selected
        if span is None:
            return
        lo = span.start if start is None else start
        hi = span.end if end is None else end
        if hi - lo < 0.001:
            self.panel.notice.emit(f"A span must start before it ends ({lo:.3f} s is not before {hi:.3f} s)")
            return
        self._edit(span, start=lo, end=hi)

    @Slot(object, float, float)
    def _on_drag(self, span: SpanRecord, start: float, end: float) -> None:
        self._edit(span, start=start, end=end)

    def _edit(self, span: SpanRecord, **edit: object) -> None:
        panel = self.panel
        if panel.project is None:
            return
        panel.run_for_state(edit_span, (panel.project, span.id, edit), "Edit span", self._on_failed)

    def _on_failed(self, exc: BaseException) -> None:
        self.lane.refresh()  # a dropped edge goes back where it is stored
        self.panel._on_failed(exc)

    # -- view ------------------------------------------------------------------------------------------
    @Slot(object, QPoint)
    def show_menu(self, span: SpanRecord, where: QPoint) -> None:
        """Right click on a span: change its label to any of the set's, or delete it."""
        panel = self.panel
        if panel.project is None:
            return
        menu = QMenu(panel)
        change = menu.addMenu("Change label to")
        for value in panel.project.labels():
            action = change.addAction(value)
            action.setEnabled(value != span.value)
            action.triggered.connect(lambda _=False, v=value: self.relabel(v))
        menu.addAction("Delete span", self.delete)
        self.menu = menu
        menu.popup(where)  # not exec(): the window keeps running (and tests can drive it)

    @Slot(object)
    def _on_selection(self, span: SpanRecord | None) -> None:
        if span is None:
            self.panel._show_marks()
        else:
            self.panel.marks_label.setText(HINT.format(value=span.value, start=span.start, end=span.end))
