"""Labelling in the window: who labels, with which label set, keys 1–9 for the clip or a marked span
(I = in, O = out), the clip's history with undo/redo (Ctrl+Z / Ctrl+Shift+Z), the label tier lane (its
spans are edited by app/qt/span_editing.py) and the clip browser's Label / By / When / Agreement columns.

All database work runs on a one-thread worker pool (in order: a second key press never overtakes the
first) and hands back plain records; the GUI updates only once the commit returned, so what shows as
saved is saved. A locked database becomes an error message, never a frozen window.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.qt.clip_browser import Column
from affectscope.app.qt.history_view import HistoryView
from affectscope.app.qt.label_lane import LabelLane
from affectscope.app.qt.session import QtSession
from affectscope.app.qt.span_editing import SpanEditor
from affectscope.app.services.label_state import (
    MAX_KEYED_LABELS,
    ClipState,
    fetch_state,
    label_clip,
    step_history,
)
from affectscope.app.services.project import Project
from affectscope.db.records import ClipRecord
from affectscope.errors import UserFacingError

__all__ = ["ClipState", "LabellingPanel", "install_labelling"]


class LabellingPanel(QWidget):
    """The inspector's Labels tab: follows the session's project and clip; ``key(n)`` labels."""

    state_changed = Signal(object)  # ClipState, after every fetch or committed change
    notice = Signal(str)  # a sentence for the status bar (e.g. a span hint)
    error = Signal(str, str)  # title, message

    def __init__(
        self, session: QtSession, clock: object | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.clock = clock
        self.db_workers = session.db_workers  # the session's one thread: commits keep the keys' order
        self._shown: Project | None = None  # the project the choices below were filled from
        self.focus_home = None  # gives the keyboard back to the player (set by install_labelling)
        self.state: ClipState | None = None
        self.marks: list[float | None] = [None, None]
        self.lane = LabelLane()
        self.history = HistoryView()
        self.project_label = QLabel("No project", self)
        self.project_label.setWordWrap(True)
        self.create_button = QPushButton("Create project in this folder", self)
        self.create_button.setToolTip("Record every clip of the folder in a new project database")
        self.create_button.clicked.connect(self._on_create_clicked)
        self.annotator_box = QComboBox(self)
        self.annotator_box.setEditable(True)
        self.annotator_box.setInsertPolicy(QComboBox.InsertPolicy.InsertAtTop)
        self.annotator_box.lineEdit().editingFinished.connect(self._on_annotator_edited)
        self.annotator_box.activated.connect(self._on_annotator_edited)
        self.label_set_box = QComboBox(self)
        self.label_set_box.currentTextChanged.connect(self._on_label_set_edited)
        self.current_label = QLabel("—", self)
        self.current_label.setWordWrap(True)
        self.marks_label = QLabel("Span: press I (in) and O (out), then a number", self)
        self.marks_label.setWordWrap(True)
        self.buttons_box = QWidget(self)
        self.buttons_grid = QGridLayout(self.buttons_box)
        self.buttons_grid.setContentsMargins(0, 0, 0, 0)
        self.label_buttons: list[QPushButton] = []
        form = QFormLayout()
        form.addRow("Project", self.project_label)
        form.addRow("", self.create_button)
        form.addRow("Annotator", self.annotator_box)
        form.addRow("Label set", self.label_set_box)
        form.addRow("Current", self.current_label)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons_box)
        layout.addWidget(self.marks_label)
        layout.addStretch(1)
        self.history.undo_requested.connect(self.undo)
        self.history.redo_requested.connect(self.redo)
        self.spans = SpanEditor(self)  # select, drag, relabel and delete spans on the lane
        session.project_opened.connect(self._on_project_opened)
        session.annotator_changed.connect(self._on_annotator_changed)
        session.label_set_changed.connect(self._on_label_set_changed)
        session.clip_changed.connect(self._on_clip_changed)
        session.clip_cleared.connect(self.clear_clip)
        self._set_enabled(False)

    @property
    def project(self) -> Project | None:
        """The session's open project (the panel keeps none of its own)."""
        return self.session.project

    @property
    def clip_path(self) -> str | None:
        return self.session.clip_path

    # -- project and choices -------------------------------------------------------------------------
    def _set_enabled(self, on: bool) -> None:
        for w in (self.annotator_box, self.label_set_box, self.buttons_box, self.history):
            w.setEnabled(on)
        self.create_button.setVisible(not on)

    @Slot(object)
    def _on_project_opened(self, _clips: list[ClipRecord]) -> None:
        """A project opened (fill the choices from it) or its clips were read anew (an import)."""
        project = self.project
        if project is not None and project is not self._shown:
            self._shown = project
            self._show_project(project)
        if self.clip_path is not None:
            self._refresh()

    def _show_project(self, project: Project) -> None:
        self.project_label.setText(f"{project.folder}\n{project.db.display_url}")
        self.annotator_box.blockSignals(True)
        self.annotator_box.clear()
        names = project.annotators()
        self.annotator_box.addItems(sorted(set(names) | {project.annotator}))
        self.annotator_box.setCurrentText(project.annotator)
        self.annotator_box.blockSignals(False)
        self.label_set_box.blockSignals(True)
        self.label_set_box.clear()
        self.label_set_box.addItems(list(project.label_sets()))
        self.label_set_box.setCurrentText(project.label_set)
        self.label_set_box.blockSignals(False)
        self._build_buttons()
        had_focus = self.isAncestorOf(QApplication.focusWidget()) if QApplication.focusWidget() else True
        self._set_enabled(True)  # hides "Create project": Qt would hand its focus to the Annotator field
        if had_focus:
            self._give_focus_back()

    def _build_buttons(self) -> None:
        for button in self.label_buttons:
            button.deleteLater()
        self.label_buttons = []
        for i, value in enumerate(self.project.labels()):
            key = f"{i + 1} " if i < MAX_KEYED_LABELS else ""
            button = QPushButton(f"{key}{value}", self.buttons_box)
            button.clicked.connect(lambda _=False, v=value: self.label(v))
            self.buttons_grid.addWidget(button, i // 3, i % 3)
            self.label_buttons.append(button)

    @Slot()
    def _on_annotator_edited(self, *_: object) -> None:
        self.session.choose_annotator(self.annotator_box.currentText().strip())

    @Slot(str)
    def _on_annotator_changed(self, _name: str) -> None:
        self._give_focus_back()
        self._refresh()

    def _give_focus_back(self) -> None:
        """Number keys label: they must never be left typing into a field after an action here."""
        if self.focus_home is not None:
            self.focus_home()

    @Slot(str)
    def _on_label_set_edited(self, name: str) -> None:
        self.session.choose_label_set(name)

    @Slot(str)
    def _on_label_set_changed(self, _name: str) -> None:
        self._build_buttons()
        self._refresh()

    # -- clip ----------------------------------------------------------------------------------------
    @Slot(str)
    def _on_clip_changed(self, path: str) -> None:
        self.clear_marks()
        if self.session.opening:
            # The clip's project is being opened (or created and importing): nothing of the project
            # open before is shown for it, and its labels show once the new one is open.
            self._show_no_labels("— (opening the project…)")
            return
        if self.project is None:
            self.project_label.setText(f"No project in {Path(path).parent}")
            return
        self._refresh()

    @Slot(str)
    def clear_clip(self, _path: str) -> None:
        """The chosen clip could not be opened: its spans, history and current label are not shown."""
        self.clear_marks()
        self._show_no_labels("— (no clip open)")

    def _show_no_labels(self, why: str) -> None:
        """No clip state: no spans, whole-clip label or history drawn; ``why`` where the label goes."""
        self.state = None
        self.lane.set_spans([])
        self.lane.set_clip_label(None)
        self.history.show_history([], "")
        self.current_label.setText(why)

    def run_for_state(
        self,
        fn: Callable[..., Any],
        args: tuple,
        title: str,
        on_failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run a read or write of the open clip's labels on the database worker; the clip state it
        returns redraws the panel (buttons, lane, history)."""
        self.db_workers.start(
            fn, args, title=title, on_finished=self._on_state, on_failed=on_failed or self._on_failed
        )

    def _refresh(self) -> None:
        if self.project is None or self.clip_path is None:
            return
        self.run_for_state(fetch_state, (self.project, self.clip_path), "Labels", self._on_read_failed)

    @Slot(object)
    def _on_state(self, state: ClipState | None) -> None:
        if state is None:
            return
        if self.clip_path is not None and state.clip.path != self.clip_path and state.change is None:
            return  # a stale answer for a clip the user already left
        self.state = state
        clip = state.clip
        if clip.label is not None:
            when = clip.label_at.astimezone().strftime("%Y-%m-%d %H:%M")
            self.current_label.setText(f"{clip.label} — by {clip.label_by}, {when}")
        else:
            self.current_label.setText("— (not labelled)")
        if state.clip.path == self.clip_path:
            self.history.show_history(state.history, Path(clip.path).name)
            editing = self.lane.selected is not None
            self.lane.set_duration(clip.duration)
            self.lane.set_spans(state.spans)
            self.lane.set_clip_label(clip.label, clip.label_by)
            if (
                editing
                and state.change is not None
                and any(s.id == state.change.label_id for s in state.spans)
            ):
                self.lane.select(state.change.label_id)  # an edited span stays selected as its new row
        self.history.set_stack_state(state.can_undo, state.can_redo)
        self.state_changed.emit(state)
        self.session.labels_fetched(state)  # other panels (the queue) follow commits through the session

    # -- actions ---------------------------------------------------------------------------------------
    def key(self, n: int) -> None:
        """Number key ``n`` (1–9): label the clip, or the marked span when in and out are set."""
        if self.project is None or not self.label_buttons:
            return
        labels = self.project.labels()
        if 1 <= n <= min(len(labels), MAX_KEYED_LABELS):
            self.label(labels[n - 1])

    def label(self, value: str) -> None:
        """Label the marked span (I/O set), else give the selected span this label, else the clip."""
        if self.project is None or self.clip_path is None:
            return
        if self.lane.selected is not None and None in self.marks:
            self.spans.relabel(value)
            return
        span = None
        if self.marks[0] is not None and self.marks[1] is not None:
            span = (min(self.marks), max(self.marks))
            self.clear_marks()
        self.run_for_state(label_clip, (self.project, self.clip_path, value, span), "Label")

    def undo(self) -> None:
        if self.project is not None:
            self.run_for_state(step_history, (self.project, self.clip_path, True), "Undo")

    def redo(self) -> None:
        if self.project is not None:
            self.run_for_state(step_history, (self.project, self.clip_path, False), "Redo")

    def _now(self) -> float:
        return float(getattr(self.clock, "position", 0.0) or 0.0)

    def mark_in(self, t: float | None = None) -> None:
        self.marks[0] = self._now() if t is None else t
        self._show_marks()

    def mark_out(self, t: float | None = None) -> None:
        self.marks[1] = self._now() if t is None else t
        self._show_marks()

    def clear_marks(self) -> None:
        """Esc: forget the in/out marks and the selected span."""
        self.marks = [None, None]
        self.lane.select(None)
        self._show_marks()

    def _show_marks(self) -> None:
        t_in, t_out = self.marks
        self.lane.set_marks(t_in, t_out)
        if t_in is None and t_out is None:
            self.marks_label.setText("Span: press I (in) and O (out), then a number")
        else:
            fmt = lambda t: "—" if t is None else f"{t:.3f} s"  # noqa: E731
            self.marks_label.setText(
                f"Span {fmt(t_in)} → {fmt(t_out)}: press a number to label it, Esc to clear"
            )

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        """A write (label, undo, span edit) failed: nothing of it was saved."""
        self.error.emit("Labels not saved" if self.project else "Cannot open the project", str(exc))

    @Slot(object)
    def _on_read_failed(self, exc: BaseException) -> None:
        """Reading the open clip's labels failed: nothing was lost, so no "not saved"; a clip that is
        not one of the project's is said in the panel, not as an error."""
        if isinstance(exc, UserFacingError) and "not a clip of this project" in str(exc):
            self._show_no_labels("— (not a clip of the open project: Project ▸ New project…)")
            return
        self.error.emit("Labels not read", str(exc))

    @Slot()
    def _on_create_clicked(self) -> None:
        if self.clip_path is not None:
            self.session.open_project(Path(self.clip_path).parent, create=True)


LABEL_COLUMNS = [
    Column("label", "Label", lambda r: r.extra.get("label") or ""),
    Column("label_by", "By", lambda r: r.extra.get("label_by") or ""),
    Column("label_at", "When", lambda r: r.extra.get("label_at") or ""),
    Column(
        "agreement",
        "Agree",
        lambda r: r.extra.get("agreement") or "",
        lambda r: r.extra.get("agreement_value", -1.0),
        True,
        "share of annotators agreeing with the majority",
    ),
    Column(
        "speaker",
        "Speaker",
        lambda r: r.extra.get("speaker") or "",
        tooltip="who speaks (file-name pattern, CSV or corpus names): retrain holds whole speakers out",
    ),
]


def _browser_values(clip: ClipRecord) -> dict[str, object]:
    return {
        "label": clip.label or "",
        "label_by": clip.label_by or "",
        "label_at": clip.label_at.astimezone().strftime("%Y-%m-%d %H:%M") if clip.label_at else "",
        "agreement": f"{clip.agreement:.0%} of {clip.n_annotators}" if clip.agreement is not None else "",
        "agreement_value": clip.agreement if clip.agreement is not None else -1.0,
        "speaker": clip.speaker or "",
    }


def install_labelling(window) -> LabellingPanel:  # noqa: ANN001
    """Add the Labels and History tabs, the label lane, keys and browser columns to a ``MainWindow``."""
    panel = LabellingPanel(window.session, window.clock, window)
    panel.focus_home = window.player.view.setFocus
    window.inspector.addTab(panel, "Labels")
    window.inspector.addTab(panel.history, "History")
    window.timeline.add_lane("Labels", panel.lane)
    panel.error.connect(window.show_error)
    panel.notice.connect(lambda text: window.statusBar().showMessage(text, 15000))
    model = window.browser.model
    for column in LABEL_COLUMNS:
        model.add_column(column)

    def _on_clips(clips: list[ClipRecord]) -> None:
        for clip in clips:
            for key, value in _browser_values(clip).items():
                model.set_value(clip.path, key, value)

    def _on_state(state: ClipState) -> None:
        _on_clips([state.clip])

    window.session.project_opened.connect(_on_clips)
    panel.state_changed.connect(_on_state)
    keys = {str(n): (lambda n=n: panel.key(n)) for n in range(1, 10)}
    keys |= {
        "I": panel.mark_in,
        "O": panel.mark_out,
        "Escape": panel.clear_marks,
        "E": panel.spans.select_at_playhead,
        "[": panel.spans.set_start,
        "]": panel.spans.set_end,
        "Delete": panel.spans.delete,
        "Backspace": panel.spans.delete,
        "Ctrl+Z": panel.undo,
        "Ctrl+Shift+Z": panel.redo,
    }
    panel.shortcuts = {}
    for key, fn in keys.items():
        sc = QShortcut(QKeySequence(key), window)
        sc.setContext(Qt.ShortcutContext.WindowShortcut)
        sc.activated.connect(fn)
        panel.shortcuts[key] = sc
    return panel
