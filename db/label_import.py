"""Appending many imported labels in one transaction: the history read once per clip, rows inserted in bulk.

Rules are those of ``labels.add_label`` (a set row that names the clip's current value as the one it
supersedes, caches refreshed), applied to a whole manifest at once, and a row already there is not
appended again, so importing the same manifest twice adds nothing. A row is already there when its
annotator's current value for that clip, label set and span equals it, or when that annotator has a
row in effect there with the same value and the same ``created_at`` (or, for rows that give no time,
one that came from an import): a manifest holding several rows per clip and annotator is then
idempotent too. The caller validates values, spans and label sets first (db/labels.check_span,
label_sets.check_label).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from affectscope.db.label_sets import utcnow
from affectscope.db.labels import get_or_create_annotator, refresh_current_many
from affectscope.db.schema import ACTION_SET, ACTION_UNDO, EDIT_DELETE, Clip, Label

_CHUNK = 500  # clip ids per IN (...) query: well under SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class NewLabel:
    """One validated row to import: times in stored milliseconds, ``created_at`` naive UTC or None."""

    clip_id: int
    label_set: str
    value: str
    annotator: str
    start_ms: int | None
    end_ms: int | None
    created_at: datetime | None


@dataclass
class _Live:
    """A set row in effect, as much of it as the duplicate and supersede rules need."""

    id: int | None  # None until inserted
    annotator_id: int
    value: str
    created_at: datetime
    source: str


@dataclass
class _Key:
    """One clip, label set and span: its current row (any annotator) and each annotator's rows in effect."""

    current: _Live | None = None
    by_annotator: dict[int, list[_Live]] | None = None

    def mine(self, annotator_id: int) -> list[_Live]:
        if self.by_annotator is None:
            self.by_annotator = {}
        return self.by_annotator.setdefault(annotator_id, [])


def _load_keys(session: Session, clip_ids: list[int], label_sets: set[str]) -> dict[tuple, _Key]:
    """The state of every (clip, label set, span) of these clips, from their history, in a few queries."""
    keys: dict[tuple, _Key] = {}
    for i in range(0, len(clip_ids), _CHUNK):
        chunk = clip_ids[i : i + _CHUNK]
        # Serialize with other writers of these clips on PostgreSQL, as labels._lock_clip does per clip.
        session.execute(select(Clip.id).where(Clip.id.in_(chunk)).order_by(Clip.id).with_for_update())
        rows = session.execute(
            select(
                Label.id, Label.clip_id, Label.label_set, Label.start_ms, Label.end_ms, Label.annotator_id,
                Label.value, Label.source, Label.action, Label.target_id, Label.replaces_id, Label.edit,
                Label.created_at,
            )
            .where(Label.clip_id.in_(chunk), Label.label_set.in_(sorted(label_sets)))
            .order_by(Label.id)
        ).all()  # fmt: skip
        last_action: dict[int, str] = {}
        for r in rows:
            if r.action != ACTION_SET:
                last_action[r.target_id] = r.action
        undone = {target for target, action in last_action.items() if action == ACTION_UNDO}
        replaced = {
            r.replaces_id for r in rows if r.action == ACTION_SET and r.replaces_id and r.id not in undone
        }
        for r in rows:
            if r.action != ACTION_SET or r.source == "model" or r.id in undone:
                continue
            key = keys.setdefault((r.clip_id, r.label_set, r.start_ms, r.end_ms), _Key())
            gone = r.edit == EDIT_DELETE or (r.start_ms is not None and r.id in replaced)
            key.current = None if gone else _Live(r.id, r.annotator_id, r.value, r.created_at, r.source)
            if gone:
                key.mine(r.annotator_id).clear()  # the newest row decides: a deleted span is not there
            else:
                key.mine(r.annotator_id).append(key.current)
    return keys


def _already_there(mine: list[_Live], row: NewLabel) -> bool:
    if mine and mine[-1].value == row.value:
        return True  # that annotator's current value there: importing it again changes nothing
    return any(
        live.value == row.value
        and (live.created_at == row.created_at if row.created_at is not None else live.source == "import")
        for live in mine
    )


def import_labels(
    session: Session,
    rows: Sequence[NewLabel],
    source: str = "import",
    check: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Append ``rows`` (in their order per clip, label set and span); (appended, already there).

    Inserted in waves (the first new row of every key, then the second, ...) so that each row can name
    the row it supersedes with one multi-row INSERT per wave. ``check(n)`` is called between batches
    (progress, cancel). Never commits: the caller's unit of work makes the import all or nothing.
    """
    clip_ids = sorted({r.clip_id for r in rows})
    keys = _load_keys(session, clip_ids, {r.label_set for r in rows})
    annotators = {
        name: get_or_create_annotator(session, name).id for name in sorted({r.annotator for r in rows})
    }
    now = utcnow()
    waves: list[list[tuple[_Key, _Live, dict]]] = []
    depth: dict[tuple, int] = {}
    duplicates = 0
    for n, row in enumerate(rows):
        if check is not None and n % 5000 == 0:
            check(n)
        k = (row.clip_id, row.label_set, row.start_ms, row.end_ms)
        key = keys.setdefault(k, _Key())
        who = annotators[row.annotator]
        mine = key.mine(who)
        if _already_there(mine, row):
            duplicates += 1
            continue
        live = _Live(None, who, row.value, row.created_at or now, source)
        values = {
            "clip_id": row.clip_id,
            "label_set": row.label_set,
            "value": row.value,
            "start_ms": row.start_ms,
            "end_ms": row.end_ms,
            "annotator_id": who,
            "source": source,
            "action": ACTION_SET,
            "created_at": live.created_at,
        }
        wave = depth.get(k, 0)
        depth[k] = wave + 1
        if wave == len(waves):
            waves.append([])
        waves[wave].append((key, live, values))
        mine.append(live)
    appended = 0
    for wave in waves:
        # Within a wave every key appears once, so "the current row" is the one before this wave's.
        for key, _, values in wave:
            values["supersedes_id"] = key.current.id if key.current is not None else None
        table = Label.__table__  # Core, not ORM, insert: a third of the time for many rows
        ids = session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), [v for _, _, v in wave]
        ).all()
        for (key, live, _), row_id in zip(wave, ids, strict=True):
            live.id = row_id
            key.current = live
        appended += len(wave)
        if check is not None:
            check(len(rows))
    refresh_current_many(
        session,
        {(v["clip_id"], v["label_set"]) for wave in waves for _, _, v in wave if v["start_ms"] is None},
    )
    return appended, duplicates
