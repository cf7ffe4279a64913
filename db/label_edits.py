"""Span edits: move a span's edges, give it another value, or delete it, without changing any row.

An edit is an ordinary "set" row of the person who edits (so it sits on their undo stack, and undo/redo
work on it exactly as on any label) that names the span row it replaces (``replaces_id``, also its
``supersedes_id``: history shows old -> new) and says how (``edit``: move, relabel, change, delete).
While the edit is in effect the replaced row is not a current span; a "delete" row shows nothing
itself. Undoing the edit appends an undo row, and the old span is current again. Like db/labels.py,
every function takes a session from ``unit_of_work`` and never commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from affectscope.db.label_sets import LabelError, check_label, utcnow
from affectscope.db.labels import (
    _current_value,
    _lock_clip,
    _seconds,
    check_span,
    get_or_create_annotator,
)
from affectscope.db.records import LabelChange
from affectscope.db.schema import (
    ACTION_SET,
    EDIT_CHANGE,
    EDIT_COMMENT,
    EDIT_DELETE,
    EDIT_MOVE,
    EDIT_RELABEL,
    Label,
)


def current_span_row(session: Session, label_id: int) -> Label:
    """The span row ``label_id`` when it is a current span label, else a LabelError saying why not."""
    row = session.get(Label, label_id)
    if row is None or row.action != ACTION_SET or row.start_ms is None or row.source == "model":
        raise LabelError(f"label {label_id} is not a span label")
    _lock_clip(session, row.clip_id)
    now = _current_value(session, row.clip_id, row.label_set, (row.start_ms, row.end_ms))
    if now is None or now.id != row.id:
        raise LabelError(
            f"the span {row.start_ms / 1000:.3f}–{row.end_ms / 1000:.3f} s was changed or deleted meanwhile"
        )
    return row


def edit_span(
    session: Session,
    label_id: int,
    annotator: str,
    start: float | None = None,
    end: float | None = None,
    value: str | None = None,
    delete: bool = False,
    comment: str | None = None,
) -> LabelChange:
    """Replace the current span ``label_id``: new edges (seconds), value and/or comment, or ``delete`` it.

    Edges, value or comment left as None keep the old ones. Appends one row and returns what changed.
    """
    old = current_span_row(session, label_id)
    clip = _lock_clip(session, old.clip_id)
    old_ms = (old.start_ms, old.end_ms)
    if delete:
        span_ms, new_value, kind = old_ms, old.value, EDIT_DELETE
    else:
        span_ms = check_span(
            clip,
            (
                old_ms[0] / 1000.0 if start is None else start,
                old_ms[1] / 1000.0 if end is None else end,
            ),
        )
        new_value = old.value if value is None else value
        check_label(session, old.label_set, new_value)
        moved, relabelled = span_ms != old_ms, new_value != old.value
        commented = comment is not None and (comment.strip() or None) != old.comment
        if not (moved or relabelled or commented):
            raise LabelError("the span already has these edges, label and comment: nothing to change")
        if moved or relabelled:
            kind = EDIT_CHANGE if moved and relabelled else EDIT_MOVE if moved else EDIT_RELABEL
        else:
            kind = EDIT_COMMENT
    new_comment = old.comment if comment is None else (comment.strip() or None)
    who = get_or_create_annotator(session, annotator)
    row = Label(
        clip_id=old.clip_id,
        label_set=old.label_set,
        value=new_value,
        start_ms=span_ms[0],
        end_ms=span_ms[1],
        annotator_id=who.id,
        source="human",
        action=ACTION_SET,
        supersedes_id=old.id,
        replaces_id=old.id,
        edit=kind,
        comment=new_comment,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return LabelChange(
        row.id,
        ACTION_SET,
        old.clip_id,
        old.label_set,
        *_seconds(span_ms),
        old.value,
        None if delete else new_value,
        who.name,
    )
