"""Run model's work off the GUI thread, without widgets: the perception signals (reusing the Perception
tab's cache at its rate and face-detector setting), ``analyse_clip``, the lanes' data, storing the analysis
in the project, and reading stored analyses back. The Models tab (app/qt/models_panel.py) starts these
through ``window.workers``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectscope.app.qt.prediction_lanes import LaneData
from affectscope.errors import UserFacingError
from affectscope.jobs import Job, ensure_job
from affectscope.models.registry import get

log = logging.getLogger(__name__)

# Which perception tracks feed a lane named after a system's modality (empty track → its reason).
_TRACKS_FOR = {
    "face": ("face_count",),
    "mouth": ("face_count",),
    "visual": ("face_count",),
    "scene": ("face_count",),
    "audiovisual": ("face_count", "audio"),
    "audio": ("audio",),
    "speech": ("audio",),
    "laughter": ("laughter", "audio"),
    "pose": ("pose_confidence",),
    "skeleton": ("pose_confidence",),
}


@dataclass
class Prediction:
    """A finished run: the analysis, its lanes, and what happened to it in the project."""

    path: str
    analysis: Any  # models.inference.Analysis
    lanes: list[LaneData]
    untrained: bool
    stored: str  # a sentence for the status line
    stored_ok: bool = False


def modality_reasons(signals: Any, names: list[str]) -> dict[str, str]:
    """Why a lane's input was missing, per lane name ("" when its input was there)."""
    out = {}
    for name in names:
        why = []
        for track in _TRACKS_FOR.get(name, ()):
            tr = signals.tracks.get(track)
            if tr is None:
                continue
            if len(tr) == 0:
                why.append(tr.reason or f"no {track}")
            elif track == "face_count" and float(np.nanmax(tr.values)) == 0:
                why.append("no face found")
        out[name] = "; ".join(dict.fromkeys(why))
    return out


class StagedJob(Job):
    """One stage of ``n`` on the parent job's bar: "analysing frames 1/2: …", never going backwards.

    Analysis and inference used to report into one bar, each from 0 %, so the bar went 61 % → 47 %.
    """

    def __init__(self, parent: Any, stage: int, n: int, name: str, floor: list[int]) -> None:
        super().__init__()
        self.parent, self.stage, self.n, self.name, self.floor = parent, stage, n, name, floor

    def progress(self, done: int, total: int, message: str = "") -> None:
        frac = min(max(done / max(total, 1), 0.0), 1.0)
        value = int(1000 * ((self.stage - 1) + frac) / self.n)
        self.floor[0] = max(self.floor[0], value)  # monotonic even if a stage restarts its count
        text = f"{self.name} {self.stage}/{self.n}" + (f": {message}" if message else "")
        self.parent.progress(self.floor[0], 1000, text)

    def partial(self, result: Any) -> None:
        self.parent.partial(result)

    def check(self) -> None:
        self.parent.check()

    def cancelled(self) -> bool:
        return self.parent.cancelled()


def cached_signals(path: str, rate_hz: float, modalities: tuple[str, ...], more_faces: bool = False) -> Any:
    """The Perception tab's cached analysis of the clip when it holds every track the model needs."""
    from affectscope.models.extractors.pipeline import MODALITIES, extract_clip
    from affectscope.models.inference import perception_modalities
    from affectscope.models.training.datasets import kind_of

    if kind_of(Path(path)) != "video" or not set(perception_modalities(modalities)) <= set(MODALITIES):
        return None
    try:
        return extract_clip(path, rate_hz=rate_hz, cache_only=True, more_faces=more_faces)
    except Exception:  # noqa: BLE001 - a cache that cannot be read is simply not used
        log.warning("cached analysis of %s unreadable; analysing again", path, exc_info=True)
        return None


def perception_settings(window: Any) -> dict[str, Any]:
    """The Perception tab's choices (analysis rate, second face detector) that Run model analyses with."""
    perception = getattr(window, "perception", None)
    return {
        "rate_hz": float(getattr(perception, "rate_hz", 10.0)),
        "more_faces": bool(getattr(perception, "more_faces", False)),
    }


