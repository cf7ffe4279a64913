"""The current labels as plain rows, for manifests and ELAN files (app/services/interop.py).

One join of the ``annotator_current`` cache with its clip and annotator serves both the list that
JSON and ELAN exports build and the stream that a CSV export of a million rows writes in batches.
The two exports leave out model output by different columns, as they always did: the list by the
label row's source, the stream by the annotator's kind (no extra join per row).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from affectscope.db.labels import aware
from affectscope.db.schema import Annotator, AnnotatorCurrent, Clip, Label


@dataclass(frozen=True)
class WholeClipLabel:
    """An annotator's current whole-clip label (``created_at`` aware UTC)."""

    clip_id: int
    path: str
    value: str
    annotator: str
    label_set: str
    created_at: datetime
    source: str


def _current(*columns) -> Select:  # noqa: ANN002
    return (
        select(*columns)
        .join(Clip, Clip.id == AnnotatorCurrent.clip_id)
        .join(Annotator, Annotator.id == AnnotatorCurrent.annotator_id)
    )


def current_whole_labels(
    session: Session,
    label_set: str | None = None,
    include_model: bool = False,
    clip_ids: Iterable[int] | None = None,
) -> list[WholeClipLabel]:
    """Every annotator's current whole-clip label (model rows only with ``include_model``)."""
    query = _current(
        Clip.id, Clip.path, AnnotatorCurrent.value, Annotator.name, AnnotatorCurrent.label_set,
        AnnotatorCurrent.created_at, Label.source,
    ).join(Label, Label.id == AnnotatorCurrent.label_id)  # fmt: skip
    if label_set:
        query = query.where(AnnotatorCurrent.label_set == label_set)
    if not include_model:
        query = query.where(Label.source != "model")
    if clip_ids is not None:
        query = query.where(Clip.id.in_(list(clip_ids)))
    return [
        WholeClipLabel(cid, path, value, who, lset, aware(at), source)
        for cid, path, value, who, lset, at, source in session.execute(query)
    ]


def stream_whole_labels(
    session: Session, label_set: str | None = None, include_model: bool = False, batch: int = 20_000
) -> Iterator[list[tuple[str, str, str, str, datetime]]]:
    """Batches of (path, value, annotator, label set, created_at naive UTC) in path, set, annotator
    order, read ``batch`` rows at a time (a CSV export of millions of rows never holds them all)."""
    query = _current(
        Clip.path, AnnotatorCurrent.value, Annotator.name, AnnotatorCurrent.label_set,
        AnnotatorCurrent.created_at,
    ).order_by(Clip.path, AnnotatorCurrent.label_set, Annotator.name)  # fmt: skip
    if label_set:
        query = query.where(AnnotatorCurrent.label_set == label_set)
    if not include_model:
        query = query.where(Annotator.kind != "model")
    for part in session.execute(query.execution_options(yield_per=batch)).partitions():
        yield [tuple(row) for row in part]


def clip_paths(session: Session, clip_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Clip id -> path, for these clips or all."""
    query = select(Clip.id, Clip.path)
    if clip_ids is not None:
        query = query.where(Clip.id.in_(sorted(set(clip_ids))))
    return dict(session.execute(query).all())


def clip_durations(session: Session) -> dict[int, float]:
    """Clip id -> duration in seconds."""
    return dict(session.execute(select(Clip.id, Clip.duration)).all())
