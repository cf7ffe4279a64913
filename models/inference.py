"""The inference pipeline: clip → perception signals → sliding windows → a system → an ``Analysis``.

``analyse_clip`` extracts (or is given) a clip's ``ClipSignals`` (perception caches them per clip
content and extractor version), slides the system's window over the clip at its hop, runs the
windows in batches (CUDA when available), reports progress and checks for cancellation between
batches. The result holds per-modality and fused probability timelines, the clip's probabilities
and label, the fusion-input features (for explanation), and for systems that accumulate evidence
over time (seed 004) the EWMA timeline, which the clip decision averages over the clip's speech.

``signals_for_file`` turns an audio file or a face image into ``ClipSignals`` too, so evaluation
and training accept whichever inputs a model's modalities take.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from affectscope.errors import UserFacingError, WeightsError
from affectscope.jobs import Job, ensure_job
from affectscope.models.finite import ModelOutputError, check_outputs  # noqa: F401 (re-exported)
from affectscope.models.registry import ModelSpec, get
from affectscope.models.signals import ClipSignals, Track

# Which perception modalities a system's declared modalities need.
PERCEPTION_FOR = {
    "face": ("faces",),
    "mouth": ("faces",),
    "expression": ("faces",),
    "faces": ("faces",),
    "visual": ("faces",),
    "scene": ("faces",),
    "pose": ("pose",),
    "skeleton": ("pose",),
    "body": ("pose",),
    "audio": ("audio", "vad"),
    "speech": ("audio", "vad"),
    "laughter": ("laughter", "audio"),
}
_models_lock = threading.Lock()
_models: dict[tuple[str, str, float, str], tuple[ModelSpec, torch.nn.Module]] = {}


class ModelUseError(UserFacingError):
    """A model asked to do what it cannot (e.g. a face-image classifier given a video)."""


@dataclass
class Analysis:
    """What a model says about one clip, as plain numpy (no torch, no Qt)."""

    model: str
    labels: tuple[str, ...]
    times: np.ndarray  # (T,) window centres, media seconds
    window: tuple[float, float]  # (window_seconds, hop_seconds)
    per_modality: dict[str, np.ndarray]  # name -> (T, C) probabilities
    fused: np.ndarray  # (T, C)
    clip_probs: np.ndarray  # (C,)
    clip_label: str
    accumulated: np.ndarray | None = None  # (T, C) EWMA of fused (seed 004)
    hidden: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (T, D) fusion-input features
    weights: str | None = None
    vote_weights: np.ndarray | None = None  # (T,) how much each counted (share of speech; 1 with a face)
    continuous: bool = False  # the outputs are named continuous values (valence, ...), not probabilities

    def __post_init__(self) -> None:
        # The one place every prediction passes: no Analysis holding NaN/inf outputs exists.
        check_outputs(
            self.model,
            {
                "clip": self.clip_probs,
                "fused": self.fused,
                "accumulated": self.accumulated,
                **{f"modality {k}": v for k, v in self.per_modality.items()},
            },
        )

    @property
    def votes(self) -> np.ndarray | None:
        """(T,) bool: windows the clip decision used (``vote_weights`` > 0; ``clip_gate``)."""
        return None if self.vote_weights is None else self.vote_weights > 0

    def to_json(self, hidden: bool = False) -> dict[str, Any]:
        def rows(a: np.ndarray) -> list[list[float]]:
            return np.round(np.asarray(a, dtype=float), 6).tolist()

        out: dict[str, Any] = {
            "model": self.model,
            "weights": self.weights,
            "labels": list(self.labels),
            "window_seconds": self.window[0],
            "hop_seconds": self.window[1],
            "times": np.round(self.times, 6).tolist(),
            "per_modality": {k: rows(v) for k, v in self.per_modality.items()},
            "fused": rows(self.fused),
            "accumulated": rows(self.accumulated) if self.accumulated is not None else None,
            "whole_clip": {
                "probs": dict(zip(self.labels, np.round(self.clip_probs, 6).tolist(), strict=True)),
                "label": None if self.continuous else self.clip_label,  # no winning class among values
                # Windows that voted (speech, or another modality present); all of them when ungated.
                "voting_windows": int(np.sum(self.votes)) if self.votes is not None else len(self.times),
            },
        }
        if hidden:
            out["hidden"] = {k: rows(v) for k, v in self.hidden.items()}
        return out


def outputs_of(model: torch.nn.Module, logits: torch.Tensor) -> np.ndarray:
    """A system's outputs as the lanes hold them: class probabilities (softmax of its logits), or, for a
    model of named continuous outputs (an imported valence/arousal model), the values themselves."""
    if getattr(model, "continuous", False):
        return logits.float().cpu().numpy()
    return torch.softmax(logits.float(), 1).cpu().numpy()


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_model(
    name: str, weights: str | Path | None = None, allow_untrained: bool = False
) -> tuple[ModelSpec, torch.nn.Module]:
    """The registered model ``name`` in eval mode with its weights (``weights`` overrides the shipped file).

    Raises ``WeightsError`` when a system has no weights and ``allow_untrained`` is False.
    Loaded models are kept per (name, weights file, its mtime) so repeated predictions are fast.
    """
    from affectscope.models.systems.base import EmotionSystem
    from affectscope.models.weights import load_state

    try:
        spec = get(name)
    except KeyError as exc:
        raise UserFacingError(str(exc.args[0]) + " (see: affectscope models)") from None
    path = Path(weights) if weights else spec.weights_path()
    mtime = path.stat().st_mtime if path is not None and path.exists() else -1.0
    key = (name, str(path), mtime, str(allow_untrained))
    with _models_lock:
        if key in _models:
            return _models[key]
    model = spec.build()
    how = (
        f"Train weights with: affectscope train {name} --manifest FILE.csv -o WEIGHTS.safetensors "
        "(see docs/models.md), then pass --weights WEIGHTS.safetensors."
    )
    if weights is not None:
        load_state(model, weights, what=f"weights for {name}", how=how)
    elif isinstance(model, EmotionSystem) and not getattr(model, "carries_weights", False):
        if path is not None and path.exists():
            load_state(model, path, what=f"shipped weights for {name}", how=how)
        elif not allow_untrained:
            where = (
                f"its weights file {path} is missing" if path is not None else "no weights are shipped for it"
            )
            raise WeightsError(f"model {name!r} cannot predict yet: {where}. {how}")
    if hasattr(model, "follow_card") and path is not None and path.exists():
        from affectscope.models.weights import read_card

        model.follow_card(read_card(path))  # e.g. seed 004 weights trained on speaker-standardised input
    model.to(device()).eval()
    with _models_lock:
        _models[key] = (spec, model)
    return spec, model


def perception_modalities(modalities: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for m in modalities:
        for p in PERCEPTION_FOR.get(m, ("faces", "audio", "vad")):
            if p not in out:
                out.append(p)
    return tuple(out)


def signals_for_file(
    path: str | Path,
    modalities: tuple[str, ...],
    job: Job | None = None,
    rate_hz: float = 10.0,
    more_faces: bool = False,
) -> ClipSignals:
    """``ClipSignals`` for a video (perception at ``rate_hz`` analysed frames per second, with the second
    face detector when ``more_faces``), an audio file (waveform only) or a face image."""
    from affectscope.models.inputs import kind_of

    p = Path(path)
    kind = kind_of(p)
    if kind == "video":
        from affectscope.models.extractors.pipeline import extract_clip

        return extract_clip(
            p, perception_modalities(modalities), rate_hz=rate_hz, job=job, more_faces=more_faces
        )
    if kind == "audio":
        from affectscope.models.inputs import AUDIO_RATE, load_audio

        x = load_audio(p)
        duration = len(x) / AUDIO_RATE
        tracks = {"audio": Track(np.arange(len(x)) / AUDIO_RATE, x)}
        return ClipSignals(p.name, duration, 0, 0, np.zeros(0), [], tracks)
    return _image_signals(p)


def _image_signals(path: Path, probs: np.ndarray | None = None, expressions: bool = True) -> ClipSignals:
    """A face image (e.g. FER-2013) as a one-frame clip: the whole image is the face. ``probs``: its
    expression probabilities when the caller classified many images in one batch; without
    ``expressions`` the expression tracks are left out (for a model that does not read them)."""
    import cv2

    from affectscope.models.extractors.expression import classify_faces, face_features22
    from affectscope.models.inputs import load_face_image
    from affectscope.models.signals import FaceObservation

    grey = load_face_image(path)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    t = np.zeros(1)
    tracks = {
        "face_crop96": Track(t, cv2.resize(rgb, (96, 96), interpolation=cv2.INTER_LINEAR)[None]),
        "face_crop64": Track(t, cv2.resize(grey, (64, 64), interpolation=cv2.INTER_LINEAR)[None]),
        "face_count": Track(t, np.ones(1, np.float32)),
    }
    h, w = grey.shape
    # Perception classifies every face it finds; systems reading expressions (seeds 000, 002) need it.
    if expressions:
        if probs is None:
            probs = classify_faces(tracks["face_crop64"].values)[0]
        tracks["expression_mean"] = Track(t, probs[None])
        tracks["face_features22"] = Track(t, face_features22([probs])[None])
    face = FaceObservation(0, (0.0, 0.0, float(w), float(h)), None, probs if expressions else None, None)
    return ClipSignals(path.name, 1.0, w, h, t, [[face]], tracks)


def image_signals_many(paths: list[Path], expressions: bool = True, chunk: int = 256) -> list[ClipSignals]:
    """``_image_signals`` for many face images, their expressions classified in batches of ``chunk``
    (one network call per image was most of the time of evaluating over FER-2013); without
    ``expressions`` (a model that does not read them) the images are not classified at all."""
    import cv2

    from affectscope.models.extractors.expression import classify_faces
    from affectscope.models.inputs import load_face_image

    if not expressions:
        return [_image_signals(Path(p), expressions=False) for p in paths]
    crops = [cv2.resize(load_face_image(p), (64, 64), interpolation=cv2.INTER_LINEAR) for p in paths]
    probs = [classify_faces(np.stack(crops[i : i + chunk])) for i in range(0, len(crops), chunk)]
    flat = np.concatenate(probs) if probs else np.zeros((0, 7), np.float32)
    return [_image_signals(Path(p), flat[i]) for i, p in enumerate(paths)]


def window_starts(duration: float, window: float, hop: float) -> np.ndarray:
    """Window starts covering the clip; one window from 0 when the clip is shorter than a window."""
    if duration <= window:
        return np.zeros(1)
    n = int(np.floor((duration - window) / hop + 1e-9)) + 1
    starts = np.arange(n) * hop
    if starts[-1] + window < duration - hop / 2:  # cover the tail
        starts = np.append(starts, duration - window)
    return starts


def analyse_signals(
    spec: ModelSpec,
    model: torch.nn.Module,
    signals: ClipSignals,
    job: Job | None = None,
    batch_size: int = 8,
    weights: str | None = None,
    gate: bool = True,
) -> Analysis:
    """Run a loaded system over prepared signals (see ``analyse_clip``); ``gate`` keeps windows
    without speech or any other modality out of the clip decision (``clip_gate``)."""
    from affectscope.models.clip_gate import other_modalities_present, window_weights
    from affectscope.models.systems.base import EmotionSystem

    if not isinstance(model, EmotionSystem):
        raise ModelUseError(f"{spec.name} classifies single face images; use it with 'affectscope evaluate'.")
    job = ensure_job(job)
    win, hop = float(model.window_seconds), float(model.hop_seconds)
    if getattr(model, "whole_clip", False):  # T steps over the whole video (seed 002)
        win = hop = max(float(signals.duration), 1e-3)
    starts = window_starts(max(signals.duration, 1e-3), win, hop)
    fused, hidden, per_mod, others = [], {}, {}, []
    dev = device()
    for b0 in range(0, len(starts), batch_size):
        job.check()
        chunk = starts[b0 : b0 + batch_size]
        batch = model.batch_from_windows([(signals, float(t), float(t) + win) for t in chunk])
        others.append(other_modalities_present(batch))
        with torch.no_grad():
            out = model({k: v.to(dev) for k, v in batch.items()})
        fused.append(outputs_of(model, out.logits))
        for k, v in out.per_modality.items():
            per_mod.setdefault(k, []).append(outputs_of(model, v))
        for k, v in out.hidden.items():
            hidden.setdefault(k, []).append(v.float().reshape(len(chunk), -1).cpu().numpy())
        job.progress(min(b0 + batch_size, len(starts)), len(starts), f"{spec.name}: window {b0 + len(chunk)}")
    f = np.concatenate(fused)
    vote_weights = window_weights(signals, starts, win, np.concatenate(others)) if gate else None
    clip, accumulated = clip_decision(model, f, vote_weights)
    labels = spec.labels if len(spec.labels) == f.shape[1] else tuple(f"class{i}" for i in range(f.shape[1]))
    return Analysis(
        model=spec.name,
        labels=labels,
        times=starts + win / 2,
        window=(win, hop),
        per_modality={k: np.concatenate(v) for k, v in per_mod.items()},
        fused=f,
        clip_probs=clip,
        clip_label=labels[int(np.argmax(clip))],
        accumulated=accumulated,
        hidden={k: np.concatenate(v) for k, v in hidden.items()},
        weights=weights,
        vote_weights=vote_weights,
        continuous=bool(getattr(model, "continuous", False)),
    )


def clip_decision(
    model: torch.nn.Module | None, fused: np.ndarray, votes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """(clip probabilities, EWMA timeline or None).

    ``votes`` (per window: bool, or a weight from ``clip_gate.window_weights``) says which windows
    count in the decision and how much; None: every window, equally. The decision is the weighted
    mean over windows; for systems that accumulate evidence (seed 004: EWMA from y0 = 0, eq. 1) it
    is the weighted mean of the EWMA timeline, which holds its value through windows that do not
    count. The timeline's last value alone read only the clip's final ~0.3 s — at the end of an
    utterance a trailing syllable in silence — and scored UAR 0.37 on RAVDESS against 0.53 for this.
    """
    n = len(fused)
    w = None if votes is None else np.asarray(votes, dtype=np.float64).reshape(-1)
    if w is None or len(w) != n or not (w > 0).any():
        w = np.ones(n)
    on = w > 0
    alpha = getattr(model, "ewma_alpha", None)
    if alpha is None:
        return (fused * w[:, None]).sum(axis=0) / w.sum(), None
    from affectscope.models.systems.lightweight import ewma

    y0 = getattr(model, "ewma_y0", None)
    run = ewma(fused[on], float(alpha), y0=y0)
    # Before the first counting window the accumulator is still y0 (zeros, or the first vote).
    acc = np.empty_like(np.asarray(fused, dtype=np.float64))
    acc[:] = np.asarray(y0, dtype=np.float64) if y0 is not None else run[0]
    k = np.cumsum(on) - 1
    acc[k >= 0] = run[k[k >= 0]]
    # From y0 = 0 the accumulator sums to 1 - (1 - alpha)^T: renormalise each value before averaging.
    rows = acc[on] / np.maximum(acc[on].sum(axis=1, keepdims=True), 1e-12)
    clip = (rows * w[on, None]).sum(axis=0) / w[on].sum()
    return clip, acc


def analyse_many(
    spec: ModelSpec,
    model: torch.nn.Module,
    signals: list[ClipSignals],
    job: Job | None = None,
    batch_size: int = 64,
    gate: bool = True,
    mean_decision: bool = False,
    return_weights: bool = False,
) -> list[tuple[np.ndarray, np.ndarray]] | list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(fused window probabilities (T, C), clip probabilities (C,)) for many clips at once
    (``gate``: the clip decision reads only windows with speech or another modality, ``clip_gate``;
    ``return_weights`` adds each clip's vote weights, ``clip_gate.window_weights``, as a third element).

    Windows of all clips are batched together (evaluation over a folder of short files), so the
    networks see full batches instead of one file's few windows.
    """
    from affectscope.models.systems.base import EmotionSystem

    if not isinstance(model, EmotionSystem):
        raise ModelUseError(f"{spec.name} classifies single face images; use it with 'affectscope evaluate'.")
    job = ensure_job(job)
    win, hop = float(model.window_seconds), float(model.hop_seconds)
    whole = bool(getattr(model, "whole_clip", False))  # seed 002: one window over each whole clip
    spans = [(max(float(sig.duration), 1e-3),) * 2 if whole else (win, hop) for sig in signals]
    items = [
        (i, float(t))
        for i, sig in enumerate(signals)
        for t in window_starts(max(sig.duration, 1e-3), *spans[i])
    ]
    from affectscope.models.clip_gate import other_modalities_present, window_weights

    dev = device()
    probs: list[np.ndarray] = []
    others: list[np.ndarray] = []
    for b0 in range(0, len(items), batch_size):
        job.check()
        chunk = items[b0 : b0 + batch_size]
        batch = model.batch_from_windows([(signals[i], t, t + spans[i][0]) for i, t in chunk])
        others.append(other_modalities_present(batch))
        with torch.no_grad():
            out = model({k: v.to(dev) for k, v in batch.items()})
        probs.append(outputs_of(model, out.logits))
        job.progress(min(b0 + batch_size, len(items)), len(items), f"{spec.name}: window {b0 + len(chunk)}")
    allp = np.concatenate(probs) if probs else np.zeros((0, len(spec.labels)))
    owner = np.array([i for i, _ in items], dtype=int)
    starts_all = np.array([t for _, t in items])
    other_all = np.concatenate(others) if others else np.zeros(0, bool)
    out_list = []
    for i in range(len(signals)):
        mine = owner == i
        f = allp[mine]
        vote_weights = window_weights(signals[i], starts_all[mine], spans[i][0], other_all[mine])
        # ``mean_decision``: the weighted mean over windows instead of the system's own decision.
        clip = clip_decision(None if mean_decision else model, f, vote_weights if gate else None)[0]
        out_list.append((f, clip, vote_weights) if return_weights else (f, clip))
    return out_list


def analyse_clip(
    path: str | Path,
    model_name: str,
    weights: str | Path | None = None,
    job: Job | None = None,
    signals: ClipSignals | None = None,
    allow_untrained: bool = False,
    batch_size: int = 8,
) -> Analysis:
    """Per-modality and fused probabilities over time and for the whole clip (see module doc)."""
    job = ensure_job(job)
    spec, model = load_model(model_name, weights, allow_untrained)
    if signals is None:
        signals = signals_for_file(path, tuple(spec.modalities), job=job)
    used = str(weights) if weights else (str(spec.weights_path()) if spec.weights else None)
    return analyse_signals(spec, model, signals, job, batch_size, weights=used)
