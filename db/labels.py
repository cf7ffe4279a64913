"""Append-only labels: give a label, undo and redo per annotator, read history and current values.

Every function takes a session from ``unit_of_work`` and never commits. A "set" row gives a value to a
whole clip or to a span ``[start, end)``; "undo" and "redo" rows name the set row they act on. A set
row is undone when the newest undo/redo row aimed at it is an undo. The current label of a clip is the
newest set row that is not undone (rows from models do not count: they are predictions, not truth);
the current label of a span is the same among rows with that exact span, unless that row is replaced by
a span edit in effect or is itself a deletion (db/label_edits.py). Each annotator's undo stack is their own
set rows, newest first; redo takes back their most recent undos until they set a new label.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from affectscope.db.label_sets import LabelError, check_label, utcnow
from affectscope.db.records import AnnotatorRecord, LabelChange, LabelRecord, SpanRecord
from affectscope.db.schema import (
    ACTION_REDO,
    ACTION_SET,
    ACTION_UNDO,
    EDIT_DELETE,
    SOURCES,
    Annotator,
    AnnotatorCurrent,
    Clip,
    ClipCurrent,
    Label,
)

MAX_SPAN_SECONDS = (2**31 - 1) / 1000.0  # start_ms and end_ms are 32-bit integer columns
MAX_ANNOTATOR_NAME = 128  # annotators.name is String(128): PostgreSQL refuses longer names mid-write


def aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def naive_utc(dt: datetime) -> datetime:
    """Stored form: naive UTC (an aware time is converted; a naive one is taken as UTC already)."""
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo is not None else dt


def to_ms(seconds: float) -> int:
    return int(round(float(seconds) * 1000.0))


def get_or_create_annotator(session: Session, name: str, kind: str = "human") -> Annotator:
    """The annotator called ``name``, created on first use (safe when two writers create it at once)."""
    name = name.strip()
    if not name:
        raise LabelError("an annotator needs a name")
    if len(name) > MAX_ANNOTATOR_NAME:
        raise LabelError(
            f"an annotator name may have at most {MAX_ANNOTATOR_NAME} characters; this one has {len(name)}"
        )
    found = session.scalar(select(Annotator).where(Annotator.name == name))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            annotator = Annotator(name=name, kind=kind, created_at=utcnow())
            session.add(annotator)
    except IntegrityError:  # another writer created it between our read and insert
        annotator = session.scalars(select(Annotator).where(Annotator.name == name)).one()
    return annotator


def list_annotators(session: Session) -> list[AnnotatorRecord]:
    rows = session.scalars(select(Annotator).order_by(Annotator.name)).all()
    return [AnnotatorRecord(a.id, a.name, a.kind) for a in rows]


def _lock_clip(session: Session, clip_id: int) -> Clip:
    """Serialize writers per clip on PostgreSQL (SQLite already holds the database write lock)."""
    clip = session.scalar(select(Clip).where(Clip.id == clip_id).with_for_update())
    if clip is None:
        raise LabelError(f"no clip with id {clip_id} in this project")
    return clip


def _undone_ids(session: Session, clip_id: int, label_set: str) -> set[int]:
    """Ids of set rows of this clip and label set that are undone now."""
    rows = session.execute(
        select(Label.target_id, Label.action)
        .where(Label.clip_id == clip_id, Label.label_set == label_set, Label.action != ACTION_SET)
        .order_by(Label.id)
    ).all()
    state: dict[int, str] = {}
    for target, action in rows:
        state[target] = action
    return {target for target, action in state.items() if action == ACTION_UNDO}


def _replaced_ids(session: Session, clip_id: int, label_set: str, undone: set[int]) -> set[int]:
    """Ids of span rows that a span edit in effect (not undone) replaces."""
    rows = session.execute(
        select(Label.id, Label.replaces_id).where(
            Label.clip_id == clip_id,
            Label.label_set == label_set,
            Label.action == ACTION_SET,
            Label.replaces_id.is_not(None),
        )
    ).all()
    return {replaced for row_id, replaced in rows if row_id not in undone}


def _is_undone(session: Session, label_id: int) -> bool:
    last = session.scalar(
        select(Label.action).where(Label.target_id == label_id).order_by(Label.id.desc()).limit(1)
    )
    return last == ACTION_UNDO


def _current_value(
    session: Session, clip_id: int, label_set: str, span: tuple[int, int] | None
) -> Label | None:
    """The current set row for the whole clip (``span=None``) or for exactly that span."""
    query = select(Label).where(
        Label.clip_id == clip_id,
        Label.label_set == label_set,
        Label.action == ACTION_SET,
        Label.source != "model",
    )
    if span is None:
        query = query.where(Label.start_ms.is_(None))
    else:
        query = query.where(Label.start_ms == span[0], Label.end_ms == span[1])
    undone = _undone_ids(session, clip_id, label_set)
    replaced = _replaced_ids(session, clip_id, label_set, undone) if span is not None else set()
    for row in session.scalars(query.order_by(Label.id.desc())):
        if row.id not in undone:
            # The span's newest row decides: replaced by an edit, or a deletion, leaves the span empty.
            return None if row.id in replaced or row.edit == EDIT_DELETE else row
    return None


def refresh_current(session: Session, clip_id: int, label_set: str) -> None:
    """Recompute the two caches of one clip and label set from its history."""
    refresh_current_many(session, [(clip_id, label_set)])


def refresh_current_many(session: Session, pairs: Iterable[tuple[int, str]]) -> None:
    """Recompute the caches of many (clip, label set) pairs with a few statements per 500 clips."""
    by_set: dict[str, list[int]] = defaultdict(list)
    for clip_id, label_set in sorted(set(pairs)):
        by_set[label_set].append(clip_id)
    for label_set, clip_ids in by_set.items():
        for i in range(0, len(clip_ids), 500):
            _refresh_chunk(session, clip_ids[i : i + 500], label_set)
    session.flush()


def _refresh_chunk(session: Session, clip_ids: list[int], label_set: str) -> None:
    rows = session.execute(
        select(
            Label.id, Label.clip_id, Label.annotator_id, Label.value, Label.created_at, Label.source,
            Label.action, Label.target_id,
        )
        .where(Label.clip_id.in_(clip_ids), Label.label_set == label_set, Label.start_ms.is_(None))
        .order_by(Label.id)
    ).all()  # fmt: skip
    # Undo/redo rows of whole-clip labels are whole-clip rows too, so these rows decide what is undone.
    state: dict[int, str] = {}
    for row in rows:
        if row.action != ACTION_SET:
            state[row.target_id] = row.action
    per_annotator: dict[int, dict[int, tuple]] = defaultdict(dict)
    for row in rows:
        if row.action == ACTION_SET and state.get(row.id) != ACTION_UNDO:
            per_annotator[row.clip_id][row.annotator_id] = row
    session.execute(
        delete(AnnotatorCurrent).where(
            AnnotatorCurrent.clip_id.in_(clip_ids), AnnotatorCurrent.label_set == label_set
        )
    )
    session.execute(
        delete(ClipCurrent).where(ClipCurrent.clip_id.in_(clip_ids), ClipCurrent.label_set == label_set)
    )
    annotator_rows, clip_rows = [], []
    for clip_id, current in per_annotator.items():
        for annotator_id, row in current.items():
            annotator_rows.append(
                {"clip_id": clip_id, "label_set": label_set, "annotator_id": annotator_id,
                 "label_id": row.id, "value": row.value, "created_at": row.created_at}
            )  # fmt: skip
        truth = [row for row in current.values() if row.source != "model"]
        if truth:
            newest = max(truth, key=lambda r: r.id)
            votes = Counter(r.value for r in truth)
            clip_rows.append(
                {"clip_id": clip_id, "label_set": label_set, "label_id": newest.id, "value": newest.value,
                 "annotator_id": newest.annotator_id, "created_at": newest.created_at,
                 "n_annotators": len(truth), "agreement": max(votes.values()) / len(truth)}
            )  # fmt: skip
    if annotator_rows:
        session.execute(insert(AnnotatorCurrent.__table__), annotator_rows)
    if clip_rows:
        session.execute(insert(ClipCurrent.__table__), clip_rows)


def add_label(
    session: Session,
    clip_id: int,
    label_set: str,
    value: str,
    annotator: str,
    span: tuple[float, float] | None = None,
    source: str = "human",
    created_at: datetime | None = None,
) -> LabelChange:
    """Append a set row: ``value`` for the whole clip, or for ``span`` = (start, end) seconds."""
    if source not in SOURCES:
        raise LabelError(f"label source must be one of {', '.join(SOURCES)}, not {source!r}")
    check_label(session, label_set, value)
    clip = _lock_clip(session, clip_id)
    span_ms = None if span is None else check_span(clip, span)
    who = get_or_create_annotator(session, annotator, kind="model" if source == "model" else "human")
    before = _current_value(session, clip_id, label_set, span_ms)
    row = Label(
        clip_id=clip_id,
        label_set=label_set,
        value=value,
        start_ms=span_ms[0] if span_ms else None,
        end_ms=span_ms[1] if span_ms else None,
        annotator_id=who.id,
        source=source,
        action=ACTION_SET,
        supersedes_id=before.id if before is not None else None,
        created_at=naive_utc(created_at) if created_at is not None else utcnow(),
    )
    session.add(row)
    session.flush()
    if span_ms is None:
        refresh_current(session, clip_id, label_set)
    new = value if source != "model" else (before.value if before else None)
    return LabelChange(
        row.id,
        ACTION_SET,
        clip_id,
        label_set,
        *_seconds(span_ms),
        before.value if before else None,
        new,
        who.name,
    )


def check_span(clip: Clip, span: tuple[float, float]) -> tuple[int, int]:
    """``span`` in seconds as stored milliseconds, or a LabelError saying what is wrong with it."""
    return span_ms_within(clip.duration, clip.fps, span)


def span_ms_within(duration: float, fps: float, span: tuple[float, float]) -> tuple[int, int]:
    """``span`` as milliseconds inside a clip of ``duration`` s (0: unknown); its end may pass the last
    frame's start by one frame (a span drawn to the end of the timeline), never more."""
    if not all(isinstance(t, (int, float)) and math.isfinite(t) for t in span):
        raise LabelError(f"a span needs finite times in seconds; got {span[0]}..{span[1]}")
    if max(abs(span[0]), abs(span[1])) > MAX_SPAN_SECONDS:
        raise LabelError(f"a span must lie within a clip; got {span[0]}..{span[1]} s")
    span_ms = (to_ms(span[0]), to_ms(span[1]))
    if span_ms[0] < 0 or span_ms[1] <= span_ms[0]:
        raise LabelError(f"a span must have 0 <= start < end; got {span[0]}..{span[1]} s")
    if duration > 0 and span_ms[0] >= to_ms(duration):
        raise LabelError(f"span start {span[0]} s lies after the clip's end ({duration:.3f} s)")
    frame = 1.0 / fps if fps and fps > 0 else 0.1
    if duration > 0 and span_ms[1] > to_ms(duration + frame):
        raise LabelError(f"span end {span[1]} s lies after the clip's end ({duration:.3f} s)")
    return span_ms


