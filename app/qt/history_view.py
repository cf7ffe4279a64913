"""The label history of the current clip (who, when, old -> new, source), with Undo and Redo buttons.

Shows plain ``LabelRecord`` rows it is given; it never queries the database (the labelling panel
fetches history off the GUI thread and hands it over).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from affectscope.db.records import LabelRecord


def describe(rec: LabelRecord) -> str:
    """One line: time, who, what happened (old -> new), where, and the source when not a person."""
    when = rec.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    where = f" [{rec.start:.3f}–{rec.end:.3f} s]" if rec.start is not None else ""
    source = "" if rec.source == "human" else f" ({rec.source})"
    if rec.edit is not None:
        what = _describe_edit(rec)
        where = ""  # the edit names its bounds itself
        flag = "  (undone)" if rec.undone else ""
    elif rec.action == "set":
        what = f"{rec.previous or '—'} → {rec.value}"
        flag = "  (undone)" if rec.undone else ""
    else:
        what = f"{rec.action} “{rec.value}”"
        flag = ""
    return f"{when}  {rec.annotator}: {what}{where}{source}{flag}"


def _describe_edit(rec: LabelRecord) -> str:
    """A span edit: what was replaced and how ("moved “happy” 1.000–2.000 → 1.000–2.500 s")."""
    old = f"{rec.previous_start:.3f}–{rec.previous_end:.3f} s" if rec.previous_start is not None else "?"
    new = f"{rec.start:.3f}–{rec.end:.3f} s"
    if rec.edit == "delete":
        return f"deleted span “{rec.value}” [{old}]"
    if rec.edit == "relabel":
        return f"span {rec.previous or '—'} → {rec.value} [{new}]"
    if rec.edit == "comment":
        return f"commented span “{rec.value}” [{new}]"
    if rec.edit == "move":
        return f"moved span “{rec.value}” {old} → {new}"
    return f"changed span {rec.previous or '—'} [{old}] → {rec.value} [{new}]"


class HistoryView(QWidget):
    """A list of history rows, newest first; Undo/Redo act on the chosen annotator's own stack."""

    undo_requested = Signal()
    redo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("History", self)
        self.list = QListWidget(self)
        self.list.setAlternatingRowColors(True)
        self.undo_button = QPushButton("Undo (Ctrl+Z)", self)
        self.redo_button = QPushButton("Redo (Ctrl+Shift+Z)", self)
        self.undo_button.clicked.connect(self.undo_requested)
        self.redo_button.clicked.connect(self.redo_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.redo_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.records: list[LabelRecord] = []

    def show_history(self, records: list[LabelRecord], clip_name: str = "") -> None:
        self.records = list(records)
        self.list.clear()
        for rec in self.records:
            item = QListWidgetItem(describe(rec))
            if rec.undone:
                font = item.font()
                font.setStrikeOut(True)
                item.setFont(font)
            self.list.addItem(item)
        self.title.setText(f"History of {clip_name}" if clip_name else "History")

    def set_stack_state(self, can_undo: bool, can_redo: bool) -> None:
        self.undo_button.setEnabled(can_undo)
        self.redo_button.setEnabled(can_redo)
