"""Per-speaker standardisation of seed 004's spectrogram images (issue 19: normalise the speaker away).

A model trained on one corpus meets new voices and new microphones: each speaker's (and channel's)
spectral envelope shifts every frequency row of the image. The field's remedy, which lifted the
eGeMAPS reference from 0.44 to 0.62 UAR on unseen RAVDESS speakers (``reference.py``), is to
standardise each speaker's inputs with that speaker's own statistics. Here the statistics are the
mean and standard deviation of every **frequency row** of the spectrogram images of a clip's speech
windows (1 s windows at the system's hop across the clip's speech span, energy rule of
``clip_gate.speech_span``), pooled over the clips of one speaker.

Where they come from (``resolve``), as the reference does it: a speaker with at least ``min_group``
clips in the run gets its own; otherwise all clips of the run pooled (at least ``min_group``);
otherwise — a lone clip, as ``predict`` sees it — the clip's own statistics when its speech lasts at
least ``min_clip_seconds`` (a long recording is its own speaker sample), else the training set's
(the audio CNN's fitted ``input_norm``), which is what the network read before this existed.

The network is not changed: ``to_network`` maps a speaker-standardised image into the space of the
network's ``input_norm`` (``z · std_train + mean_train``), so that its unchanged first step yields
``(x − mean_speaker) / std_speaker``; the training-statistics fallback is then the image itself.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from affectscope.models.clip_gate import speech_span
from affectscope.models.systems.lightweight_inputs import spectrogram_images
from affectscope.models.systems.speaker_groups import speaker_plan

MIN_GROUP = 5
MIN_CLIP_SECONDS = 20.0
_EPS = 1e-3


@dataclass(frozen=True)
class RowMoments:
    """Sums over a clip's speech-window images, per frequency row: enough to pool clips exactly."""

    total: np.ndarray  # (size,)
    squares: np.ndarray  # (size,)
    count: int  # values per row
    speech_seconds: float

    def __add__(self, other: RowMoments) -> RowMoments:
        return RowMoments(
            self.total + other.total,
            self.squares + other.squares,
            self.count + other.count,
            self.speech_seconds + other.speech_seconds,
        )

    def stats(self) -> tuple[np.ndarray, np.ndarray]:
        mean = self.total / max(self.count, 1)
        var = np.maximum(self.squares / max(self.count, 1) - mean**2, 0.0)
        return mean.astype(np.float32), np.maximum(np.sqrt(var), _EPS).astype(np.float32)


def speech_windows(wave: np.ndarray, rate: int, window_s: float = 1.0, hop_s: float = 0.25) -> np.ndarray:
    """(n, window) 1 s windows at ``hop_s`` across the waveform's speech span (at least one)."""
    x = np.asarray(wave, np.float32).reshape(-1)
    win = int(round(window_s * rate))
    lo, hi = speech_span(x, rate)
    if len(x) < win:
        x = np.pad(x, (0, win - len(x)))
    top = max(0, len(x) - win)
    last = int(np.clip(hi - win, 0, top))
    first = int(np.clip(lo, 0, top))
    starts = range(min(first, last), max(first, last) + 1, max(1, int(round(hop_s * rate))))
    return np.stack([x[s : s + win] for s in starts])


def clip_moments(
    wave: np.ndarray, rate: int, size: int, window_s: float = 1.0, hop_s: float = 0.25
) -> RowMoments:
    """Row moments of the spectrogram images of a clip's speech windows."""
    x = np.asarray(wave, np.float32).reshape(-1)
    lo, hi = speech_span(x, rate)
    wins = speech_windows(x, rate, window_s, hop_s)
    total = np.zeros(size, np.float64)
    squares = np.zeros(size, np.float64)
    for b0 in range(0, len(wins), 64):
        rows = spectrogram_images(torch.from_numpy(wins[b0 : b0 + 64]), rate, size)[:, 0].double()
        total += rows.sum(dim=(0, 2)).numpy()
        squares += (rows**2).sum(dim=(0, 2)).numpy()
    return RowMoments(total, squares, len(wins) * size, (hi - lo) / rate)


def resolve(
    moments: Sequence[RowMoments],
    groups: Sequence[str],
    min_group: int = MIN_GROUP,
    min_clip_seconds: float = MIN_CLIP_SECONDS,
) -> list[tuple[np.ndarray, np.ndarray, str] | None]:
    """Each clip's (mean, std, how): "speaker", "pooled" or "clip" (see the module doc); None where
    the training statistics apply."""
    pooled = sum(moments[1:], moments[0]).stats() if len(moments) >= min_group else None
    out: list[tuple[np.ndarray, np.ndarray, str] | None] = [None] * len(moments)
    for source, idx in speaker_plan(groups, min_group):
        if source == "speaker":
            mean, std = sum((moments[i] for i in idx[1:]), moments[idx[0]]).stats()
            for i in idx:
                out[i] = (mean, std, "speaker")
        elif source == "pooled":
            for i in idx:
                out[i] = (pooled[0], pooled[1], "pooled")
        else:
            for i in idx:
                if moments[i].speech_seconds >= min_clip_seconds:
                    out[i] = (*moments[i].stats(), "clip")
    return out


def to_network(
    images: torch.Tensor, mean: np.ndarray, std: np.ndarray, train_mean: torch.Tensor, train_std: torch.Tensor
) -> torch.Tensor:
    """Images (…, size, size) standardised per row with (mean, std), mapped into the network's
    ``input_norm`` space (whose buffers ``train_mean``/``train_std`` are (1, 1, size, 1))."""
    m = torch.as_tensor(mean, dtype=images.dtype).reshape(-1, 1)
    s = torch.as_tensor(std, dtype=images.dtype).reshape(-1, 1)
    tm = train_mean.reshape(-1, 1).to(images.dtype)
    ts = train_std.reshape(-1, 1).to(images.dtype)
    return (images - m) / s * ts + tm


class AudioKeys:
    """Content keys of audio tracks (blake2b of the samples), cached by object for the few tracks a
    caller is cutting windows from, so a long clip is hashed once, not once per window. A loaded
    model is shared between threads (the window's workers, ``evaluate``), hence the lock."""

    def __init__(self, keep: int = 16) -> None:
        self._cache: OrderedDict[int, tuple[np.ndarray, bytes]] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def __call__(self, values: np.ndarray) -> bytes:
        with self._lock:
            hit = self._cache.get(id(values))
            if hit is not None and hit[0] is values:
                self._cache.move_to_end(id(values))
                return hit[1]
        key = hashlib.blake2b(np.ascontiguousarray(values, np.float32).tobytes(), digest_size=16).digest()
        with self._lock:
            self._cache[id(values)] = (values, key)  # the reference keeps the id from being reused
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return key
