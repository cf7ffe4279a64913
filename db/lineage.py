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

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from affectscope.db.label_sets import LabelError, utcnow
from affectscope.db.schema import Base, ModelVersion


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
            label_ids_json=json.dumps(sorted(int(i) for i in label_ids)),
            snapshot_at=snapshot_at,
            split_json=json.dumps(split, sort_keys=True, default=str),
            heldout_json=json.dumps([list(h) for h in heldout]),
            metrics_json=json.dumps(metrics, sort_keys=True, default=float),
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


def rollback(session: Session, label_set: str) -> int:
    """Re-activate the version that was active before the current one; returns its id."""
    done = activations(session, label_set)
    current = done[-1] if done else None
    earlier = [v for v in reversed(done[:-1]) if v != current]
    if not earlier:
        raise LabelError(f"no earlier active version of {label_set} to roll back to")
    activate(session, label_set, earlier[0], reason="rollback")
    return earlier[0]
