"""What each trained model version saw and what it scored, and which version is active.

``model_lineage`` holds one row per trained version: the label source, the exact label row ids it
trained on (and the snapshot time), its held-out clips with their true labels and its predictions on
them (so two versions can be compared on the same clips later), code version, weights hash and metrics.
``model_activations`` is append-only like labels: making a version active appends a row, and rolling
back appends a row that re-activates the version active before, so the history of what was active
when is never lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from affectscope import strict_json
from affectscope.db.label_sets import LabelError, utcnow
from affectscope.db.predictions import _version_record
from affectscope.db.records import ModelVersionRecord
from affectscope.db.schema import (
    Annotator,
    AnnotatorCurrent,
    Base,
    Clip,
    ClipCurrent,
    ClipPrediction,
    ModelVersion,
    TimePrediction,
)


class ModelLineage(Base):
    __tablename__ = "model_lineage"
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), primary_key=True)
    parent_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"), nullable=True)
    label_source: Mapped[str] = mapped_column(String(128))
    label_ids_json: Mapped[str] = mapped_column(Text)
    snapshot_at: Mapped[datetime] = mapped_column(DateTime)
    split_json: Mapped[str] = mapped_column(Text)
    heldout_json: Mapped[str] = mapped_column(Text)  # [[clip_id, true label, predicted label], ...]
    metrics_json: Mapped[str] = mapped_column(Text)
    code_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ModelActivation(Base):
    __tablename__ = "model_activations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label_set: Mapped[str] = mapped_column(String(64))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    reason: Mapped[str] = mapped_column(String(32))  # activate | rollback
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_model_activations_set", "label_set", "id"),)


class ClipFlag(Base):
    """A clip an annotator flagged from the relabel queue (append-only, like labels)."""

    __tablename__ = "clip_flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"))
    label_set: Mapped[str] = mapped_column(String(64))
    annotator: Mapped[str] = mapped_column(String(128))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


@dataclass(frozen=True)
class Vote:
    """One annotator's current whole-clip label: what a training snapshot or a disagreement score reads."""

    clip_id: int
    path: str
    annotator: str
    label_id: int
    value: str
    created_at: datetime


@dataclass(frozen=True)
class LineageRecord:
    model_version_id: int
    name: str
    version: str
    label_set: str
    weights_sha256: str | None
    parent_version_id: int | None
    label_source: str
    label_ids: tuple[int, ...]
    snapshot_at: datetime
    split: dict[str, Any]
    heldout: tuple[tuple[int, str, str], ...]
    metrics: dict[str, Any]
    code_version: str
    created_at: datetime


def record_lineage(
    session: Session,
    model_version_id: int,
    label_source: str,
    label_ids: list[int],
    snapshot_at: datetime,
    split: dict[str, Any],
    heldout: list[tuple[int, str, str]],
    metrics: dict[str, Any],
    code_version: str,
    parent_version_id: int | None = None,
) -> None:
    """Write a version's lineage once; a second write for the same version is refused (it is history)."""
    if session.get(ModelVersion, model_version_id) is None:
        raise LabelError(f"no model version with id {model_version_id}")
    if session.get(ModelLineage, model_version_id) is not None:
        raise LabelError(f"model version {model_version_id} already has its lineage on record")
    session.add(
        ModelLineage(
            model_version_id=model_version_id,
            parent_version_id=parent_version_id,
            label_source=label_source,
            label_ids_json=strict_json.dumps(sorted(int(i) for i in label_ids)),
            snapshot_at=snapshot_at,
            split_json=strict_json.dumps(split, sort_keys=True, default=str),
            heldout_json=strict_json.dumps([list(h) for h in heldout]),
            metrics_json=strict_json.dumps(metrics, sort_keys=True, default=float),
            code_version=code_version,
            created_at=utcnow(),
        )
    )
    session.flush()


