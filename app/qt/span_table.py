"""The Spans tab: every span label of the open clip as a table, as ELAN's annotation list has it.

Start, End, Label and Comment are typed in place (Annotator shows who made the span's current row);
an edit here is the very ``SpanEditCommand`` a drag on the label lane runs (``SpanEditor._edit``), so it
is committed before the table shows it and Ctrl+Z takes it back. A typed value that cannot be a span
(not a number, start not before end, a label outside the set) is refused with a sentence and the cell
goes back to what is stored. Choosing a row selects that span on the lane and moves the playhead to
its start.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from affectscope.db.records import SpanRecord

COLUMNS = ("Start (s)", "End (s)", "Label", "Annotator", "Comment")
START, END, LABEL, ANNOTATOR, COMMENT = range(len(COLUMNS))
EDITABLE = (START, END, LABEL, COMMENT)


def parse_seconds(text: str) -> float | None:
    """Seconds typed as ``12.5``, ``12,5`` or ``m:ss.sss`` (ELAN's style); None when not a time."""
    text = text.strip().replace(",", ".")
    try:
        if ":" in text:
            minutes, seconds = text.rsplit(":", 1)
            value = 60 * float(minutes) + float(seconds)
        else:
            value = float(text)
    except ValueError:
        return None
    return value if value >= 0 else None


class SpanTable(QWidget):
    """The inspector's Spans tab (see module doc); ``panel`` is the LabellingPanel."""

    edit_refused = Signal(str)  # why a typed value was not saved

    def __init__(self, panel: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.spans: list[SpanRecord] = []
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        header = self.table.horizontalHeader()
        for c in (START, END, LABEL, ANNOTATOR):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.note = QLabel("No spans: press I and O, then a number, to label one.", self)
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self._filling = False
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.currentCellChanged.connect(self._on_current_cell)
        self.edit_refused.connect(panel.notice.emit)

    # -- view ----------------------------------------------------------------------------------------
    @Slot(object)
    def show_state(self, state: Any) -> None:
        """The clip's spans after every fetch or committed change (the panel's ``state_changed``)."""
        if state is not None and state.clip.path != self.panel.clip_path:
            return
        self.show_spans([] if state is None else list(state.spans))

    def show_spans(self, spans: list[SpanRecord]) -> None:
        selected = self.panel.lane.selected
        self.spans = sorted(spans, key=lambda s: (s.start, s.end, s.id))
        self._filling = True
        self.table.setRowCount(len(self.spans))
        for r, span in enumerate(self.spans):
            cells = (f"{span.start:.3f}", f"{span.end:.3f}", span.value, span.annotator, span.comment)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c not in EDITABLE:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if c in (START, END):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
            if selected is not None and span.id == selected.id:
                self.table.selectRow(r)
        self._filling = False
        n = len(self.spans)
        self.note.setText(
            f"{n} span{'s' if n != 1 else ''}: type a start, end, label or comment; Ctrl+Z undoes"
            if n
            else "No spans: press I and O, then a number, to label one."
        )

    def row_texts(self) -> list[tuple[str, ...]]:
        """What each row shows (tests read the table through this)."""
        return [
            tuple(self.table.item(r, c).text() for c in range(len(COLUMNS)))
            for r in range(self.table.rowCount())
        ]

    # -- edits ---------------------------------------------------------------------------------------
    def edit_cell(self, row: int, column: int, text: str) -> None:
        """Type ``text`` into a cell, as a user does (setText fires the same edit)."""
        self.table.item(row, column).setText(text)

    @Slot(QTableWidgetItem)
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.row() >= len(self.spans):
            return
        span, column, text = self.spans[item.row()], item.column(), item.text()
        edit, why = self._edit_for(span, column, text)
        if edit is None:
            self._restore(item, span, column)
            if why:
                self.edit_refused.emit(why)
            return
        self.panel.spans._edit(span, **edit)

    def _edit_for(self, span: SpanRecord, column: int, text: str) -> tuple[dict | None, str]:
        """The SpanEditCommand fields for a typed cell, or (None, why not)."""
        if column in (START, END):
            t = parse_seconds(text)
            if t is None:
                return None, f"“{text}” is not a time: type seconds (12.5) or m:ss.sss"
            start, end = (t, span.end) if column == START else (span.start, t)
            if end - start < 0.001:
                return None, f"A span must start before it ends ({start:.3f} s is not before {end:.3f} s)"
            if abs((span.start, span.end)[column] - t) < 0.0005:
                return None, ""  # the same time, retyped
            return {"start": start, "end": end}, ""
        if column == LABEL:
            value = text.strip()
            labels = list(self.panel.project.labels()) if self.panel.project is not None else []
            if value == span.value:
                return None, ""
            match = next((lab for lab in labels if lab.lower() == value.lower()), None)
            if match is None:
                return None, f"“{value}” is not a label of this set ({', '.join(labels)})"
            return {"value": match}, ""
        if column == COMMENT:
            if text.strip() == span.comment:
                return None, ""
            return {"comment": text}, ""
        return None, ""

    def _restore(self, item: QTableWidgetItem, span: SpanRecord, column: int) -> None:
        stored = (f"{span.start:.3f}", f"{span.end:.3f}", span.value, span.annotator, span.comment)[column]
        self._filling = True
        item.setText(stored)
        self._filling = False

    # -- selection -----------------------------------------------------------------------------------
    @Slot(int, int, int, int)
    def _on_current_cell(self, row: int, _column: int, previous_row: int, _previous_column: int) -> None:
        if self._filling or row < 0 or row >= len(self.spans) or row == previous_row:
            return
        span = self.spans[row]
        self.panel.lane.select(span.id)
        clock = self.panel.clock
        if clock is not None and hasattr(clock, "seek"):
            clock.seek(span.start)


def install_span_table(window: Any) -> SpanTable:
    """Add the Spans tab beside Labels and History, fed by the labelling panel's clip state."""
    panel = window.labelling
    table = SpanTable(panel, window)
    window.inspector.addTab(table, "Spans")
    panel.state_changed.connect(table.show_state)
    window.current_clip_changed.connect(lambda _path: table.show_spans([]))  # its own come with its state
    window.clip_failed.connect(lambda _path: table.show_spans([]))
    panel.span_table = table
    return table
