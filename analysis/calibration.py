"""Calibration of a classifier's confidence: the reliability diagram and expected calibration error.

A model that says 0.9 should be right nine times in ten. We bin the top-label confidence (the
probability of the predicted class) into equal-width bins and compare each bin's mean confidence
with its accuracy; ECE is the support-weighted mean gap (Guo et al., 2017). The per-bin numbers
equal scikit-learn's ``calibration_curve`` on (correct, confidence) for the non-empty bins (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def reliability(probs: np.ndarray, y_true: Sequence[int], n_bins: int = 10) -> dict[str, Any]:
    """Per-bin mean confidence, accuracy and count of the top label, plus ECE and MCE (JSON-ready).

    Bins are right-closed ``(lo, hi]`` with the first one closed on both sides, as scikit-learn's
    uniform strategy; empty bins carry ``None`` for confidence and accuracy.
    """
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y_true, int)
    if p.ndim != 2 or len(p) != len(y):
        raise ValueError(f"probs must be (n, C) with n = len(y_true); got {p.shape} for {len(y)} labels")
    confidence = p.max(1) if len(p) else np.zeros(0)
    correct = (p.argmax(1) == y).astype(np.float64) if len(p) else np.zeros(0)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # scikit-learn's binning: searchsorted on the inner edges, so a confidence of exactly 1 is last.
    which = np.searchsorted(edges[1:-1], confidence, side="left")
    counts = np.bincount(which, minlength=n_bins)
    conf_sum = np.bincount(which, weights=confidence, minlength=n_bins)
    acc_sum = np.bincount(which, weights=correct, minlength=n_bins)
    n = max(len(y), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(counts > 0, conf_sum / np.maximum(counts, 1), np.nan)
        acc = np.where(counts > 0, acc_sum / np.maximum(counts, 1), np.nan)
    gaps = np.abs(np.nan_to_num(acc - mean_conf))
    return {
        "n": int(len(y)),
        "edges": edges.tolist(),
        "confidence": [None if c == 0 else float(v) for c, v in zip(counts, mean_conf, strict=True)],
        "accuracy": [None if c == 0 else float(v) for c, v in zip(counts, acc, strict=True)],
        "count": counts.astype(int).tolist(),
        "ece": float((counts / n * gaps).sum()),
        "mce": float(gaps[counts > 0].max()) if counts.any() else 0.0,
        "mean_confidence": float(confidence.mean()) if len(y) else 0.0,
        "accuracy_overall": float(correct.mean()) if len(y) else 0.0,
    }


def expected_calibration_error(probs: np.ndarray, y_true: Sequence[int], n_bins: int = 10) -> float:
    """ECE of the top label with ``n_bins`` equal-width bins."""
    return reliability(probs, y_true, n_bins)["ece"]