def _record(row: ModelLineage, version: ModelVersion) -> LineageRecord:
    return LineageRecord(
        row.model_version_id,
        version.name,
        version.version,
        version.label_set,
        version.weights_sha256,
        row.parent_version_id,
        row.label_source,
        tuple(json.loads(row.label_ids_json)),
        row.snapshot_at,
        json.loads(row.split_json),
        tuple((int(c), str(t), str(p)) for c, t, p in json.loads(row.heldout_json)),
        json.loads(row.metrics_json),
        row.code_version,
        row.created_at,
    )


def lineage(session: Session, model_version_id: int) -> LineageRecord | None:
    row = session.get(ModelLineage, model_version_id)
    return None if row is None else _record(row, session.get(ModelVersion, model_version_id))


def lineage_of_weights(session: Session, weights_sha256: str | None) -> LineageRecord | None:
    """The newest version trained in this project with these weights (whatever row names it), or None."""
    if not weights_sha256:
        return None
    row = session.execute(
        select(ModelLineage, ModelVersion)
        .join(ModelVersion, ModelVersion.id == ModelLineage.model_version_id)
        .where(ModelVersion.weights_sha256 == weights_sha256)
        .order_by(ModelLineage.model_version_id.desc())
    ).first()
    return None if row is None else _record(*row)


def trained_versions(session: Session, label_set: str | None = None) -> list[LineageRecord]:
    """Every version with a lineage, oldest first."""
    query = select(ModelLineage, ModelVersion).join(
        ModelVersion, ModelVersion.id == ModelLineage.model_version_id
    )
    if label_set is not None:
        query = query.where(ModelVersion.label_set == label_set)
    return [_record(r, v) for r, v in session.execute(query.order_by(ModelLineage.model_version_id))]


def activate(session: Session, label_set: str, model_version_id: int, reason: str = "activate") -> None:
    version = session.get(ModelVersion, model_version_id)
    if version is None:
        raise LabelError(f"no model version with id {model_version_id}")
    if version.label_set != label_set:
        raise LabelError(f"model version {model_version_id} predicts {version.label_set}, not {label_set}")
    session.add(
        ModelActivation(
            label_set=label_set, model_version_id=model_version_id, reason=reason, created_at=utcnow()
        )
    )
    session.flush()


def activations(session: Session, label_set: str) -> list[int]:
    """Version ids in the order they were made active (newest last)."""
    return list(
        session.scalars(
            select(ModelActivation.model_version_id)
            .where(ModelActivation.label_set == label_set)
            .order_by(ModelActivation.id)
        )
    )


def active_version(session: Session, label_set: str) -> int | None:
    done = activations(session, label_set)
    return done[-1] if done else None


def rollback_target(session: Session, label_set: str) -> int:
    """The version that was active before the current one (what a rollback re-activates)."""
    done = activations(session, label_set)
    current = done[-1] if done else None
    earlier = [v for v in reversed(done[:-1]) if v != current]
    if not earlier:
        raise LabelError(f"no earlier active version of {label_set} to roll back to")
    return earlier[0]


def rollback(session: Session, label_set: str) -> int:
    """Re-activate the version that was active before the current one; returns its id."""
    target = rollback_target(session, label_set)
    activate(session, label_set, target, reason="rollback")
    return target


def current_votes(session: Session, label_set: str) -> list[Vote]:
    """Every human annotator's current whole-clip label on present clips, oldest first."""
    query = (
        select(AnnotatorCurrent, Annotator.name, Clip.path)
        .join(Annotator, Annotator.id == AnnotatorCurrent.annotator_id)
        .join(Clip, Clip.id == AnnotatorCurrent.clip_id)
        .where(AnnotatorCurrent.label_set == label_set, Annotator.kind == "human", Clip.status == "ok")
        .order_by(AnnotatorCurrent.label_id)
    )
    return [
        Vote(r.clip_id, path, name, r.label_id, r.value, r.created_at)
        for r, name, path in session.execute(query)
    ]


