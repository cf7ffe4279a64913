"""A model version's predictions of the project's clips: computed for those that lack them, then written.

Activation, roll back and refresh (``retrain``), the comparison of a version not trained here with a
retrained one (``shipped_version``) and the evaluation of a retrained version on its held-out clips
(``retrained_eval``) all predict the same way: the quick audio model from cached log-mel statistics,
a system through ``analyse_clip`` with the version's weights. Computing is kept apart from writing, so
an activation writes its predictions and its switch in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectscope.db import lineage as lineage_rows
from affectscope.db import predictions as pred_rows
from affectscope.db.uow import unit_of_work
from affectscope.errors import UserFacingError
from affectscope.jobs import Job, ensure_job

QUICK_MODEL = "audio-logmel-linear"  # models.training.quick_audio.NAME, without importing torch here


class RetrainError(UserFacingError):
    """A retrain, comparison or activation that cannot run as asked (``retrain.RetrainError``)."""


_FEATURE_CACHE: dict[tuple[str, float], tuple] = {}


def quick_file(path: str) -> tuple:
    from affectscope.models.training import quick_audio

    key = (path, Path(path).stat().st_mtime)
    if key not in _FEATURE_CACHE:
        _FEATURE_CACHE[key] = quick_audio.file_features(path)
    return _FEATURE_CACHE[key]


@dataclass(frozen=True)
class _ClipRows:
    """One clip's predictions of a version, computed and not yet written."""

    clip_id: int
    lanes: dict[str, list[tuple[float, float, list[float]]]]  # modality -> timeline
    clip_probs: list[float]


def missing_predictions(
    project: Any, model_version_id: int, job: Job | None, only: set[int] | None = None
) -> list[_ClipRows]:
    """Predictions (in memory) for the present clips (of ``only``, when given) that lack one of this
    version or changed since."""
    job = ensure_job(job)
    with unit_of_work(project.db) as s:
        rec = lineage_rows.version_record(s, model_version_id)
        have = lineage_rows.version_clip_probs(s, model_version_id)
        clips = lineage_rows.clip_states(s)
    weights = rec.config.get("weights")
    clips = [c for c in clips if c[1] == "ok" and Path(c[2]).exists() and (only is None or c[0] in only)]
    todo = [(cid, path) for cid, status, path, updated in clips if cid not in have or updated > have[cid][1]]
    if not todo:
        return []
    if rec.config.get("source") == "import":  # a colleague's predictions: there is nothing to run
        raise RetrainError(
            f"version {model_version_id} ({rec.name}) holds imported predictions, not a model: "
            f"{len(todo)} clip(s) have none of them and cannot be predicted; "
            "import predictions for them first"
        )
    if not weights or not Path(weights).is_file():
        raise RetrainError(f"the weights of version {model_version_id} are gone ({weights}); cannot predict")
    out: list[_ClipRows] = []
    if rec.name == QUICK_MODEL:
        from affectscope.models.finite import check_outputs
        from affectscope.models.training import quick_audio

        fitted = quick_audio.LinearAudioModel.load(weights)
        for i, (cid, path) in enumerate(todo):
            job.check()
            job.progress(i, len(todo), f"predicting {Path(path).name}")
            whole, starts, windows = quick_file(path)
            timeline = [
                (float(t), float(t + quick_audio.WINDOW_S), p.tolist())
                for t, p in zip(starts, fitted.predict_proba(windows), strict=True)
            ]
            clip_probs = fitted.predict_proba(whole)[0]
            check_outputs(QUICK_MODEL, {"clip": clip_probs, "fused": [p for _, _, p in timeline]})
            out.append(_ClipRows(cid, {"fused": timeline}, clip_probs.tolist()))
    else:
        from affectscope.app.services.analysis_store import analysis_lanes
        from affectscope.models.inference import analyse_clip

        override = _weights_override(rec, model_version_id, weights)
        for i, (cid, path) in enumerate(todo):
            job.check()
            job.progress(i, len(todo), f"predicting {Path(path).name}")
            analysis = analyse_clip(path, rec.name, weights=override, job=job)
            out.append(_ClipRows(cid, analysis_lanes(analysis), analysis.clip_probs.tolist()))
    job.progress(len(todo), len(todo), "predictions up to date")
    return out


def _weights_override(rec: Any, model_version_id: int, weights: str) -> str | None:
    """The ``weights`` to run a version with: its safetensors file; none for an imported model file (the
    file is the model: its name runs it), which must still be the file that name runs."""
    from affectscope.models.exchange.store import SEED
    from affectscope.models.registry import get

    try:
        spec = get(rec.name)
    except KeyError:
        return weights  # not registered here: load_model says so
    if spec.seed != SEED:
        return weights
    if spec.weights_path() != Path(weights):
        raise RetrainError(
            f"version {model_version_id} of {rec.name} is the file {weights}, but {rec.name} now runs "
            f"{spec.weights_path()}; import that file again under another name to predict with it"
        )
    return None


def write_predictions(session: Any, model_version_id: int, rows: list[_ClipRows]) -> None:
    for row in rows:
        for lane, timeline in row.lanes.items():
            pred_rows.add_predictions(
                session,
                model_version_id,
                row.clip_id,
                clip_probs=row.clip_probs if lane == "fused" else None,
                timeline=timeline,
                modality=lane,
            )
