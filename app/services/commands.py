"""Label commands (STYLE.md §4): each ``do``/``undo`` touches data only and returns what changed.

``LabelCommand`` labels a clip or a span and can undo/redo itself; ``SpanEditCommand`` moves a span's
edges, relabels or deletes it (a new row that replaces the old one) and can undo/redo itself too.
``AnnotatorHistory`` is an
annotator's undo/redo stack, kept in the database (append-only undo/redo rows), so it survives
restarts and other annotators see the result. Each call is one unit of work: when it returns, the
change is committed. No window needed: tests, the CLI and the GUI drive these the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from affectscope.db import label_edits
from affectscope.db import labels as label_rows
from affectscope.db.engine import Database
from affectscope.db.records import LabelChange, LabelRecord
from affectscope.db.uow import unit_of_work


@dataclass
class LabelCommand:
    """Give ``value`` to a clip (or to ``span`` = (start, end) seconds) as ``annotator``."""

    db: Database
    clip_id: int
    label_set: str
    value: str
    annotator: str
    span: tuple[float, float] | None = None
    source: str = "human"
    label_id: int | None = field(default=None, init=False)

    def do(self) -> LabelChange:
        with unit_of_work(self.db, write=True) as s:
            change = label_rows.add_label(
                s,
                self.clip_id,
                self.label_set,
                self.value,
                self.annotator,
                span=self.span,
                source=self.source,
            )
        self.label_id = change.label_id
        return change

    def undo(self) -> LabelChange:
        return self._act(label_rows.ACTION_UNDO)

    def redo(self) -> LabelChange:
        return self._act(label_rows.ACTION_REDO)

    def _act(self, action: str) -> LabelChange:
        return _act(self.db, self.label_id, action, self.annotator)


def _act(db: Database, label_id: int | None, action: str, annotator: str) -> LabelChange:
    """Undo or redo the row a command appended (appends an undo/redo row naming it)."""
    if label_id is None:
        raise RuntimeError("do() first")
    with unit_of_work(db, write=True) as s:
        return label_rows.act_on(s, label_id, action, annotator)


@dataclass
class SpanEditCommand:
    """Edit the current span label ``span_id`` as ``annotator``: new ``start``/``end`` (seconds),
    ``value`` and/or ``comment``, or ``delete`` it. Nothing is overwritten: ``do`` appends a row
    replacing the span, ``undo`` appends an undo of that row (the old span is current again),
    ``redo`` applies the edit again."""

    db: Database
    span_id: int
    annotator: str
    start: float | None = None
    end: float | None = None
    value: str | None = None
    delete: bool = False
    comment: str | None = None  # a new free-text comment ("" clears it); None keeps it
    label_id: int | None = field(default=None, init=False)

    def do(self) -> LabelChange:
        with unit_of_work(self.db, write=True) as s:
            change = label_edits.edit_span(
                s,
                self.span_id,
                self.annotator,
                start=self.start,
                end=self.end,
                value=self.value,
                delete=self.delete,
                comment=self.comment,
            )
        self.label_id = change.label_id
        return change

    def undo(self) -> LabelChange:
        return _act(self.db, self.label_id, label_rows.ACTION_UNDO, self.annotator)

    def redo(self) -> LabelChange:
        return _act(self.db, self.label_id, label_rows.ACTION_REDO, self.annotator)


@dataclass
class AnnotatorHistory:
    """One annotator's undo/redo stack over all clips, persisted in the label history."""

    db: Database
    annotator: str

    def undo(self) -> LabelChange | None:
        """Undo this annotator's newest label still in effect; None when there is none."""
        with unit_of_work(self.db, write=True) as s:
            return label_rows.undo(s, self.annotator)

    def redo(self) -> LabelChange | None:
        with unit_of_work(self.db, write=True) as s:
            return label_rows.redo(s, self.annotator)

    def can_undo(self) -> bool:
        with unit_of_work(self.db) as s:
            return label_rows.undo_target(s, self.annotator) is not None

    def can_redo(self) -> bool:
        with unit_of_work(self.db) as s:
            return label_rows.redo_target(s, self.annotator) is not None


def clip_history(db: Database, clip_id: int | None, limit: int = 500) -> list[LabelRecord]:
    """Every label row of one clip (None: of every clip), newest first (who, when, old -> new, source,
    undone)."""
    with unit_of_work(db) as s:
        return label_rows.history(s, clip_id=clip_id, limit=limit)
