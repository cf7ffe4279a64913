"""Evaluating a version retrained in this project: on the clips it held out, never on those it learnt.

Retrain holds out whole speakers (or clips) and trains on the rest; an evaluation run that scored such
a version on every labelled clip counted its own training clips and reported a flattering UAR. So a
run of a version with lineage here (chosen by id, by its name, or by its weights' hash) is scored on
that version's held-out clips only, speaker-disjoint from its training part by the retrain's split;
the predictions it lacks there are made first and stored, and the run's clip set says which clips
these are, so the window and the CLI can say so.
"""

from __future__ import annotations

from typing import Any

from affectscope.app.services.version_predictions import missing_predictions, write_predictions
from affectscope.db import lineage as lineage_rows
from affectscope.db.uow import unit_of_work
from affectscope.jobs import Job


def retrained_lineage(project: Any, version_id: int | None, weights_sha256: str | None) -> Any:
    """The lineage of ``version_id``, else of the version trained here with these weights, else None."""
    with unit_of_work(project.db) as s:
        lin = lineage_rows.lineage(s, version_id) if version_id is not None else None
        return lin or lineage_rows.lineage_of_weights(s, weights_sha256)


def predict_heldout(project: Any, lin: Any, job: Job) -> set[int]:
    """The version's held-out clip ids, each with a stored whole-clip prediction of the version
    (computed and stored first where missing: a version that was never made active has none)."""
    held = {c for c, _, _ in lin.heldout}
    rows = missing_predictions(project, lin.model_version_id, job, only=held)
    with unit_of_work(project.db, write=True) as s:
        write_predictions(s, lin.model_version_id, rows)
    return held


def heldout_scope(lin: Any) -> dict[str, Any]:
    """What the run's clip set records about a retrained version's test part."""
    how = lin.split.get("how", "?")
    keys = lin.split.get("heldout_keys", [])
    return {
        "clips": f"held out by version {lin.model_version_id} ({how} split)",
        "heldout_of": lin.model_version_id,
        "split": how,
        "heldout_keys": keys,
    }


def describe_scope(clip_set: dict[str, Any]) -> str:
    """One line for a person, or "" for a run over all labelled clips."""
    if "heldout_of" not in clip_set:
        return ""
    keys = clip_set.get("heldout_keys") or []
    who = f" ({clip_set.get('split')} split: {', '.join(map(str, keys[:6]))}{'…' if len(keys) > 6 else ''})"
    return (
        f"scored on the clips retrained version {clip_set['heldout_of']} held out{who}, "
        "never on those it was trained on"
    )
