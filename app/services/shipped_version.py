"""The shipped model among a project's versions: a row beside retrained ones, scored on their held-out clips.

A retrain is judged against what it would replace. Until a retrained version is made active that is
the shipped model the window runs (the Models tab's model with the weights it ships), so the versions
table lists it first and Compare scores it on the clips a retrained version held out: from its stored
whole-clip predictions, the missing ones predicted first and stored as a Models-tab run would store
them. Shipped weights may have heard the project's speakers (or clips) in training; the comparison says
so (``contamination``, as evaluation runs do), since that flatters the shipped model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from affectscope.app.services.version_predictions import RetrainError, missing_predictions, write_predictions
from affectscope.db import lineage as lineage_rows
from affectscope.db.records import ModelVersionRecord
from affectscope.db.uow import unit_of_work
from affectscope.jobs import Job, ensure_job


def shipped_version_id(project: Any, model: str, label_set: str | None = None) -> int | None:
    """The project's version row of ``model`` with its shipped weights (recorded on first ask, as a
    model run records it), or None when the model ships no weights or predicts another label set."""
    from affectscope.app.services.analysis_store import record_version
    from affectscope.models.registry import get

    try:
        spec = get(model)
    except KeyError:
        return None
    weights = spec.weights_path()
    if weights is None or not weights.is_file() or spec.label_set != (label_set or project.label_set):
        return None
    return record_version(project, spec.name, spec.label_set, spec.labels, weights)


def shipped_row(project: Any, model: str, label_set: str | None = None) -> dict[str, Any] | None:
    """A versions-table row for the shipped ``model`` (keys as ``retrain.versions``, ``shipped`` true).

    It is active while no retrained version has ever been made active, or when it was made active
    itself. It has no lineage here: its UAR comes from Compare, on a retrained version's held-out clips.
    """
    label_set = label_set or project.label_set
    vid = shipped_version_id(project, model, label_set)
    if vid is None:
        return None
    with unit_of_work(project.db) as s:
        active = lineage_rows.active_version(s, label_set)
        rec = lineage_rows.version_record(s, vid)
    return untrained_row(rec, shipped=True, active=active is None or active == vid)


def untrained_row(rec: ModelVersionRecord, *, shipped: bool, active: bool) -> dict[str, Any]:
    """A versions-table row (keys as ``retrain.versions``) for a version not trained in this project
    (shipped weights, imported files or predictions): its lineage fields are None."""
    return {
        "model_version_id": rec.id,
        "name": rec.name,
        "version": rec.version,
        "shipped": shipped,
        "active": active,
        "parent_version_id": None,
        "label_source": None,
        "n_labels": None,
        "snapshot_at": None,
        "weights_sha256": rec.weights_sha256,
        "code_version": None,
        "uar": None,
        "uar_ci": None,
        "n_heldout": None,
    }


def predicted_labels(
    project: Any, model_version_id: int, clip_ids: list[int], job: Job | None = None
) -> dict[int, str]:
    """clip id -> the version's whole-clip decision on these clips: stored predictions, the missing
    ones predicted first (a version whose weights are at hand) and stored. Clips it cannot predict
    (imported predictions that do not cover them) are left out."""
    job = ensure_job(job)
    with unit_of_work(project.db) as s:
        rec = lineage_rows.version_record(s, model_version_id)
    weights = rec.config.get("weights")
    if weights and Path(weights).is_file():
        rows = missing_predictions(project, model_version_id, job, only=set(clip_ids))
        with unit_of_work(project.db, write=True) as s:
            write_predictions(s, model_version_id, rows)
    with unit_of_work(project.db) as s:
        probs = lineage_rows.version_clip_probs(s, model_version_id)
    return {c: rec.labels[int(np.argmax(probs[c][0]))] for c in clip_ids if c in probs}


def compare_with_unrecorded(
    project: Any, a: int, b: int, la: Any, lb: Any, job: Job | None = None
) -> dict[str, Any]:
    """Compare where one version (the shipped model, or imported predictions) has no lineage here: both
    on the clips the other one held out, against that version's snapshot of their labels."""
    from affectscope.analysis.version_compare import compare_decisions
    from affectscope.app.services.evaluation_runs import clip_contamination

    if la is None and lb is None:
        raise RetrainError(
            f"neither version {a} nor {b} was trained in this project; compare one of them with a "
            "retrained version (its held-out clips score both)"
        )
    ref, other = (lb, a) if la is None else (la, b)
    with unit_of_work(project.db) as s:
        other_rec = lineage_rows.version_record(s, other)
    if other_rec.label_set != ref.label_set:
        raise RetrainError(f"versions {a} and {b} predict different label sets")
    truth = {c: t for c, t, _ in ref.heldout}
    mine = {c: p for c, _, p in ref.heldout}
    theirs = predicted_labels(project, other, sorted(truth), job)
    clips = sorted(set(truth) & set(theirs))
    if not clips:
        raise RetrainError(
            f"version {other} has no predictions for the clips version {ref.model_version_id} held out"
        )
    pa, pb = (theirs, mine) if la is None else (mine, theirs)
    labels = list(project.labels(ref.label_set))
    result = compare_decisions(truth, pa, pb, clips, labels)
    by_id = {c.id: c for c in project.clips()}
    contamination = clip_contamination(
        other_rec.config.get("weights"),
        [by_id[c].path for c in clips if c in by_id],
        [getattr(by_id[c], "speaker", None) for c in clips if c in by_id],
    )
    return {"version_a": a, "version_b": b, "clips": clips, **result, "contamination": contamination}
