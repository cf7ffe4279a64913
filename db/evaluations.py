"""Evaluation runs stored in the project: which model (version and weights hash) against which labels
(one annotator, the clips' current labels, the annotators' majority, a study's readers, a manifest),
on which clips, when, with every clip's prediction, so a run can be reopened, compared and redrawn.

Also the figure specs written from the project (to regenerate a figure) and clip selections sent
from the analysis view to other rooms (the relabel queue, a new reader study).

Items keep class indices into the run's label list (``labels_json``), so the confusion view is one
``GROUP BY`` over an index on (run, true, predicted) and a clicked cell one indexed range read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from affectscope import strict_json
from affectscope.db.label_sets import LabelError, utcnow
from affectscope.db.schema import Base, Clip

SELECTION_PURPOSES = ("relabel", "study")


class EvaluationRun(Base):
    __tablename__ = "evaluation_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"), nullable=True)
    model_name: Mapped[str] = mapped_column(String(128))
    weights_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    label_set: Mapped[str] = mapped_column(String(64))
    labels_json: Mapped[str] = mapped_column(Text)
    # "current" | "majority" | "annotator:NAME" | "study:ID" | "manifest:PATH"
    label_source: Mapped[str] = mapped_column(String(256))
    clip_set: Mapped[str] = mapped_column(Text)  # JSON: how the clips were chosen
    n_items: Mapped[int] = mapped_column(Integer, default=0)
    report_json: Mapped[str] = mapped_column(Text, default="{}")  # cached metrics (recomputable)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class EvaluationItem(Base):
    """One clip of a run: true and predicted class, the fused probabilities, each modality head's,
    and the time of the window where the model was most confident in a wrong class."""

    __tablename__ = "evaluation_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id"))
    clip_id: Mapped[int | None] = mapped_column(ForeignKey("clips.id"), nullable=True)
    path: Mapped[str] = mapped_column(String(1024))
    true_index: Mapped[int] = mapped_column(Integer)
    pred_index: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    probs_json: Mapped[str] = mapped_column(Text)
    modality_json: Mapped[str] = mapped_column(Text, default="{}")  # {modality: [probs]}
    worst_t: Mapped[float | None] = mapped_column(Float, nullable=True)
    __table_args__ = (Index("ix_evaluation_items_cell", "run_id", "true_index", "pred_index", "confidence"),)


class FigureSpecRow(Base):
    __tablename__ = "figure_specs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text)
    output: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ClipSelection(Base):
    """Clips sent from the analysis view to another room; ``consumed_at`` set by whoever took them."""

    __tablename__ = "clip_selections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # relabel | study
    source: Mapped[str] = mapped_column(Text)  # e.g. "run 3: true anger, predicted neutral"
    clip_ids_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


@dataclass(frozen=True)
class RunRecord:
    id: int
    model_name: str
    model_version_id: int | None
    weights_sha256: str | None
    label_set: str
    labels: tuple[str, ...]
    label_source: str
    clip_set: dict[str, Any]
    n_items: int
    created_at: datetime
    note: str = ""


@dataclass(frozen=True)
class ItemRecord:
    clip_id: int | None
    path: str
    true_index: int
    pred_index: int
    confidence: float
    worst_t: float | None


@dataclass(frozen=True)
class ItemInput:
    """What the service hands over for one clip of a new run."""

    clip_id: int | None
    path: str
    true_index: int
    probs: Sequence[float]
    modality_probs: dict[str, Sequence[float]] | None = None
    worst_t: float | None = None


def _run_record(r: EvaluationRun) -> RunRecord:
    return RunRecord(
        r.id,
        r.model_name,
        r.model_version_id,
        r.weights_sha256,
        r.label_set,
        tuple(json.loads(r.labels_json)),
        r.label_source,
        json.loads(r.clip_set),
        r.n_items,
        r.created_at,
        r.note,
    )


def create_run(
    session: Session,
    model_name: str,
    label_set: str,
    labels: Sequence[str],
    label_source: str,
    clip_set: dict[str, Any],
    items: Iterable[ItemInput],
    model_version_id: int | None = None,
    weights_sha256: str | None = None,
    note: str = "",
) -> int:
    """Store a run and its items in one transaction (bulk insert); returns the run id."""
    run = EvaluationRun(
        model_version_id=model_version_id,
        model_name=model_name,
        weights_sha256=weights_sha256,
        label_set=label_set,
        labels_json=strict_json.dumps(list(labels)),
        label_source=label_source,
        clip_set=strict_json.dumps(clip_set, sort_keys=True),
        n_items=0,
        report_json="{}",
        note=note,
        created_at=utcnow(),
    )
    session.add(run)
    session.flush()
    rows = []
    c = len(labels)
    for it in items:
        probs = [float(p) for p in it.probs]
        if len(probs) != c or not 0 <= it.true_index < c:
            raise LabelError(f"{it.path}: {len(probs)} probabilities / class {it.true_index} for {c} labels")
        best = max(range(c), key=probs.__getitem__)
        rows.append(
            {
                "run_id": run.id,
                "clip_id": it.clip_id,
                "path": it.path,
                "true_index": int(it.true_index),
                "pred_index": best,
                "confidence": probs[best],
                "probs_json": strict_json.dumps(probs),
                "modality_json": strict_json.dumps(
                    {k: [float(x) for x in v] for k, v in (it.modality_probs or {}).items()}
                ),
                "worst_t": it.worst_t,
            }
        )
        if len(rows) >= 5000:
            session.execute(EvaluationItem.__table__.insert(), rows)
            run.n_items += len(rows)
            rows = []
    if rows:
        session.execute(EvaluationItem.__table__.insert(), rows)
        run.n_items += len(rows)
    session.flush()
    return run.id


def list_runs(session: Session) -> list[RunRecord]:
    return [_run_record(r) for r in session.scalars(select(EvaluationRun).order_by(EvaluationRun.id))]


def get_run(session: Session, run_id: int) -> RunRecord:
    row = session.get(EvaluationRun, run_id)
    if row is None:
        raise LabelError(f"no evaluation run {run_id} in this project")
    return _run_record(row)


def run_arrays(session: Session, run_id: int) -> dict[str, list]:
    """Every item of a run, column-wise and in clip order: what metrics and figures are computed from."""
    rows = session.execute(
        select(
            EvaluationItem.clip_id,
            EvaluationItem.path,
            EvaluationItem.true_index,
            EvaluationItem.pred_index,
            EvaluationItem.probs_json,
            EvaluationItem.modality_json,
        )
        .where(EvaluationItem.run_id == run_id)
        .order_by(EvaluationItem.id)
    ).all()
    return {
        "clip_id": [r[0] for r in rows],
        "path": [r[1] for r in rows],
        "true": [r[2] for r in rows],
        "pred": [r[3] for r in rows],
        "probs": [json.loads(r[4]) for r in rows],
        "modality": [json.loads(r[5]) for r in rows],
    }


def confusion_counts(session: Session, run_id: int, n_classes: int) -> list[list[int]]:
    """The run's confusion matrix from one GROUP BY over the cell index."""
    cm = [[0] * n_classes for _ in range(n_classes)]
    q = (
        select(EvaluationItem.true_index, EvaluationItem.pred_index, func.count())
        .where(EvaluationItem.run_id == run_id)
        .group_by(EvaluationItem.true_index, EvaluationItem.pred_index)
    )
    for t, p, n in session.execute(q):
        cm[t][p] = int(n)
    return cm