def latest_labels(session: Session, label_set: str) -> list[Vote]:
    """The clips' current labels (newest human label in effect), as votes of whoever gave them."""
    query = (
        select(ClipCurrent, Annotator.name, Clip.path)
        .join(Annotator, Annotator.id == ClipCurrent.annotator_id)
        .join(Clip, Clip.id == ClipCurrent.clip_id)
        .where(ClipCurrent.label_set == label_set, Clip.status == "ok")
        .order_by(ClipCurrent.clip_id)
    )
    return [
        Vote(r.clip_id, path, name, r.label_id, r.value, r.created_at)
        for r, name, path in session.execute(query)
    ]


def version_clip_probs(session: Session, model_version_id: int) -> dict[int, tuple[list[float], datetime]]:
    """clip id -> (probabilities, when predicted) of one version's whole-clip predictions."""
    rows = session.scalars(select(ClipPrediction).where(ClipPrediction.model_version_id == model_version_id))
    return {r.clip_id: (json.loads(r.probs_json), r.created_at) for r in rows}


def version_timelines(
    session: Session, model_version_id: int
) -> dict[int, dict[str, list[tuple[float, list[float]]]]]:
    """clip id -> modality -> [(t_start, probs)] of one version's time predictions."""
    out: dict[int, dict[str, list[tuple[float, list[float]]]]] = {}
    rows = session.execute(
        select(
            TimePrediction.clip_id, TimePrediction.modality, TimePrediction.t_start, TimePrediction.probs_json
        )
        .where(TimePrediction.model_version_id == model_version_id)
        .order_by(TimePrediction.clip_id, TimePrediction.modality, TimePrediction.t_start)
    )
    for clip_id, modality, t0, probs in rows:
        out.setdefault(clip_id, {}).setdefault(modality, []).append((t0, json.loads(probs)))
    return out


def versions_with_predictions(session: Session, label_set: str) -> list[int]:
    """Ids of versions in this label set that have whole-clip predictions, newest first."""
    ids = session.scalars(
        select(ModelVersion.id)
        .join(ClipPrediction, ClipPrediction.model_version_id == ModelVersion.id)
        .where(ModelVersion.label_set == label_set)
        .distinct()
    )
    return sorted(ids, reverse=True)


def untrained_versions_with_predictions(
    session: Session, label_set: str
) -> list[tuple[ModelVersionRecord, int]]:
    """Versions of ``label_set`` with stored whole-clip predictions and no lineage here (shipped weights,
    imported model files, imported predictions), oldest first, each with how many clips it predicted."""
    query = (
        select(ModelVersion, func.count(ClipPrediction.clip_id.distinct()))
        .join(ClipPrediction, ClipPrediction.model_version_id == ModelVersion.id)
        .outerjoin(ModelLineage, ModelLineage.model_version_id == ModelVersion.id)
        .where(ModelVersion.label_set == label_set, ModelLineage.model_version_id.is_(None))
        .group_by(ModelVersion.id)
        .order_by(ModelVersion.id)
    )
    return [(_version_record(v), int(n)) for v, n in session.execute(query)]


def flag_clip(session: Session, clip_id: int, label_set: str, annotator: str, note: str = "") -> None:
    session.add(
        ClipFlag(clip_id=clip_id, label_set=label_set, annotator=annotator, note=note, created_at=utcnow())
    )
    session.flush()


def flagged_clips(session: Session, label_set: str) -> set[int]:
    return set(session.scalars(select(ClipFlag.clip_id).where(ClipFlag.label_set == label_set)))


def version_record(session: Session, model_version_id: int) -> ModelVersionRecord:
    row = session.get(ModelVersion, model_version_id)
    if row is None:
        raise LabelError(f"no model version with id {model_version_id}")
    return _version_record(row)


def clip_states(session: Session) -> list[tuple[int, str, str, datetime]]:
    """(id, status, path, updated_at) of every clip: what decides whether a prediction is stale."""
    return [tuple(r) for r in session.execute(select(Clip.id, Clip.status, Clip.path, Clip.updated_at))]