def _seconds(span_ms: tuple[int, int] | None) -> tuple[float | None, float | None]:
    return (None, None) if span_ms is None else (span_ms[0] / 1000.0, span_ms[1] / 1000.0)


def _act_on(session: Session, target: Label, action: str, who: Annotator) -> LabelChange:
    _lock_clip(session, target.clip_id)
    if action == ACTION_REDO and target.replaces_id is not None:
        # A span edit redone must replace the span it replaced; if someone changed that span meanwhile,
        # redoing would show two spans where there was one.
        old = session.get(Label, target.replaces_id)
        if _current_value(session, old.clip_id, old.label_set, (old.start_ms, old.end_ms)) is not old:
            raise LabelError(
                f"the span {old.start_ms / 1000:.3f}–{old.end_ms / 1000:.3f} s was changed by someone "
                "else after your undo: your edit cannot be redone"
            )
    span_ms = None if target.start_ms is None else (target.start_ms, target.end_ms)
    before = _current_value(session, target.clip_id, target.label_set, span_ms)
    row = Label(
        clip_id=target.clip_id,
        label_set=target.label_set,
        value=target.value,
        start_ms=target.start_ms,
        end_ms=target.end_ms,
        annotator_id=who.id,
        source="human",
        action=action,
        target_id=target.id,
        supersedes_id=before.id if before is not None else None,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    if span_ms is None:
        refresh_current(session, target.clip_id, target.label_set)
    after = _current_value(session, target.clip_id, target.label_set, span_ms)
    return LabelChange(
        row.id,
        action,
        target.clip_id,
        target.label_set,
        *_seconds(span_ms),
        before.value if before else None,
        after.value if after else None,
        who.name,
    )


def _annotator(session: Session, name: str) -> Annotator | None:
    return session.scalar(select(Annotator).where(Annotator.name == name))


def undo_target(session: Session, annotator: str) -> Label | None:
    """The set row the annotator's next undo acts on: their newest own label that is not undone."""
    who = _annotator(session, annotator)
    if who is None:
        return None
    query = (
        select(Label)
        .where(Label.annotator_id == who.id, Label.action == ACTION_SET, Label.source == "human")
        .order_by(Label.id.desc())
    )
    for row in session.scalars(query.execution_options(yield_per=64)):
        if not _is_undone(session, row.id):
            return row
    return None


def redo_target(session: Session, annotator: str) -> Label | None:
    """The set row the annotator's next redo restores: their latest undo not yet redone since their
    last new label."""
    who = _annotator(session, annotator)
    if who is None:
        return None
    pending_redos = 0
    query = (
        select(Label).where(Label.annotator_id == who.id, Label.source == "human").order_by(Label.id.desc())
    )
    for row in session.scalars(query.execution_options(yield_per=64)):
        if row.action == ACTION_SET:
            return None  # a new label empties the redo stack
        if row.action == ACTION_REDO:
            pending_redos += 1
        elif pending_redos:
            pending_redos -= 1
        else:
            target = session.get(Label, row.target_id)
            return target if target is not None and _is_undone(session, target.id) else None
    return None


def _lock_annotator(session: Session, who: Annotator) -> None:
    """Serialize one annotator's undos and redos on PostgreSQL: the target is chosen under this lock.

    Choosing it first and locking the clip afterwards let two simultaneous undos pick the same row
    and undo it twice (issue 23). Lock order is annotator, then clip, everywhere. SQLite's write
    transactions (BEGIN IMMEDIATE) are serialized already. ``FOR NO KEY UPDATE``, not ``FOR UPDATE``:
    a label insert by the same annotator takes ``FOR KEY SHARE`` on this row (its foreign key) while
    holding its clip's lock, and must not wait here (that would deadlock with an undo holding this row
    and waiting for the clip).
    """
    session.scalar(select(Annotator.id).where(Annotator.id == who.id).with_for_update(key_share=True))


def act_on(session: Session, label_id: int, action: str, annotator: str) -> LabelChange:
    """Undo or redo one specific set row (a command's own undo); the annotator must be its author."""
    target = session.get(Label, label_id)
    who = _annotator(session, annotator)
    if target is None or target.action != ACTION_SET:
        raise LabelError(f"label {label_id} does not exist or is not a label that can be undone")
    if who is None or target.annotator_id != who.id:
        raise LabelError(f"label {label_id} was given by another annotator; only its author can undo it")
    _lock_annotator(session, who)
    if (action == ACTION_UNDO) == _is_undone(session, label_id):
        raise LabelError(f"label {label_id} is already {'undone' if action == ACTION_UNDO else 'in effect'}")
    return _act_on(session, target, action, who)


def undo(session: Session, annotator: str) -> LabelChange | None:
    """Undo the annotator's newest label (appends an undo row); None when there is nothing to undo."""
    who = _annotator(session, annotator)
    if who is None:
        return None
    _lock_annotator(session, who)
    target = undo_target(session, annotator)
    if target is None:
        return None
    return _act_on(session, target, ACTION_UNDO, who)


def redo(session: Session, annotator: str) -> LabelChange | None:
    """Redo the annotator's most recent undo (appends a redo row); None when there is nothing to redo."""
    who = _annotator(session, annotator)
    if who is None:
        return None
    _lock_annotator(session, who)
    target = redo_target(session, annotator)
    if target is None:
        return None
    return _act_on(session, target, ACTION_REDO, who)


def current_label(session: Session, clip_id: int, label_set: str) -> LabelRecord | None:
    row = _current_value(session, clip_id, label_set, None)
    return None if row is None else history_by_ids(session, [row.id])[0]


def history_by_ids(session: Session, ids: Iterable[int]) -> list[LabelRecord]:
    ids = list(ids)
    if not ids:
        return []
    return _history(session, Label.id.in_(ids), limit=len(ids))


def history(
    session: Session,
    clip_id: int | None = None,
    annotator: str | None = None,
    label_set: str | None = None,
    limit: int = 500,
) -> list[LabelRecord]:
    """History rows, newest first, for a clip and/or an annotator (or the whole project)."""
    conds = []
    if clip_id is not None:
        conds.append(Label.clip_id == clip_id)
    if label_set is not None:
        conds.append(Label.label_set == label_set)
    if annotator is not None:
        conds.append(Annotator.name == annotator)
    return _history(session, and_(*conds) if conds else None, limit)


def _history(session: Session, where, limit: int) -> list[LabelRecord]:  # noqa: ANN001
    previous = aliased(Label)
    acting = aliased(Label)
    last_action = (
        select(acting.action).where(acting.target_id == Label.id).order_by(acting.id.desc()).limit(1)
    ).scalar_subquery()
    query = (
        select(
            Label, Annotator.name, Clip.path, previous.value, last_action, previous.start_ms, previous.end_ms
        )
        .join(Annotator, Annotator.id == Label.annotator_id)
        .join(Clip, Clip.id == Label.clip_id)
        .outerjoin(previous, previous.id == Label.supersedes_id)
        .order_by(Label.id.desc())
        .limit(limit)
    )
    if where is not None:
        query = query.where(where)
    out = []
    for row, name, path, prev, last, prev_start, prev_end in session.execute(query):
        out.append(
            LabelRecord(
                id=row.id,
                clip_id=row.clip_id,
                clip_path=path,
                label_set=row.label_set,
                value=row.value,
                start=None if row.start_ms is None else row.start_ms / 1000.0,
                end=None if row.end_ms is None else row.end_ms / 1000.0,
                annotator=name,
                source=row.source,
                action=row.action,
                target_id=row.target_id,
                previous=prev,
                created_at=aware(row.created_at),
                undone=row.action == ACTION_SET and last == ACTION_UNDO,
                edit=row.edit,
                replaces_id=row.replaces_id,
                previous_start=None if prev_start is None else prev_start / 1000.0,
                previous_end=None if prev_end is None else prev_end / 1000.0,
            )
        )
    return out


def current_spans(
    session: Session, clip_ids: Iterable[int] | None = None, label_set: str | None = None
) -> list[SpanRecord]:
    """Current span labels: per (clip, label set, start, end) the newest set row not undone."""
    conds = [Label.start_ms.is_not(None)]
    if clip_ids is not None:
        conds.append(Label.clip_id.in_(list(clip_ids)))
    if label_set is not None:
        conds.append(Label.label_set == label_set)
    rows = session.execute(
        select(Label, Annotator.name)
        .join(Annotator, Annotator.id == Label.annotator_id)
        .where(*conds)
        .order_by(Label.id)
    ).all()
    state: dict[int, str] = {}
    for row, _ in rows:
        if row.action != ACTION_SET:
            state[row.target_id] = row.action
    live = [
        (row, name)
        for row, name in rows
        if row.action == ACTION_SET and row.source != "model" and state.get(row.id) != ACTION_UNDO
    ]
    replaced = {row.replaces_id for row, _ in live if row.replaces_id is not None}
    current: dict[tuple, tuple[Label, str]] = {}
    for row, name in live:
        current[(row.clip_id, row.label_set, row.start_ms, row.end_ms)] = (row, name)
    # A span's newest row decides; one replaced by an edit in effect, or a deletion, shows nothing.
    current = {k: v for k, v in current.items() if v[0].id not in replaced and v[0].edit != EDIT_DELETE}
    spans = [
        SpanRecord(
            row.id,
            row.clip_id,
            row.label_set,
            row.value,
            row.start_ms / 1000.0,
            row.end_ms / 1000.0,
            name,
            row.source,
            aware(row.created_at),
            row.comment or "",
        )
        for row, name in current.values()
    ]
    return sorted(spans, key=lambda s: (s.clip_id, s.start, s.end, s.label_set))


def rebuild_current(session: Session) -> int:
    """Recompute every cache row from history (repair tool, and the test that the caches are right)."""
    pairs = session.execute(
        select(Label.clip_id, Label.label_set)
        .where(Label.start_ms.is_(None))
        .group_by(Label.clip_id, Label.label_set)
    ).all()
    for clip_id, label_set in pairs:
        refresh_current(session, clip_id, label_set)
    return len(pairs)


def label_counts(session: Session) -> dict[str, int]:
    """Rows per action, for reports and tests."""
    counts: dict[str, int] = defaultdict(int)
    for action, n in session.execute(select(Label.action, func.count()).group_by(Label.action)):
        counts[action] = n
    return dict(counts)
