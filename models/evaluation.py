"""Classification metrics computed here with numpy (accuracy, macro-F1, per-class P/R/F1, confusion).

Kept dependency-free and explicit so the numbers in reports, model cards and ``affectscope
evaluate`` are reproducible by hand: precision = TP / predicted, recall = TP / true, F1 = their
harmonic mean, 0 where undefined (no predictions / no examples of the class), macro-F1 = the
unweighted mean of per-class F1 over the classes of the label set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """(C, C) counts; rows are true classes, columns predicted."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return cm


def classification_report(
    y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support, confusion matrix and n (JSON-ready)."""
    c = len(labels)
    cm = confusion_matrix(y_true, y_pred, c)
    n = int(cm.sum())
    tp = np.diag(cm).astype(float)
    predicted = cm.sum(axis=0).astype(float)
    actual = cm.sum(axis=1).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros(c), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros(c), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(c), where=denom > 0)
    return {
        "n": n,
        "accuracy": float(tp.sum() / n) if n else 0.0,
        "macro_f1": float(f1.mean()) if c else 0.0,
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(actual[i]),
            }
            for i, label in enumerate(labels)
        },
        "labels": list(labels),
        "confusion": cm.tolist(),
    }


def log_loss(probs: np.ndarray, y_true: Sequence[int]) -> float:
    """Mean negative log-likelihood of the true classes (clipped at 1e-12)."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y_true, int)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0)))) if len(y) else 0.0