def cell_items(
    session: Session, run_id: int, true_index: int, pred_index: int, limit: int | None = None
) -> list[ItemRecord]:
    """The clips of one confusion cell, most confident first (the worst mistakes lead the list)."""
    q = (
        select(
            EvaluationItem.clip_id,
            EvaluationItem.path,
            EvaluationItem.true_index,
            EvaluationItem.pred_index,
            EvaluationItem.confidence,
            EvaluationItem.worst_t,
        )
        .where(
            EvaluationItem.run_id == run_id,
            EvaluationItem.true_index == true_index,
            EvaluationItem.pred_index == pred_index,
        )
        .order_by(EvaluationItem.confidence.desc(), EvaluationItem.id.desc())
        .limit(limit)
    )
    # Core on the connection: no ORM result machinery for what may be 10,000s of plain rows.
    return [ItemRecord(*r) for r in session.connection().execute(q)]


def set_report(session: Session, run_id: int, report: dict[str, Any]) -> None:
    row = session.get(EvaluationRun, run_id)
    if row is not None:
        row.report_json = strict_json.dumps(report, sort_keys=True)


def cached_report(session: Session, run_id: int) -> dict[str, Any]:
    row = session.get(EvaluationRun, run_id)
    return json.loads(row.report_json) if row is not None else {}


