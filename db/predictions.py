"""Model versions and their predictions, per clip and per time window. Written by the models team's code
(through the application layer) with these functions; read by the browser, timelines and evaluation.

A prediction is not a label: it lives in its own tables. ``add_predictions(..., as_label=True)`` also
appends the predicted class to the label history with source "model", annotated by the model version,
so history shows what the model said; model rows never become a clip's current label.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from affectscope import strict_json
from affectscope.db.label_sets import LabelError, utcnow
from affectscope.db.labels import add_label
from affectscope.db.records import ModelVersionRecord, PredictionRecord
from affectscope.db.schema import ClipPrediction, ModelVersion, TimePrediction


def _version_record(row: ModelVersion) -> ModelVersionRecord:
    return ModelVersionRecord(
        row.id,
        row.name,
        row.version,
        row.label_set,
        tuple(json.loads(row.labels_json)),
        row.weights_sha256,
        json.loads(row.config_json),
    )


def record_model_version(
    session: Session,
    name: str,
    version: str,
    label_set: str,
    labels: Sequence[str],
    weights_sha256: str | None = None,
    config: dict | None = None,
) -> ModelVersionRecord:
    """Get or create the (name, version) row; the same name+version with other weights is an error."""
    row = session.scalar(
        select(ModelVersion).where(ModelVersion.name == name, ModelVersion.version == version)
    )
    if row is not None:
        if weights_sha256 and row.weights_sha256 and row.weights_sha256 != weights_sha256:
            raise LabelError(
                f"model {name} version {version} has other weights on record; give it a new version"
            )
        return _version_record(row)
    row = ModelVersion(
        name=name,
        version=version,
        label_set=label_set,
        labels_json=strict_json.dumps(list(labels)),
        weights_sha256=weights_sha256,
        config_json=strict_json.dumps(config or {}, sort_keys=True),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _version_record(row)


def _clip_record(r: ClipPrediction) -> PredictionRecord:
    """A clip decision row as a record (no times)."""
    probs = tuple(json.loads(r.probs_json))
    return PredictionRecord(r.model_version_id, r.clip_id, r.label, r.confidence, probs)


def _window_record(r: TimePrediction) -> PredictionRecord:
    """One window of a lane as a record."""
    return PredictionRecord(
        r.model_version_id,
        r.clip_id,
        r.label,
        r.confidence,
        tuple(json.loads(r.probs_json)),
        r.modality,
        r.t_start,
        r.t_end,
    )


def _check_probs(probs: Sequence[float], labels: tuple[str, ...]) -> tuple[float, ...]:
    values = tuple(float(p) for p in probs)
    if not all(math.isfinite(v) for v in values):
        raise LabelError(f"probabilities must be finite numbers; got {list(values)}: nothing was stored")
    if len(values) != len(labels):
        raise LabelError(f"{len(values)} probabilities for {len(labels)} labels ({', '.join(labels)})")
    return values


def add_predictions(
    session: Session,
    model_version_id: int,
    clip_id: int,
    clip_probs: Sequence[float] | None = None,
    timeline: Sequence[tuple[float, float, Sequence[float]]] = (),
    modality: str = "fused",
    as_label: bool = False,
) -> int:
    """Store a clip-level prediction and/or a timeline of (t_start, t_end, probs) for one modality.

    Re-running the same model version on a clip replaces its earlier predictions (they are a pure
    function of clip and version). Returns the number of rows written.
    """
    version = session.get(ModelVersion, model_version_id)
    if version is None:
        raise LabelError(f"no model version with id {model_version_id}; record it first")
    labels = tuple(json.loads(version.labels_json))
    written = 0
    if clip_probs is not None:
        probs = _check_probs(clip_probs, labels)
        best = max(range(len(probs)), key=probs.__getitem__)
        session.execute(
            delete(ClipPrediction).where(
                ClipPrediction.model_version_id == model_version_id, ClipPrediction.clip_id == clip_id
            )
        )
        session.add(
            ClipPrediction(
                model_version_id=model_version_id,
                clip_id=clip_id,
                label=labels[best],
                confidence=probs[best],
                probs_json=strict_json.dumps(probs),
                created_at=utcnow(),
            )
        )
        written += 1
        if as_label:
            add_label(
                session,
                clip_id,
                version.label_set,
                labels[best],
                f"{version.name}@{version.version}",
                source="model",
            )
    if timeline:
        session.execute(
            delete(TimePrediction).where(
                TimePrediction.model_version_id == model_version_id,
                TimePrediction.clip_id == clip_id,
                TimePrediction.modality == modality,
            )
        )
        rows = []
        for t_start, t_end, window_probs in timeline:
            probs = _check_probs(window_probs, labels)
            best = max(range(len(probs)), key=probs.__getitem__)
            rows.append(
                {
                    "model_version_id": model_version_id,
                    "clip_id": clip_id,
                    "modality": modality,
                    "t_start": float(t_start),
                    "t_end": float(t_end),
                    "label": labels[best],
                    "confidence": probs[best],
                    "probs_json": strict_json.dumps(probs),
                }
            )
        session.execute(TimePrediction.__table__.insert(), rows)
        written += len(rows)
    session.flush()
    return written


def clip_predictions(session: Session, clip_id: int) -> list[PredictionRecord]:
    rows = session.scalars(
        select(ClipPrediction).where(ClipPrediction.clip_id == clip_id).order_by(ClipPrediction.id)
    )
    return [_clip_record(r) for r in rows]


def time_predictions(
    session: Session, model_version_id: int, clip_id: int, modality: str = "fused"
) -> list[PredictionRecord]:
    rows = session.scalars(
        select(TimePrediction)
        .where(
            TimePrediction.model_version_id == model_version_id,
            TimePrediction.clip_id == clip_id,
            TimePrediction.modality == modality,
        )
        .order_by(TimePrediction.t_start)
    )
    return [_window_record(r) for r in rows]


def versions_named(session: Session, name: str) -> list[ModelVersionRecord]:
    """Every recorded version of model ``name``, oldest first."""
    rows = session.scalars(select(ModelVersion).where(ModelVersion.name == name).order_by(ModelVersion.id))
    return [_version_record(r) for r in rows]


def version_ids_of_label_set(session: Session, label_set: str) -> set[int]:
    """Ids of the versions predicting ``label_set`` ("continuous": versions of continuous values)."""
    return set(session.scalars(select(ModelVersion.id).where(ModelVersion.label_set == label_set)))


def model_names(session: Session) -> list[str]:
    """Names of the models with a recorded version, in the order they were first recorded."""
    rows = session.execute(select(ModelVersion.name, ModelVersion.id).order_by(ModelVersion.id)).all()
    return list(dict.fromkeys(name for name, _ in rows))


def version_predictions(session: Session, model_version_id: int) -> list[PredictionRecord]:
    """All of a version's rows: per clip (in clip id order) its decision (no times) first, then each
    lane's windows by start time, lanes in the order they were stored."""
    out: list[PredictionRecord] = []
    decisions = session.scalars(
        select(ClipPrediction).where(ClipPrediction.model_version_id == model_version_id)
    )
    by_clip: dict[int, list[PredictionRecord]] = {}
    for r in decisions:
        by_clip.setdefault(r.clip_id, []).append(_clip_record(r))
    windows = session.scalars(
        select(TimePrediction)
        .where(TimePrediction.model_version_id == model_version_id)
        .order_by(TimePrediction.clip_id, TimePrediction.id)
    )
    lanes: dict[int, dict[str, list[PredictionRecord]]] = {}
    for r in windows:
        lanes.setdefault(r.clip_id, {}).setdefault(r.modality, []).append(_window_record(r))
    for clip_id in sorted(set(by_clip) | set(lanes)):
        out.extend(by_clip.get(clip_id, [])[-1:])
        for rows in lanes.get(clip_id, {}).values():
            out.extend(sorted(rows, key=lambda p: p.t_start))
    return out


