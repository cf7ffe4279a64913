"""Bootstrap 95 % intervals of per-class precision, recall and F1 (the per-class bars' error bars).

Same resampling as ``metrics.bootstrap_ci`` (cases with their predictions, percentile method, fixed
seed), drawn once for all classes from batched confusion matrices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def per_class_scores(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 per class of (..., C, C) confusion matrices (0 where undefined)."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    actual, predicted = cm.sum(-1), cm.sum(-2)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1}


def per_class_ci(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    labels: Sequence[str],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    batch: int = 200,
) -> dict[str, dict[str, list[float]]]:
    """{label: {precision|recall|f1: [low, high]}} from ``n_resamples`` case resamples."""
    yt, yp = np.asarray(y_true, int), np.asarray(y_pred, int)
    c, n = len(labels), len(yt)
    if n < 2:
        return {lab: {k: [float("nan")] * 2 for k in ("precision", "recall", "f1")} for lab in labels}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[np.ndarray]] = {"precision": [], "recall": [], "f1": []}
    codes = yt * c + yp  # one integer per case: its confusion cell
    batch = max(1, min(batch, 20_000_000 // n))  # resample indices stay under ~160 MB on 100,000 clips
    for start in range(0, n_resamples, batch):
        b = min(batch, n_resamples - start)
        idx = rng.integers(0, n, (b, n))
        flat = (np.arange(b)[:, None] * (c * c) + codes[idx]).ravel()
        cm = np.bincount(flat, minlength=b * c * c).reshape(b, c, c)
        scores = per_class_scores(cm)
        for k, v in scores.items():
            draws[k].append(v)
    alpha = (1 - confidence) / 2
    out: dict[str, dict[str, list[float]]] = {lab: {} for lab in labels}
    for k, parts in draws.items():
        lo, hi = np.quantile(np.concatenate(parts), [alpha, 1 - alpha], axis=0)
        for i, lab in enumerate(labels):
            out[lab][k] = [float(lo[i]), float(hi[i])]
    return out
