"""Explanations laid on the clip's time axis, for the timeline lanes (Qt-free).

A system explains one analysis window at a time (seed 004: 1 s windows every 0.25 s), so a clip-wide
picture is stitched from overlapping windows:

* ``SoundSaliency``: each window's spectrogram map (freq × time within the window) resampled onto
  one clip grid of columns and averaged where windows overlap. A column no window used (seed 004's
  audio routed out while the mouth is closed, or no audio) stays NaN: a gap, not a confident zero;
* ``stitch_series``: the same for 1-D weights over a window's time steps (attention);
* ``contribution_over_time``: each modality's per-window Shapley value, NaN where it was missing.

Everything is numpy on plain arrays; ``clip.py`` and ``lanes.py`` feed it model output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from affectscope.models.explain.shapley import ModalityTable


@dataclass
class TimeFrequencyMap:
    """A clip-wide time–frequency attribution: ``values[column, freq_bin]``, low frequencies first."""

    times: np.ndarray  # (T,) column centres, media seconds
    values: np.ndarray  # (T, F) float64, NaN where no window used the input (or none computed yet)
    max_freq: float  # Hz at the top row (rows spread linearly over [0, max_freq])
    column_seconds: float
    target: str = ""
    method: str = ""
    done: int = 0  # windows stitched so far
    total: int = 0  # windows in the clip
    unused: int = 0  # windows whose decision did not use the input
    extra: dict = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.done >= self.total


class SoundSaliency:
    """Accumulates per-window spectrogram maps onto one clip grid of ``column_seconds`` columns."""

    def __init__(
        self,
        duration: float,
        n_freq: int,
        max_freq: float,
        column_seconds: float,
        total: int,
        target: str = "",
        method: str = "",
    ) -> None:
        self.column_seconds = float(column_seconds)
        n_cols = max(1, int(np.ceil(max(duration, column_seconds) / self.column_seconds)))
        self.times = (np.arange(n_cols) + 0.5) * self.column_seconds
        self.sum = np.zeros((n_cols, n_freq))
        self.count = np.zeros(n_cols)
        self.used = np.zeros(n_cols)
        self.max_freq = float(max_freq)
        self.total, self.done, self.unused = int(total), 0, 0
        self.target, self.method = target, method

    def add(self, column_times: np.ndarray, values: np.ndarray | None) -> None:
        """One window's map: ``values`` (F, W) with the highest frequency in row 0 (the model's
        picture), its W columns centred at ``column_times``; None when the input had no say."""
        ct = np.asarray(column_times, np.float64)
        half = (ct[-1] - ct[0]) / max(len(ct) - 1, 1) / 2
        inside = (self.times >= ct[0] - half) & (self.times <= ct[-1] + half)
        cols = np.flatnonzero(inside)
        self.done += 1
        if len(cols) == 0:
            return
        self.count[cols] += 1
        if values is None:
            self.unused += 1
            return
        v = np.asarray(values, np.float64)[::-1].T  # (W, F), low frequency first
        if v.shape[1] != self.sum.shape[1]:  # another resolution: resample the frequency axis
            src = np.linspace(0, 1, v.shape[1])
            dst = np.linspace(0, 1, self.sum.shape[1])
            v = np.stack([np.interp(dst, src, row) for row in v])
        pos = np.interp(self.times[cols], ct, np.arange(len(ct)))
        lo = np.clip(np.floor(pos).astype(int), 0, len(ct) - 1)
        hi = np.minimum(lo + 1, len(ct) - 1)
        frac = (pos - lo)[:, None]
        self.sum[cols] += v[lo] * (1 - frac) + v[hi] * frac
        self.used[cols] += 1

    def result(self) -> TimeFrequencyMap:
        """The map so far: mean over the windows that used the input; NaN where none did."""
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(self.used[:, None] > 0, self.sum / self.count[:, None], np.nan)
        return TimeFrequencyMap(
            self.times.copy(),
            values,
            self.max_freq,
            self.column_seconds,
            self.target,
            self.method,
            self.done,
            self.total,
            self.unused,
        )


def even_columns(t0: float, t1: float, n_columns: int) -> np.ndarray:
    """Centres of ``n_columns`` evenly spread over the window [t0, t1] (the generic placement)."""
    width = (t1 - t0) / max(n_columns, 1)
    return t0 + (np.arange(n_columns) + 0.5) * width


def window_order(times: np.ndarray, near: float | None) -> list[int]:
    """Window indices, the one nearest ``near`` (the playhead) first: what is looked at arrives first."""
    idx = np.arange(len(times))
    if near is None:
        return idx.tolist()
    return sorted(idx.tolist(), key=lambda i: (abs(float(times[i]) - near), i))


def stitch_series(
    starts: np.ndarray,
    window_seconds: float,
    weights: np.ndarray,
    duration: float,
    step: float,
    present: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(times, values): per-window weights (B, S) over S equal steps, placed at their times and
    averaged where windows overlap; scaled by S so 1 means uniform. Windows with ``present`` 0 are
    left out; a time no window covers is NaN."""
    w = np.asarray(weights, np.float64)
    n = max(1, int(np.ceil(max(duration, step) / step)))
    times = (np.arange(n) + 0.5) * step
    total, count = np.zeros(n), np.zeros(n)
    s = w.shape[1] if w.ndim == 2 else 0
    for b, t0 in enumerate(np.asarray(starts, np.float64)):
        if s == 0 or (present is not None and present[b] <= 0):
            continue
        inside = np.flatnonzero((times >= t0) & (times < t0 + window_seconds))
        k = np.clip(((times[inside] - t0) / window_seconds * s).astype(int), 0, s - 1)
        total[inside] += w[b, k] * s
        count[inside] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return times, np.where(count > 0, total / count, np.nan)


def contribution_over_time(
    table: ModalityTable, target: int, present: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """(T, M) each modality's Shapley value for ``target`` per window, NaN where it was missing
    (a lane must show a gap, not a zero, where a modality had no input)."""
    phi = table.shapley_over_time(target).astype(np.float64, copy=True)
    for j, m in enumerate(table.modalities):
        mask = (present or {}).get(m)
        if mask is not None:
            phi[np.asarray(mask).reshape(-1) <= 0, j] = np.nan
    return phi


def modality_presence(batch: dict, modalities: Sequence[str], n: int) -> dict[str, np.ndarray]:
    """Per modality, (n,) 1/0: whether each window had the input (its ``<modality>_mask``)."""
    out = {}
    for m in modalities:
        mask = batch.get(f"{m}_mask")
        out[m] = np.ones(n) if mask is None else np.asarray(mask, np.float64).reshape(-1)[:n]
    return out
