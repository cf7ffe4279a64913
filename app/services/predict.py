"""The one predict-and-store path (STYLE.md §11): signals from the cache or from perception, the model,
the lanes' data, and the prediction stored in the project. ``affectscope predict``, the window's Run
model (Models tab) and ``affectscope batch predict`` all call these functions, so they follow one set
of rules.

One policy on untrained weights (a system with no weights file runs with random weights): running one
needs ``allow_untrained`` (the window always allows it and marks every lane "ignore these numbers");
its output is never stored in a project unless ``store_untrained`` says so explicitly, and the result
says that it was not stored. (Before, ``predict --project --allow-untrained`` and batch stored such
output while the window refused to.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affectscope.errors import UserFacingError
from affectscope.jobs import Job, ensure_job
from affectscope.models.registry import ModelSpec, get

log = logging.getLogger(__name__)

UNTRAINED_NOTE = "untrained (random weights): ignore these numbers"
UNTRAINED_NOT_STORED = "untrained model: not stored in the project"
NO_PROJECT = "no project open: not stored"

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
class LaneData:
    """What one prediction lane shows: (T, C) probabilities at window centres, and a note."""

    name: str  # "face", "audio", "fused", "EWMA", ...
    times: np.ndarray
    probs: np.ndarray
    labels: tuple[str, ...]
    reason: str = ""  # e.g. "clip has no audio track: predicted without it"
    window: float = 0.0  # seconds each prediction covers (a single window is drawn across its span)
    extra: dict = field(default_factory=dict)
    value_range: tuple[float, float] | None = None  # continuous outputs (valence, ...); None: 0..1


@dataclass
class Prediction:
    """A finished run: the analysis, its lanes, and what happened to it in the project."""

    path: str
    analysis: Any  # models.inference.Analysis
    lanes: list[LaneData]
    untrained: bool
    stored: str  # a sentence for the status line
    stored_ok: bool = False
    device: dict = field(default_factory=dict)  # engine, provider and device that ran the model


def runs_on(model: Any) -> dict[str, str]:
    """Which engine, provider and device run ``model``: an imported file says it (onnxruntime's provider,
    or where its TorchScript module sits); a built-in system runs in torch where its parameters are."""
    said = getattr(model, "runs_on", None)
    if isinstance(said, dict):
        return said
    import torch

    params = model.parameters() if hasattr(model, "parameters") else iter(())
    dev = next(iter(params), torch.zeros(0)).device.type
    return {"engine": "torch", "provider": "torch", "device": dev}


def is_untrained(spec: ModelSpec, weights: str | Path | None) -> bool:
    """True when the model would run with random weights: none given and none shipped."""
    shipped = spec.weights_path()
    return weights is None and (shipped is None or not shipped.exists())


def clip_signals(
    path: str | Path,
    modalities: tuple[str, ...],
    rate_hz: float = 10.0,
    more_faces: bool = False,
    cache_dir: str | Path | None = None,
    job: Job | None = None,
) -> Any:
    """What a model with ``modalities`` needs from a clip: for a video the Perception tab's cached
    analysis at this rate when it holds every track, else perception of just the needed tracks
    (cached too); for an audio file its waveform; for a face image the image as one frame."""
    from affectscope.models.extractors.pipeline import MODALITIES, extract_clip
    from affectscope.models.inference import perception_modalities, signals_for_file
    from affectscope.models.inputs import kind_of

    job = ensure_job(job)
    if kind_of(Path(path)) != "video":
        return signals_for_file(path, modalities, job=job)
    needed = perception_modalities(modalities)
    if set(needed) <= set(MODALITIES):
        try:
            full = extract_clip(
                path, rate_hz=rate_hz, cache_only=True, more_faces=more_faces, project_dir=cache_dir
            )
        except Exception:  # noqa: BLE001 - a cache that cannot be read is simply not used
            log.warning("cached analysis of %s unreadable; analysing again", path, exc_info=True)
            full = None
        if full is not None:
            job.progress(1, 1, "reused the clip's cached analysis")
            return full
    return extract_clip(path, needed, rate_hz=rate_hz, job=job, more_faces=more_faces, project_dir=cache_dir)


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


def analysis_lanes(
    analysis: Any,
    reasons: dict[str, str] | None = None,
    note: str = "",
    value_range: tuple[float, float] | None = None,
) -> list[LaneData]:
    """One lane per modality, the fused lane and seed 004's EWMA lane; ``reasons`` say which input was
    missing from a modality's lane, ``note`` goes on every lane (the untrained warning), ``value_range``
    is the modality and fused lanes' range (continuous outputs)."""
    reasons = reasons or {}
    lanes, win, vr = [], float(analysis.window[0]), value_range
    for name, probs in analysis.per_modality.items():
        why = reasons.get(name, "")
        text = f"{why}: predicted without it" if why else ""
        reason = "; ".join(filter(None, (text, note)))
        # A branch whose input is missing gives flat numbers that say nothing: the lane draws none.
        missing = {"missing": bool(why)}
        lanes.append(
            LaneData(name, analysis.times, probs, analysis.labels, reason, win, missing, value_range=vr)
        )
    labels, times = analysis.labels, analysis.times
    lanes.append(LaneData("fused", times, analysis.fused, labels, note, win, value_range=vr))
    if analysis.accumulated is not None:
        lanes.append(LaneData("EWMA", times, analysis.accumulated, labels, note, win))
    return lanes


