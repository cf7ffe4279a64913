"""Retraining from a project's labels, with lineage; comparing, activating and rolling back versions.

A retrain takes a label snapshot (one annotator, the majority of annotators, the latest label, or a
reader-study majority: the answers of the project's reader studies), holds out
a *stable* set of about a quarter of the clips (whole speakers where clips have speaker ids, else
clips, chosen in the order of a hash of the speaker or content), trains on the rest, predicts the
held-out clips, and records the new version with its lineage: the exact label row ids and snapshot
time, split, held-out predictions, metrics, weights hash and code version. Because held-out
membership depends only on the speakers or contents present, two versions trained on different
snapshots of the same clips are compared on the same held-out clips.

Activating a version computes its predictions for the clips that lack them or changed since (the
clip browser, timelines and queue read the active version), then writes them and appends to the
activation history in one transaction, so a kill never leaves a half-predicted active version.
Rolling back re-activates the previous version the same way; its stored predictions come back as
they were.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from affectscope.app.services.version_predictions import (
    QUICK_MODEL,
    RetrainError,
    missing_predictions,
    quick_file,
    write_predictions,
)
from affectscope.db import lineage as lineage_rows
from affectscope.db import predictions as pred_rows
from affectscope.db.label_sets import utcnow
from affectscope.db.uow import unit_of_work
from affectscope.jobs import Job, ensure_job

LABEL_SOURCES = ("latest", "majority", "annotator:NAME", "readers")
HELDOUT_SHARE = 0.25


@dataclass(frozen=True)
class TrainingLabel:
    clip_id: int
    path: str
    value: str
    label_ids: tuple[int, ...]  # the label rows that decided this value (empty for reader votes)


@dataclass
class RetrainResult:
    model_version_id: int
    weights: Path
    label_source: str
    n_train: int
    n_heldout: int
    history: list[dict[str, float]]
    report: dict[str, Any]
    split: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        keys = ("uar", "accuracy", "macro_f1", "ci", "collapsed", "warnings")
        return {
            "model_version_id": self.model_version_id,
            "weights": str(self.weights),
            "label_source": self.label_source,
            "n_train": self.n_train,
            "n_heldout": self.n_heldout,
            "split": self.split,
            "metrics": {k: self.report.get(k) for k in keys},
            "history": self.history,
        }


def code_version() -> str:
    from affectscope import __version__

    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return f"{__version__}+{rev}" if rev else __version__


def training_labels(project: Any, label_set: str, source: str) -> tuple[list[TrainingLabel], datetime]:
    """The labels a retrain sees, each with the label row ids behind it, and the snapshot time."""
    snapshot = utcnow()
    if source == "readers":
        from affectscope.app.services.queue import VOTE_SOURCES

        votes = VOTE_SOURCES["readers"](project, label_set)
        paths = {c.id: c.path for c in project.clips()}
        out = []
        for clip_id, vs in sorted(votes.items()):
            if vs and clip_id in paths:
                out.append(TrainingLabel(clip_id, paths[clip_id], Counter(vs).most_common(1)[0][0], ()))
        if not out:
            raise RetrainError(
                f"no reader-study answers in {label_set} about this project's clips yet; "
                "choose latest, majority or one annotator"
            )
        return out, snapshot
    with unit_of_work(project.db) as s:
        if source == "latest":
            rows = lineage_rows.latest_labels(s, label_set)
            return [TrainingLabel(v.clip_id, v.path, v.value, (v.label_id,)) for v in rows], snapshot
        votes = lineage_rows.current_votes(s, label_set)
    if source.startswith("annotator:"):
        who = source.split(":", 1)[1]
        mine = [v for v in votes if v.annotator == who]
        if not mine:
            raise RetrainError(f"annotator {who!r} has no labels in {label_set} in this project")
        return [TrainingLabel(v.clip_id, v.path, v.value, (v.label_id,)) for v in mine], snapshot
    if source != "majority":
        raise RetrainError(f"unknown label source {source!r}; choose one of {', '.join(LABEL_SOURCES)}")
    by_clip: dict[int, list] = {}
    for v in votes:
        by_clip.setdefault(v.clip_id, []).append(v)
    out = []
    for clip_id, vs in sorted(by_clip.items()):
        counts = Counter(v.value for v in vs)
        top = max(counts.values())
        # Ties go to the value voted most recently among the tied ones.
        winner = max((v for v in vs if counts[v.value] == top), key=lambda v: v.label_id).value
        ids = tuple(sorted(v.label_id for v in vs if v.value == winner))
        out.append(TrainingLabel(clip_id, vs[0].path, winner, ids))
    return out, snapshot


def _bucket(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def stable_split(keys: list[str], share: float = HELDOUT_SHARE) -> np.ndarray:
    """Held-out mask: keys (speakers or clip contents) taken in the order of their hash until about
    ``share`` of the items are held out. Membership depends only on the keys present, so versions
    trained on later snapshots of the same clips hold out the same ones. At least one key is kept.
    """
    uniq = sorted(set(keys), key=_bucket)
    if len(uniq) < 2:
        raise RetrainError("too few clips to hold any out; label at least two clips (better: ten)")
    counts = Counter(keys)
    held: set[str] = set()
    total = 0
    for key in uniq[:-1]:
        if held and total >= share * len(keys):
            break
        held.add(key)
        total += counts[key]
    return np.array([k in held for k in keys])


def split_keys(project: Any, rows: list[TrainingLabel], split: str) -> tuple[str, list[str]]:
    """The split retrain makes (``auto`` resolved) and each row's key: its speaker (the clip's stored
    speaker from a file-name pattern, a CSV or a corpus's names, else ``speaker_of``) or its content.
    ``auto`` holds whole speakers out wherever the clips name at least two."""
    from affectscope.app.services.speakers import clip_speakers
    from affectscope.models.training.datasets import speaker_of

    stored = clip_speakers(project)
    speakers = [stored.get(r.clip_id) or speaker_of(r.path) for r in rows]
    if split == "auto":
        split = "speaker" if len(set(speakers)) >= 2 else "clip"
    if split == "speaker":
        return split, speakers
    if split == "clip":
        hashes = {c.id: c.content_hash for c in project.clips()}
        return split, [hashes.get(r.clip_id, r.path) for r in rows]
    raise RetrainError(f"unknown split {split!r}: auto, speaker or clip")


def retrain(
    project: Any,
    model: str = QUICK_MODEL,
    label_source: str = "latest",
    split: str = "auto",
    epochs: int = 30,
    label_set: str | None = None,
    job: Job | None = None,
) -> RetrainResult:
    """Train ``model`` on a label snapshot, record the version and its lineage (not yet active)."""
    from affectscope.analysis.metrics import classification_report
    from affectscope.app.services.analysis_store import weights_sha256

    job = ensure_job(job)
    label_set = label_set or project.label_set
    labels = project.labels(label_set)
    rows, snapshot = training_labels(project, label_set, label_source)
    rows = [r for r in rows if r.value in labels and Path(r.path).exists()]
    if len({r.value for r in rows}) < 2:
        raise RetrainError(f"retraining needs labelled clips of at least two classes in {label_set}")
    split, keys = split_keys(project, rows, split)
    held = stable_split(keys)
    y = np.array([labels.index(r.value) for r in rows])
    train_idx, held_idx = np.flatnonzero(~held), np.flatnonzero(held)
    with unit_of_work(project.db) as s:
        parent = lineage_rows.active_version(s, label_set)
    out_dir = project.folder / "models"
    out_dir.mkdir(exist_ok=True)
    stamp = snapshot.strftime("%Y%m%dT%H%M%S%f")
    if model == QUICK_MODEL:
        from affectscope.models.training import quick_audio

        feats = _quick_features(project, [r.path for r in rows], job)
        fitted, history = quick_audio.fit_linear(
            feats[train_idx], y[train_idx], feats[held_idx], y[held_idx], labels, epochs=epochs, job=job
        )
        weights = fitted.save(out_dir / f"{model}-{stamp}.npz")
        _quick_card(project, weights, rows, train_idx, quick_audio.aside_rows(y[train_idx]), label_source)
        held_probs = fitted.predict_proba(feats[held_idx])
        config: dict[str, Any] = {"kind": "quick-audio"}
    else:
        weights, history, held_probs = _train_system(
            project, model, rows, y, train_idx, held_idx, label_set, epochs, stamp, job
        )
        config = {"kind": "system"}
    pred = held_probs.argmax(1)
    report = classification_report(y[held_idx], pred, list(labels))
    split_info = {
        "how": split,
        "heldout_keys": sorted({keys[i] for i in held_idx}),
        "n_train": len(train_idx),
        "n_heldout": len(held_idx),
    }
    metrics = {
        k: report[k]
        for k in ("uar", "accuracy", "macro_f1", "kappa", "ci", "collapsed", "warnings")
        if k in report
    }
    metrics["history"] = history
    # Each training run is its own version ("r3-1a2b3c4d": run 3 of this model here, weights hash), even
    # when a deterministic fit reproduces earlier weights: its lineage (snapshot, source) is its own.
    digest = weights_sha256(weights)
    with unit_of_work(project.db, write=True) as s:
        run = 1 + sum(1 for r in lineage_rows.trained_versions(s, label_set) if r.name == model)
        version_id = pred_rows.record_model_version(
            s,
            model,
            f"r{run}-{digest[:8]}",
            label_set,
            list(labels),
            digest,
            {**config, "weights": str(weights), "label_source": label_source, "epochs": epochs},
        ).id
        lineage_rows.record_lineage(
            s,
            version_id,
            label_source,
            [i for r in rows for i in r.label_ids],
            snapshot,
            split_info,
            [(rows[i].clip_id, labels[y[i]], labels[p]) for i, p in zip(held_idx, pred, strict=True)],
            metrics,
            code_version(),
            parent_version_id=parent,
        )
    return RetrainResult(
        version_id, Path(weights), label_source, len(train_idx), len(held_idx), history, report, split_info
    )


def _quick_card(
    project: Any, weights: Path, rows: list[Any], train_idx: np.ndarray, aside: np.ndarray, source: str
) -> None:
    """The quick model's card: what trained it and what chose its epoch (``data_records``: contents and
    the clips' speakers), so its evaluations report ``contamination`` like every other model's (issue 19)."""
    from affectscope.app.services.speakers import clip_speakers
    from affectscope.models.provenance import data_records
    from affectscope.models.training.datasets import Sample, speaker_of
    from affectscope.models.weights import write_card

    stored = clip_speakers(project)
    train = [
        Sample(Path(rows[i].path), -1, stored.get(rows[i].clip_id) or speaker_of(rows[i].path), "project")
        for i in train_idx
    ]
    what = f"the project's clips with {source} labels, the held-out split left out"
    records = data_records(
        train,
        [train[i] for i in aside],
        notes={"train": what, "validation": "a random fifth of the training clips chose the epoch"},
    )
    write_card(weights, {"model": QUICK_MODEL, "recipe": "relabel quick retrain", "data_records": records})


def _quick_features(project: Any, paths: list[str], job: Job) -> np.ndarray:
    out = []
    for i, p in enumerate(paths):
        job.check()
        job.progress(i, len(paths), f"reading audio {Path(p).name}")
        out.append(quick_file(p)[0])
    return np.stack(out)


def _train_system(project, model, rows, y, train_idx, held_idx, label_set, epochs, stamp, job):  # noqa: ANN001, ANN202
    """A registered system through the models' own ``train_on_samples`` (its own early-stopping split
    inside the training part), then the held-out clips through ``analyse_clip``."""
    from affectscope.app.services.speakers import clip_speakers
    from affectscope.models.inference import analyse_clip
    from affectscope.models.training.datasets import Sample, speaker_of
    from affectscope.models.training.manifest_train import train_on_samples

    stored = clip_speakers(project)
    samples = [
        Sample(
            Path(rows[i].path), int(y[i]), stored.get(rows[i].clip_id) or speaker_of(rows[i].path), "project"
        )
        for i in train_idx
    ]
    out = project.folder / "models" / f"{model}-{stamp}.safetensors"
    how = "speaker" if len({s.speaker for s in samples}) >= 2 else "random"
    card = train_on_samples(
        model, samples, out, how, label_set, epochs=epochs, job=job, source=f"project {project.folder}"
    )
    probs = np.stack([analyse_clip(rows[i].path, model, weights=out, job=job).clip_probs for i in held_idx])
    return out, card.get("fit", {}).get("history", []), probs


# -- versions ---------------------------------------------------------------------------------------------
def versions(project: Any, label_set: str | None = None) -> list[dict[str, Any]]:
    """Trained versions with lineage, oldest first, and which one is active (JSON-ready)."""
    label_set = label_set or project.label_set
    with unit_of_work(project.db) as s:
        active = lineage_rows.active_version(s, label_set)
        recs = lineage_rows.trained_versions(s, label_set)
    return [
        {
            "model_version_id": r.model_version_id,
            "name": r.name,
            "version": r.version,
            "active": r.model_version_id == active,
            "parent_version_id": r.parent_version_id,
            "label_source": r.label_source,
            "n_labels": len(r.label_ids),
            "snapshot_at": r.snapshot_at.isoformat(),
            "weights_sha256": r.weights_sha256,
            "code_version": r.code_version,
            "uar": r.metrics.get("uar"),
            "uar_ci": (r.metrics.get("ci") or {}).get("uar"),
            "n_heldout": len(r.heldout),
            "shipped": False,
        }
        for r in recs
    ]


def compare(project: Any, a: int, b: int, job: Job | None = None) -> dict[str, Any]:
    """Versions ``a`` and ``b`` on the clips both held out (true labels from the newer snapshot). A
    version not trained here (the shipped model) is scored on the clips the other one held out."""
    from affectscope.analysis.version_compare import compare_decisions

    with unit_of_work(project.db) as s:
        la, lb = lineage_rows.lineage(s, a), lineage_rows.lineage(s, b)
    if la is None or lb is None:
        from affectscope.app.services.shipped_version import compare_with_unrecorded

        return compare_with_unrecorded(project, a, b, la, lb, job)
    if la.label_set != lb.label_set:
        raise RetrainError(f"versions {a} and {b} predict different label sets")
    newer = lb if lb.snapshot_at >= la.snapshot_at else la
    truth = {c: t for c, t, _ in newer.heldout}
    pa = {c: p for c, _, p in la.heldout}
    pb = {c: p for c, _, p in lb.heldout}
    clips = sorted(set(truth) & set(pa) & set(pb))
    if not clips:
        raise RetrainError(f"versions {a} and {b} share no held-out clips; retrain one with the same split")
    labels = list(project.labels(la.label_set))
    result = compare_decisions(truth, pa, pb, clips, labels)
    return {"version_a": a, "version_b": b, "clips": clips, **result}


def activate(project: Any, model_version_id: int, job: Job | None = None) -> int:
    """Make a version active for its label set; returns how many clips got new predictions.

    Predicts first, then writes those predictions and the activation row in one transaction: a
    kill at any moment leaves the old version active (nothing written) or the new one complete.
    """
    with unit_of_work(project.db) as s:
        rec = lineage_rows.version_record(s, model_version_id)
    rows = missing_predictions(project, model_version_id, job)
    with unit_of_work(project.db, write=True) as s:
        write_predictions(s, model_version_id, rows)
        lineage_rows.activate(s, rec.label_set, model_version_id)
    return len(rows)


def rollback(project: Any, label_set: str | None = None, job: Job | None = None) -> int:
    """Re-activate the previously active version (predicted first, switched atomically); returns its id."""
    label_set = label_set or project.label_set
    with unit_of_work(project.db) as s:
        vid = lineage_rows.rollback_target(s, label_set)
    rows = missing_predictions(project, vid, job)
    with unit_of_work(project.db, write=True) as s:
        write_predictions(s, vid, rows)
        lineage_rows.activate(s, label_set, vid, reason="rollback")
    return vid


def active_predictions(project: Any, label_set: str | None = None) -> dict[int, list[float]]:
    """clip id -> probabilities of the active version (empty when no version is active)."""
    with unit_of_work(project.db) as s:
        vid = lineage_rows.active_version(s, label_set or project.label_set)
        return {} if vid is None else {c: p for c, (p, _) in lineage_rows.version_clip_probs(s, vid).items()}


def refresh_predictions(project: Any, model_version_id: int, job: Job | None = None) -> int:
    """Predict the present clips that have no prediction of this version or changed since it was made."""
    rows = missing_predictions(project, model_version_id, job)
    with unit_of_work(project.db, write=True) as s:
        write_predictions(s, model_version_id, rows)
    return len(rows)
