"""Cutting a time window out of ``ClipSignals`` at a model's own rate (seeds 002 and 003).

Signals arrive at their extractors' rates (frames at ~10 fps, pose where a person was found,
audio at 16 kHz); a system wants, say, exactly 100 steps over its window. These functions resample
by timestamps (never by index), and say "nothing here" with ``None`` so the caller can emit zeros
and a modality mask of 0 instead of raising.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from affectscope.models.signals import ClipSignals, Track
from affectscope.models.systems.audio_level import level_gain


def step_times(t0: float, t1: float, steps: int) -> np.ndarray:
    """Centres of ``steps`` equal slices of [t0, t1)."""
    return t0 + (np.arange(steps) + 0.5) * ((t1 - t0) / steps)


def resample_track(track: Track, t0: float, t1: float, steps: int) -> np.ndarray | None:
    """The sample in force at each of ``steps`` equally spaced times, or None without data in [t0, t1).

    "In force" = the last sample at or before the time (the first one before the track starts), the
    same rule as ``Track.at``; NaNs (an extractor's "not found") become 0.
    """
    if len(track) == 0:
        return None
    lo, hi = np.searchsorted(track.times, [t0, t1], side="left")
    if hi <= lo:
        return None
    idx = np.searchsorted(track.times, step_times(t0, t1, steps), side="right") - 1
    values = np.asarray(track.values, dtype=np.float32)[np.clip(idx, 0, len(track) - 1)]
    return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)


def pick_times(track: Track, t0: float, t1: float, count: int) -> np.ndarray | None:
    """Values of ``count`` samples equally spaced over the samples inside [t0, t1), or None."""
    if len(track) == 0:
        return None
    lo, hi = np.searchsorted(track.times, [t0, t1], side="left")
    if hi <= lo:
        return None
    idx = lo + np.floor((np.arange(count) + 0.5) * (hi - lo) / count).astype(int)
    return np.asarray(track.values)[np.clip(idx, lo, hi - 1)]


def audio_window(
    signals: ClipSignals, t0: float, t1: float, level_db: float | None = None
) -> np.ndarray | None:
    """Mono samples of [t0, t1) at ``signals.audio_rate``, zero-padded to the window's length.

    None when the clip has no audio or the window lies outside it. Samples are located by their
    timestamps, so audio that starts later than the video (AAC priming) stays aligned. ``level_db``
    scales the clip so its speech sits at that level (``audio_level``): the same gain for every
    window of a clip.
    """
    track = signals.track("audio")
    if len(track) == 0:
        return None
    rate = signals.audio_rate
    n = int(round((t1 - t0) * rate))
    lo, hi = np.searchsorted(track.times, [t0, t1], side="left")
    if hi <= lo or n <= 0:
        return None
    out = np.zeros(n, np.float32)
    start = int(round((track.times[lo] - t0) * rate))
    chunk = np.asarray(track.values[lo:hi], dtype=np.float32).reshape(-1)[: n - max(start, 0)]
    out[max(start, 0) : max(start, 0) + len(chunk)] = chunk
    if level_db is not None:
        out *= np.float32(level_gain(track.values, level_db))
    return out


@lru_cache(maxsize=8)
def _mel(rate: int, n_fft: int, hop: int, n_mels: int) -> torch.nn.Module:
    import torchaudio

    # VGGish's front end: 25 ms Hann windows, 64 mel bands between 125 Hz and 7.5 kHz.
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels, f_min=125.0, f_max=7500.0
    )


def log_mel_steps(wave: np.ndarray, rate: int, steps: int, n_mels: int = 64) -> np.ndarray:
    """(steps, n_mels) log-mel frames covering ``wave`` (VGGish-style log(mel + 0.01))."""
    hop = max(len(wave) // steps, 1)
    n_fft = min(int(0.025 * rate), max(len(wave), 1))
    with torch.no_grad():
        mel = _mel(rate, n_fft, hop, n_mels)(torch.from_numpy(wave))  # (n_mels, frames)
    frames = torch.log(mel + 0.01).T
    if frames.shape[0] < steps:
        frames = torch.cat([frames, frames[-1:].expand(steps - frames.shape[0], -1)])
    return frames[:steps].numpy().astype(np.float32)