def run_value_range(spec: ModelSpec, analysis: Any) -> tuple[float, float] | None:
    """The extent a model's lanes are drawn over: None (0..1) for class probabilities; for named
    continuous outputs the declared ranges' union, as lanes of a stored version are drawn."""
    from affectscope.app.services.analysis_store import continuous_config, continuous_range

    config = continuous_config(spec)
    return continuous_range(config, analysis.fused) if config else None


def store_prediction(
    project: Any, clip: str | int, analysis: Any, untrained: bool, store_untrained: bool = False
) -> tuple[bool, str]:
    """Store ``analysis`` for the project's clip (a path or an id) under the untrained-weights policy;
    returns whether it was stored and a sentence saying what happened. A clip the project does not
    hold raises ``UserFacingError``."""
    from affectscope.app.services.analysis_store import store_analysis

    if untrained and not store_untrained:
        return False, UNTRAINED_NOT_STORED
    ref = str(Path(clip).resolve()) if isinstance(clip, str) else clip
    n = store_analysis(project, project.clip(ref).id, analysis)
    return True, f"stored in the project ({n} rows)"


def predict_clip(
    path: str,
    model_name: str,
    weights: str | None = None,
    project: Any = None,
    job: Job | None = None,
    rate_hz: float = 10.0,
    more_faces: bool = False,
    allow_untrained: bool = False,
    store_untrained: bool = False,
    strict: bool = False,
) -> Prediction:
    """Signals (cache or perception) → the model → lanes; stored in ``project`` when one is given.

    Two stages on one monotonic bar ("analysing frames 1/2", "running model 2/2"). A project that
    cannot store the prediction (the clip is not in it) is said in ``stored``; with ``strict`` it
    raises instead (the command line exits 2).
    """
    from affectscope.models.inference import analyse_clip, load_model

    job = ensure_job(job)
    # a weights error comes before minutes of extraction
    spec, model = load_model(model_name, weights, allow_untrained)
    untrained = is_untrained(spec, weights)
    signals = clip_signals(
        path, tuple(spec.modalities), rate_hz, more_faces, job=job.stage(1, 2, "analysing frames")
    )
    analysis = analyse_clip(
        path, model_name, weights, job.stage(2, 2, "running model"), signals, allow_untrained=allow_untrained
    )
    note = UNTRAINED_NOTE if untrained else ""
    lanes = analysis_lanes(
        analysis,
        modality_reasons(signals, list(analysis.per_modality)),
        note,
        run_value_range(spec, analysis),
    )
    if project is None:
        stored, ok = NO_PROJECT, False
    else:
        try:
            ok, stored = store_prediction(project, path, analysis, untrained, store_untrained)
        except UserFacingError as exc:
            if strict:
                raise
            ok, stored = False, f"not stored: {exc}"
    return Prediction(path, analysis, lanes, untrained, stored, ok, runs_on(model))


def store_late(project: Any, prediction: Prediction, job: Job | None = None) -> Prediction:
    """Store a run that started before its project had opened (a clip opens before its project
    does: the demo's first run, or Ctrl+R pressed at once); the prediction says what happened."""
    from dataclasses import replace

    try:
        ok, stored = store_prediction(project, prediction.path, prediction.analysis, prediction.untrained)
    except UserFacingError as exc:
        ok, stored = False, f"not stored: {exc}"
    return replace(prediction, stored=stored, stored_ok=ok)


def stored_prediction(project: Any, path: str, job: Job | None = None) -> Prediction | None:
    """The clip's newest analysis stored in the project, as lanes (or None)."""
    from affectscope.app.services.analysis_store import load_stored_analysis

    a = load_stored_analysis(project, path)
    if a is None:
        return None
    note = f"stored {a.model} ({a.version}): Run model (Ctrl+R) to compute again"
    # continuous outputs are drawn over their own range
    return Prediction(path, a, analysis_lanes(a, value_range=a.value_range), False, note, True)


def describe_model(name: str, job: Job | None = None) -> int:
    """The model's parameter count (building it imports torch: a worker's job)."""
    model = get(name).build()
    return int(sum(p.numel() for p in model.parameters()))


def latest_predictions(project: Any, job: Job | None = None) -> dict[str, tuple[str, float]]:
    """Each clip's clip-level class prediction of the project's active version (Retrain tab), else its
    newest, path -> (label, confidence); versions of continuous values (valence, ...) have no label or
    confidence to show and are passed over. (Newest only: after a roll back the browser kept showing
    the rolled-back version's predictions.)"""
    from affectscope.db import lineage as lineage_rows
    from affectscope.db import predictions as pred_rows
    from affectscope.db.uow import unit_of_work

    out = {}
    clips = project.clips()
    with unit_of_work(project.db) as s:
        values = pred_rows.version_ids_of_label_set(s, "continuous")
        active = lineage_rows.active_version(s, project.label_set)
        for clip in clips:
            rows = [r for r in pred_rows.clip_predictions(s, clip.id) if r.model_version_id not in values]
            rows = [r for r in rows if r.model_version_id == active] or rows
            if rows:
                out[clip.path] = (rows[-1].label, rows[-1].confidence)
    return out
