"""The field's cross-corpus reference: eGeMAPS functionals + a class-balanced linear classifier.

openSMILE's eGeMAPSv02 (88 functionals over the whole clip; Eyben et al. 2016) standardised **per
speaker** with that speaker's own statistics, then a linear softmax layer fitted by scikit-learn's
class-balanced logistic regression (``training/reference_recipe.py``). Normalising the speaker away
is what carries such a model across corpora: trained on EmoDB, it reads English speakers it never
heard far better than networks trained on the same data without it (issue 19's anchor).

The statistics come from the clips being analysed (``adapt``), never from the training set:
per speaker when a speaker has at least ``min_group`` clips (speakers from file names: EmoDB,
RAVDESS; otherwise the folder stands in, as ``datasets.speaker_of`` gives it), else over all the
clips of the run pooled (at least ``min_group``), else — a lone clip, as ``predict`` sees it — the
training set's pooled statistics (shipped as buffers), which is a weaker, corpus-level estimate.
The weights are a linear layer and those buffers in safetensors (no pickled scikit-learn object).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from affectscope.models.signals import ClipSignals
from affectscope.models.systems.base import Batch, EmotionSystem, SystemOutput
from affectscope.models.systems.speaker_groups import speaker_plan

FEATURE_SET = "eGeMAPSv02"
DIM = 88
_EPS = 1e-6


def clip_functionals(signals: ClipSignals, t0: float = 0.0, t1: float | None = None) -> np.ndarray | None:
    """eGeMAPS functionals of the clip's audio in [t0, t1) (the whole clip by default), or None."""
    from affectscope.models.systems.audio_functionals import audio_functionals

    track = signals.track("audio")
    if track is None or len(track.values) == 0:
        return None
    rate = int(round(getattr(signals, "audio_rate", 16000) or 16000))
    a = int(max(t0, 0.0) * rate)
    b = len(track.values) if t1 is None else min(len(track.values), int(t1 * rate))
    wave = np.asarray(track.values[a:b], np.float32).reshape(-1)
    if len(wave) < int(0.05 * rate):
        return None
    return audio_functionals(wave, rate, FEATURE_SET)


def group_statistics(
    feats: np.ndarray, groups: Sequence[str], min_group: int = 5
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per-row (mean, std) of its group when the group has ``min_group`` rows, else of all rows
    pooled (when there are ``min_group``); rows left without statistics get NaN. Also returns how
    each row was normalised ("speaker", "pooled" or "training")."""
    feats = np.asarray(feats, np.float64)
    n = len(feats)
    mean = np.full_like(feats, np.nan)
    std = np.full_like(feats, np.nan)
    how = ["training"] * n
    pooled = (feats.mean(0), feats.std(0) + _EPS) if n >= min_group else None
    for source, idx in speaker_plan(groups, min_group):
        if source == "speaker":
            mean[idx], std[idx] = feats[idx].mean(0), feats[idx].std(0) + _EPS
        elif source == "pooled":
            mean[idx], std[idx] = pooled
        for i in idx:
            how[i] = source or "training"
    return mean, std, how


class EgemapsLinear(EmotionSystem):
    """eGeMAPS functionals, standardised per speaker, → linear layer (one decision per clip)."""

    modalities = ("audio",)
    whole_clip = True

    def __init__(self, num_classes: int = 3, min_group: int = 5, window_seconds: float = 3600.0) -> None:
        super().__init__()
        self.num_classes, self.min_group = num_classes, min_group
        # one window over the whole clip, also where a caller cuts fixed windows (``analyse_many``)
        self.window_seconds = self.hop_seconds = window_seconds
        self.linear = nn.Linear(DIM, num_classes)
        self.register_buffer("pooled_mean", torch.zeros(DIM))  # the training set's, for a lone clip
        self.register_buffer("pooled_std", torch.ones(DIM))
        self._stats: dict[bytes, tuple[np.ndarray, np.ndarray, str]] = {}

    def adapt(self, clips: Iterable[tuple[ClipSignals, str]]) -> dict[str, int]:
        """Compute the normalisation statistics of these (clip, speaker) pairs (by speaker, see the
        module doc; consumed lazily, only the 88 values of each clip are kept); returns how many
        clips were normalised each way."""
        rows = [(f, spk) for f, spk in ((clip_functionals(sig), spk) for sig, spk in clips) if f is not None]
        if not rows:
            return {}
        mean, std, how = group_statistics(
            np.stack([f for f, _ in rows]), [g for _, g in rows], self.min_group
        )
        for (f, _), m, s, h in zip(rows, mean, std, how, strict=True):
            if h != "training":
                self._stats[f.tobytes()] = (m.astype(np.float32), s.astype(np.float32), h)
        return {h: how.count(h) for h in set(how)}

    def normalise(self, feats: np.ndarray) -> np.ndarray:
        hit = self._stats.get(np.asarray(feats, np.float32).tobytes())
        if hit is None:
            mean, std = self.pooled_mean.cpu().numpy(), self.pooled_std.cpu().numpy()
        else:
            mean, std = hit[0], hit[1]
        return ((feats - mean) / std).astype(np.float32)

    def batch_from_signals(self, signals: ClipSignals, t0: float, t1: float) -> Batch:
        feats = clip_functionals(signals, t0, t1)
        x = np.zeros(DIM, np.float32) if feats is None else self.normalise(feats)
        return {
            "audio": torch.from_numpy(x)[None],
            "audio_mask": torch.tensor([0.0 if feats is None else 1.0]),
        }

    def forward(self, batch: Batch) -> SystemOutput:  # type: ignore[override]
        x = batch["audio"]
        mask = batch.get("audio_mask", torch.ones(x.shape[0], device=x.device)).reshape(-1, 1)
        logits = self.linear(x) * mask  # no audio: uniform
        return SystemOutput(logits=logits, per_modality={"audio": logits}, hidden={"audio": x})

    def set_linear(self, coef: np.ndarray, intercept: np.ndarray, mean: np.ndarray, std: np.ndarray) -> None:
        """Load a fitted logistic regression (``coef`` (C, 88), ``intercept`` (C,)) and the
        training set's pooled statistics."""
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(coef, dtype=torch.float32))
            self.linear.bias.copy_(torch.as_tensor(intercept, dtype=torch.float32))
            self.pooled_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
            self.pooled_std.copy_(torch.as_tensor(std, dtype=torch.float32))


def build(**config: Any) -> EgemapsLinear:
    return EgemapsLinear(**config)