def record_figure(session: Session, kind: str, spec: dict[str, Any], output: str) -> int:
    row = FigureSpecRow(
        kind=kind, spec_json=strict_json.dumps(spec, sort_keys=True), output=output, created_at=utcnow()
    )
    session.add(row)
    session.flush()
    return row.id


def figure_specs(session: Session) -> list[tuple[int, str, dict[str, Any], str]]:
    rows = session.scalars(select(FigureSpecRow).order_by(FigureSpecRow.id))
    return [(r.id, r.kind, json.loads(r.spec_json), r.output) for r in rows]


def add_selection(session: Session, purpose: str, clip_ids: Sequence[int], source: str) -> int:
    if purpose not in SELECTION_PURPOSES:
        raise LabelError(f"unknown purpose {purpose!r}; one of {', '.join(SELECTION_PURPOSES)}")
    known = set(session.scalars(select(Clip.id).where(Clip.id.in_(list(clip_ids)))))
    missing = [c for c in clip_ids if c not in known]
    if missing:
        raise LabelError(f"clips {missing[:5]} are not in this project")
    row = ClipSelection(
        purpose=purpose, source=source, clip_ids_json=strict_json.dumps(list(clip_ids)), created_at=utcnow()
    )
    session.add(row)
    session.flush()
    return row.id


def pending_selections(session: Session, purpose: str) -> list[tuple[int, str, list[int]]]:
    """(id, source, clip ids) of selections for ``purpose`` nobody has taken yet, oldest first."""
    q = select(ClipSelection).where(ClipSelection.purpose == purpose, ClipSelection.consumed_at.is_(None))
    return [
        (r.id, r.source, json.loads(r.clip_ids_json)) for r in session.scalars(q.order_by(ClipSelection.id))
    ]


def consume_selection(session: Session, selection_id: int) -> list[int]:
    row = session.get(ClipSelection, selection_id)
    if row is None:
        raise LabelError(f"no clip selection {selection_id}")
    row.consumed_at = utcnow()
    return json.loads(row.clip_ids_json)


def reference_labels(session: Session, label_set: str, source: str) -> dict[int, str]:
    """Whole-clip reference labels by source: "current" (each clip's current label), "majority" (the
    human annotators' most common current label; ties are left out) or "annotator:NAME"."""
    from affectscope.db.schema import Annotator, AnnotatorCurrent, ClipCurrent

    if source == "current":
        q = select(ClipCurrent.clip_id, ClipCurrent.value).where(ClipCurrent.label_set == label_set)
        return {c: v for c, v in session.execute(q)}
    q = (
        select(AnnotatorCurrent.clip_id, AnnotatorCurrent.value, Annotator.name)
        .join(Annotator, Annotator.id == AnnotatorCurrent.annotator_id)
        .where(AnnotatorCurrent.label_set == label_set, Annotator.kind == "human")
    )
    if source.startswith("annotator:"):
        who = source.split(":", 1)[1]
        return {c: v for c, v, name in session.execute(q) if name == who}
    if source != "majority":
        raise LabelError(f"unknown label source {source!r}: current, majority or annotator:NAME")
    votes: dict[int, dict[str, int]] = {}
    for c, v, _ in session.execute(q):
        votes.setdefault(c, {}).setdefault(v, 0)
        votes[c][v] += 1
    out = {}
    for c, counts in votes.items():
        ranked = sorted(counts.values(), reverse=True)
        if len(ranked) == 1 or ranked[0] > ranked[1]:
            out[c] = max(counts, key=counts.__getitem__)
    return out


def stored_lanes(session: Session, model_version_id: int, clip_id: int) -> list[str]:
    """The time lanes ("fused", each modality head, ...) a model version stored for a clip."""
    from affectscope.db.schema import TimePrediction

    q = (
        select(TimePrediction.modality)
        .where(TimePrediction.model_version_id == model_version_id, TimePrediction.clip_id == clip_id)
        .distinct()
    )
    return sorted(session.scalars(q))