def run_prediction(
    path: str,
    model_name: str,
    weights: str | None,
    project: Any,
    job: Any,
    rate_hz: float = 10.0,
    more_faces: bool = False,
) -> Prediction:
    """Worker-thread job: signals → ``analyse_clip`` → lanes; stores the analysis in ``project``.

    Two stages on one monotonic bar; the frames are analysed only when the Perception tab's cache
    (same clip, same rate) does not already hold them.
    """
    from affectscope.app.services.analysis_store import store_analysis
    from affectscope.models.inference import analyse_clip, load_model, signals_for_file

    job = ensure_job(job)
    spec = get(model_name)
    shipped = spec.weights_path()
    untrained = weights is None and (shipped is None or not shipped.exists())
    load_model(model_name, weights, allow_untrained=True)  # a weights error before minutes of extraction
    floor = [0]
    stage1 = StagedJob(job, 1, 2, "analysing frames", floor)
    signals = cached_signals(path, rate_hz, tuple(spec.modalities), more_faces)
    if signals is not None:
        stage1.progress(1, 1, "reused the clip's cached analysis")
    else:
        signals = signals_for_file(
            path, tuple(spec.modalities), job=stage1, rate_hz=rate_hz, more_faces=more_faces
        )
    stage2 = StagedJob(job, 2, 2, "running model", floor)
    analysis = analyse_clip(path, model_name, weights, stage2, signals, allow_untrained=True)
    reasons = modality_reasons(signals, list(analysis.per_modality))
    note = "untrained (random weights): ignore these numbers" if untrained else ""
    lanes, win = [], float(analysis.window[0])
    for name, probs in analysis.per_modality.items():
        why = reasons.get(name, "")
        text = f"{why}: predicted without it" if why else ""
        reason = "; ".join(filter(None, (text, note)))
        # A branch whose input is missing gives flat numbers that say nothing: the lane draws none.
        lanes.append(
            LaneData(name, analysis.times, probs, analysis.labels, reason, win, {"missing": bool(why)})
        )
    lanes.append(LaneData("fused", analysis.times, analysis.fused, analysis.labels, note, win))
    if analysis.accumulated is not None:
        lanes.append(LaneData("EWMA", analysis.times, analysis.accumulated, analysis.labels, note, win))
    if project is None:
        stored = NO_PROJECT
    elif untrained:
        stored = "untrained model: not stored in the project"
    else:
        try:
            clip = project.clip(path)
            n = store_analysis(project, clip.id, analysis)
            stored = f"stored in the project ({n} rows)"
        except UserFacingError as exc:
            stored = f"not stored: {exc}"
    return Prediction(path, analysis, lanes, untrained, stored, stored.startswith("stored"))


NO_PROJECT = "no project open: not stored"


def store_prediction(project: Any, prediction: Prediction, job: Any = None) -> Prediction:
    """Worker-thread job: store a run that started before its project had opened (a clip opens
    before its project does: the demo's first run, or Ctrl+R pressed at once)."""
    from dataclasses import replace

    from affectscope.app.services.analysis_store import store_analysis

    try:
        n = store_analysis(project, project.clip(prediction.path).id, prediction.analysis)
    except UserFacingError as exc:
        return replace(prediction, stored=f"not stored: {exc}", stored_ok=False)
    return replace(prediction, stored=f"stored in the project ({n} rows)", stored_ok=True)


def stored_prediction(project: Any, path: str, job: Any = None) -> Prediction | None:
    """Worker-thread job: the clip's newest analysis stored in the project, as lanes (or None)."""
    from affectscope.app.services.analysis_store import load_stored_analysis

    a = load_stored_analysis(project, path)
    if a is None:
        return None
    note = f"stored {a.model} ({a.version}): Run model (Ctrl+R) to compute again"
    win = float(a.window[0])
    lanes = [LaneData(name, a.times, probs, a.labels, "", win) for name, probs in a.per_modality.items()]
    lanes.append(LaneData("fused", a.times, a.fused, a.labels, "", win))
    if a.accumulated is not None:
        lanes.append(LaneData("EWMA", a.times, a.accumulated, a.labels, "", win))
    return Prediction(path, a, lanes, False, note, True)


def describe_model(name: str, job: Any = None) -> int:
    """Worker-thread job: the model's parameter count (building it imports torch)."""
    model = get(name).build()
    return int(sum(p.numel() for p in model.parameters()))


def latest_predictions(project: Any, job: Any = None) -> dict[str, tuple[str, float]]:
    """Worker-thread job: each clip's newest clip-level prediction, path -> (label, confidence)."""
    from affectscope.db import predictions as pred_rows
    from affectscope.db.uow import unit_of_work

    out = {}
    clips = project.clips()
    with unit_of_work(project.db) as s:
        for clip in clips:
            rows = pred_rows.clip_predictions(s, clip.id)
            if rows:
                out[clip.path] = (rows[-1].label, rows[-1].confidence)
    return out
