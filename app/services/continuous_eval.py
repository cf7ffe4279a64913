"""Continuous outputs (valence, arousal, ...) scored against continuous reference traces.

Both sides are model versions in the project: a model's continuous predictions, and a reference trace
imported like predictions (``import predictions gold.csv --name gold --continuous``). For each clip both
cover, each output both name is read on the fused lane; the reference is interpolated linearly at the
prediction windows' centres (never extrapolated: windows outside the reference's span are left out).
``analysis.continuous`` gives CCC and Pearson r pooled over windows with clip-bootstrap intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from affectscope.analysis.continuous import trace_report
from affectscope.app.services.prediction_io import CONTINUOUS, find_version
from affectscope.db import predictions as pred_rows
from affectscope.db.uow import unit_of_work
from affectscope.errors import UserFacingError


class ContinuousEvalError(UserFacingError):
    """Traces that cannot be compared (not continuous, no shared outputs or clips)."""


@dataclass
class Trace:
    clip_id: int
    times: np.ndarray  # window centres, s
    values: np.ndarray  # (T, K)


def _traces(project: Any, version: Any) -> dict[int, Trace]:
    with unit_of_work(project.db) as s:
        rows = [
            r
            for r in pred_rows.version_predictions(s, version.id)
            if r.modality == "fused" and r.t_start is not None
        ]
    by_clip: dict[int, list] = {}
    for r in rows:
        by_clip.setdefault(r.clip_id, []).append(r)
    return {
        cid: Trace(
            cid, np.array([(r.t_start + r.t_end) / 2 for r in rs]), np.array([r.probs for r in rs], float)
        )
        for cid, rs in by_clip.items()
    }


def _continuous(project: Any, name: str, role: str) -> Any:
    version = find_version(project, name)
    if version.label_set != CONTINUOUS:
        raise ContinuousEvalError(
            f"{name} gives {version.label_set} classes, not continuous values; as the {role}, import "
            "named continuous outputs (import predictions --continuous)"
        )
    return version


def paired(project: Any, model: str, reference: str) -> tuple[Any, Any, dict[str, dict[int, tuple]]]:
    """(model version, reference version, {output: {clip_id: (times, predicted, reference)}})."""
    mv, rv = _continuous(project, model, "model"), _continuous(project, reference, "reference")
    outputs = [o for o in mv.labels if o in rv.labels]
    if not outputs:
        raise ContinuousEvalError(
            f"{model} ({', '.join(mv.labels)}) and {reference} ({', '.join(rv.labels)}) share no output"
        )
    pred, ref = _traces(project, mv), _traces(project, rv)
    pairs: dict[str, dict[int, tuple]] = {o: {} for o in outputs}
    for cid in sorted(set(pred) & set(ref)):
        p, r = pred[cid], ref[cid]
        inside = (p.times >= r.times[0]) & (p.times <= r.times[-1])
        if not inside.any():
            continue
        for o in outputs:
            y = np.interp(p.times[inside], r.times, r.values[:, rv.labels.index(o)])
            pairs[o][cid] = (p.times[inside], p.values[inside, mv.labels.index(o)], y)
    if not any(pairs[o] for o in outputs):
        raise ContinuousEvalError(f"{model} and {reference} cover no clip at the same times")
    return mv, rv, pairs


def evaluate_continuous(project: Any, model: str, reference: str, n_resamples: int = 1000) -> dict[str, Any]:
    """CCC and Pearson r (with clip-bootstrap 95 % CIs), RMSE and counts per shared output."""
    mv, rv, pairs = paired(project, model, reference)
    outputs = {}
    for o, clips in pairs.items():
        ids = [cid for cid, (t, _, _) in clips.items() for _ in t]
        x = np.concatenate([p for _, p, _ in clips.values()]) if clips else np.zeros(0)
        y = np.concatenate([r for _, _, r in clips.values()]) if clips else np.zeros(0)
        outputs[o] = trace_report(x, y, ids, n_resamples=n_resamples)
    return {
        "model": mv.name,
        "model_version": mv.version,
        "reference": rv.name,
        "reference_version": rv.version,
        "outputs": outputs,
        "clips": len(set().union(*(set(c) for c in pairs.values()))),
        "model_only_outputs": [o for o in mv.labels if o not in rv.labels],
    }


def figure_data(project: Any, model: str, reference: str, clip: str | int | None) -> dict[str, Any]:
    """What the "continuous" figure draws: one clip's predicted and reference traces per output, the
    pooled scores, and each output's range."""
    mv, rv, pairs = paired(project, model, reference)
    report = evaluate_continuous(project, model, reference, n_resamples=200)
    shared = sorted(set().union(*(set(c) for c in pairs.values())))
    clip_id = project.clip(clip).id if clip is not None else shared[0]
    if clip_id not in shared:
        raise ContinuousEvalError(f"{model} and {reference} do not both cover that clip")
    path = next(c.path for c in project.clips() if c.id == clip_id)
    ranges = {**(rv.config.get("ranges") or {}), **(mv.config.get("ranges") or {})}
    traces = {}
    for o, clips in pairs.items():
        if clip_id in clips:
            t, x, y = clips[clip_id]
            traces[o] = {"times": t.tolist(), "predicted": x.tolist(), "reference": y.tolist()}
    return {
        "model": mv.name,
        "reference": rv.name,
        "clip": path,
        "traces": traces,
        "scores": {o: {"ccc": r["ccc"], "pearson_r": r["pearson_r"]} for o, r in report["outputs"].items()},
        "ranges": {o: ranges.get(o) for o in traces},
    }