def newest_clip_lanes(
    session: Session, clip_id: int
) -> tuple[ModelVersionRecord, PredictionRecord, dict[str, list[PredictionRecord]]] | None:
    """The clip's newest whole-clip prediction, its model version and that version's lanes for the clip
    (modality -> windows by start time, lanes in the order they were stored); None when none is stored."""
    newest = session.scalar(
        select(ClipPrediction).where(ClipPrediction.clip_id == clip_id).order_by(ClipPrediction.id.desc())
    )
    if newest is None:
        return None
    version = session.get(ModelVersion, newest.model_version_id)
    order = session.execute(
        select(TimePrediction.modality, func.min(TimePrediction.id))
        .where(TimePrediction.model_version_id == version.id, TimePrediction.clip_id == clip_id)
        .group_by(TimePrediction.modality)
    ).all()
    lanes = {
        modality: time_predictions(session, version.id, clip_id, modality)
        for modality, _ in sorted(order, key=lambda r: r[1])
    }
    probs = tuple(json.loads(newest.probs_json))
    decision = PredictionRecord(newest.model_version_id, clip_id, newest.label, newest.confidence, probs)
    return _version_record(version), decision, lanes


def version_clip_probs(session: Session, model_version_id: int) -> dict[int, tuple[float, ...]]:
    """Whole-clip probabilities this model version already has: clip id -> probs (a batch resumes)."""
    rows = session.execute(
        select(ClipPrediction.clip_id, ClipPrediction.probs_json).where(
            ClipPrediction.model_version_id == model_version_id
        )
    )
    return {int(cid): tuple(json.loads(pj)) for cid, pj in rows}
