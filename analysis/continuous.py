"""Agreement of continuous traces (valence, arousal, ...): the concordance correlation coefficient, the
AVEC challenges' standard, and Pearson's r, with bootstrap intervals that resample whole clips.

CCC (Lin, 1989) = 2 cov(x, y) / (var x + var y + (mean x - mean y)^2) with population (1/n) moments:
unlike r it drops when a prediction is shifted or scaled away from the reference. Windows of one clip
are not independent, so the intervals resample clips (each with all its windows), percentile method,
fixed seed. Plain arrays in, plain numbers out: no database, no Qt.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ccc(x: Sequence[float], y: Sequence[float]) -> float:
    """Lin's concordance correlation coefficient of two equally long series (NaN under 2 points or
    when both are constant and equal, where agreement is undefined)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) != len(y):
        raise ValueError(f"ccc needs equally long series ({len(x)} vs {len(y)})")
    if len(x) < 2:
        return float("nan")
    mx, my = x.mean(), y.mean()
    vx, vy = x.var(), y.var()
    denom = vx + vy + (mx - my) ** 2
    if denom == 0:
        return float("nan")
    return float(2 * ((x - mx) * (y - my)).mean() / denom)


def pearson_r(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's correlation (NaN under 2 points or when either series is constant)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) != len(y):
        raise ValueError(f"pearson_r needs equally long series ({len(x)} vs {len(y)})")
    if len(x) < 2:
        return float("nan")
    dx, dy = x - x.mean(), y - y.mean()
    denom = np.sqrt((dx * dx).sum() * (dy * dy).sum())
    return float((dx * dy).sum() / denom) if denom > 0 else float("nan")


def _batched(stat: str, xs: np.ndarray, ys: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``stat`` ("ccc" or "r") of B weighted resamples at once: ``w`` (B, n) counts per point."""
    n = w.sum(1, keepdims=True)
    mx, my = (w * xs).sum(1, keepdims=True) / n, (w * ys).sum(1, keepdims=True) / n
    dx, dy = xs - mx, ys - my
    cov = (w * dx * dy).sum(1) / n[:, 0]
    vx, vy = (w * dx * dx).sum(1) / n[:, 0], (w * dy * dy).sum(1) / n[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        if stat == "ccc":
            return 2 * cov / (vx + vy + (mx[:, 0] - my[:, 0]) ** 2)
        return cov / np.sqrt(vx * vy)


def clip_bootstrap_ci(
    x: Sequence[float],
    y: Sequence[float],
    groups: Sequence[int | str],
    stat: str = "ccc",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of ``stat`` ("ccc" or "r") over resamples of whole groups (clips); NaN
    bounds with fewer than two groups (nothing to resample)."""
    if stat not in ("ccc", "r"):
        raise ValueError(f"stat must be 'ccc' or 'r', not {stat!r}")
    xs, ys = np.asarray(x, np.float64), np.asarray(y, np.float64)
    _, idx = np.unique(np.asarray(groups), return_inverse=True)
    k = int(idx.max()) + 1 if len(idx) else 0
    if k < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    # A resample's weight on a point is how often its clip was drawn: (B, k) counts -> (B, n).
    draws = rng.integers(0, k, size=(n_resamples, k))
    counts = np.zeros((n_resamples, k))
    np.add.at(counts, (np.arange(n_resamples)[:, None], draws), 1)
    values = _batched(stat, xs[None], ys[None], counts[:, idx])
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    a = (1 - confidence) / 2
    lo, hi = np.quantile(values, [a, 1 - a])
    return float(lo), float(hi)


def trace_report(
    x: Sequence[float],
    y: Sequence[float],
    groups: Sequence[int | str],
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, float | int | list[float]]:
    """CCC and r of prediction ``x`` against reference ``y`` pooled over all windows, their clip
    bootstrap intervals, the RMSE and the counts (JSON-ready; NaN where undefined)."""
    xs, ys = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return {
        "ccc": ccc(xs, ys),
        "ccc_ci": list(clip_bootstrap_ci(xs, ys, groups, "ccc", n_resamples, seed=seed)),
        "pearson_r": pearson_r(xs, ys),
        "pearson_r_ci": list(clip_bootstrap_ci(xs, ys, groups, "r", n_resamples, seed=seed)),
        "rmse": float(np.sqrt(np.mean((xs - ys) ** 2))) if len(xs) else float("nan"),
        "n_windows": int(len(xs)),
        "n_clips": int(len(set(np.asarray(groups).tolist()))),
    }
