"""Classification metrics for emotion recognition: UAR first, with bootstrap confidence intervals.

UAR (unweighted average recall, scikit-learn's ``balanced_accuracy_score``) is the field's headline
metric: it does not reward a model for answering the majority class. Point estimates come from
scikit-learn; 95 % intervals from ``scipy.stats.bootstrap`` (percentile method, cases resampled with
their predictions, fixed seed so a report regenerates identically). The bootstrap statistic reads
each resample's confusion matrix, which tests check against scikit-learn resample by resample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats
from sklearn import metrics as skm

#: Recall under this for any class (or all predictions in one class) marks a collapsed model.
COLLAPSE_RECALL = 0.2


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """(C, C) counts; rows are true classes, columns predicted (scikit-learn's convention)."""
    return skm.confusion_matrix(
        np.asarray(y_true, int), np.asarray(y_pred, int), labels=np.arange(num_classes)
    ).astype(np.int64)


def _batched_confusion(y_true: np.ndarray, y_pred: np.ndarray, c: int) -> np.ndarray:
    """Confusion matrices of many resamples at once: (..., n) label arrays -> (..., C, C)."""
    t, p = np.broadcast_arrays(np.asarray(y_true, int), np.asarray(y_pred, int))
    lead = t.shape[:-1]
    rows = int(np.prod(lead)) if lead else 1
    # One bincount over (resample, true, predicted) cells: far cheaper than one-hot products.
    cells = (np.arange(rows)[:, None] * (c * c) + t.reshape(rows, -1) * c + p.reshape(rows, -1)).ravel()
    return np.bincount(cells, minlength=rows * c * c).reshape(*lead, c, c).astype(np.float64)


def scores_from_confusion(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, UAR and macro-F1 of (..., C, C) confusion matrices, over the classes present.

    Classes with no true examples are left out of UAR (as scikit-learn's balanced accuracy does);
    macro-F1 averages over every class of the label set, 0 where undefined (scikit-learn's
    ``zero_division=0``).
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    actual = cm.sum(-1)
    predicted = cm.sum(-2)
    n = actual.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(actual > 0, tp / np.where(actual > 0, actual, 1), np.nan)
        precision = np.where(predicted > 0, tp / np.where(predicted > 0, predicted, 1), 0.0)
        denom = precision + np.nan_to_num(recall)
        f1 = np.where(denom > 0, 2 * precision * np.nan_to_num(recall) / np.where(denom > 0, denom, 1), 0.0)
        return {
            "accuracy": tp.sum(-1) / np.where(n > 0, n, 1),
            "uar": np.nanmean(recall, axis=-1),
            "macro_f1": f1.mean(-1),
        }


def percentile_bootstrap(
    samples: tuple[np.ndarray, ...],
    statistic,  # noqa: ANN001 (scipy's vectorised statistic(*samples, axis))
    n_resamples: int,
    confidence: float,
    seed: int,
):  # noqa: ANN201 (scipy.stats.BootstrapResult)
    """The house's bootstrap: cases resampled with their paired values, percentile intervals, seeded."""
    return stats.bootstrap(
        samples,
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        batch=200,
        rng=np.random.default_rng(seed),
    )


def bootstrap_ci(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    num_classes: int,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of accuracy, UAR and macro-F1 (cases resampled with replacement)."""
    yt = np.asarray(y_true, int)
    yp = np.asarray(y_pred, int)
    if len(yt) < 2:
        return {k: [float("nan"), float("nan")] for k in ("accuracy", "uar", "macro_f1")}
    out: dict[str, list[float]] = {}
    for key in ("accuracy", "uar", "macro_f1"):

        def statistic(t: np.ndarray, p: np.ndarray, axis: int = -1, _key: str = key) -> np.ndarray:
            t, p = np.moveaxis(t, axis, -1), np.moveaxis(p, axis, -1)
            return scores_from_confusion(_batched_confusion(t, p, num_classes))[_key]

        res = percentile_bootstrap((yt, yp), statistic, n_resamples, confidence, seed)
        out[key] = [float(res.confidence_interval.low), float(res.confidence_interval.high)]
    return out


def classification_report(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    labels: Sequence[str],
    *,
    ci: bool = True,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """UAR, accuracy, macro-F1 (with 95 % CIs), Cohen's kappa, per-class P/R/F1, confusion (JSON-ready).

    ``collapsed`` is true when every prediction falls in one class or some class present in
    ``y_true`` is recalled under :data:`COLLAPSE_RECALL`; ``warnings`` says which, in words.
    """
    yt = np.asarray(y_true, int)
    yp = np.asarray(y_pred, int)
    c = len(labels)
    idx = np.arange(c)
    n = len(yt)
    cm = confusion_matrix(yt, yp, c)
    precision, recall, f1, support = skm.precision_recall_fscore_support(yt, yp, labels=idx, zero_division=0)
    present = support > 0
    report: dict[str, Any] = {
        "n": int(n),
        "uar": float(skm.balanced_accuracy_score(yt, yp)) if n else 0.0,
        "accuracy": float(skm.accuracy_score(yt, yp)) if n else 0.0,
        "macro_f1": float(skm.f1_score(yt, yp, labels=idx, average="macro", zero_division=0)) if n else 0.0,
        "kappa": float(skm.cohen_kappa_score(yt, yp, labels=idx))
        if n and len(set(yt) | set(yp)) > 1
        else 0.0,
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "labels": list(labels),
        "confusion": cm.tolist(),
        "chance_uar": 1.0 / max(int(present.sum()), 1),
    }
    if ci:
        report["ci"] = bootstrap_ci(yt, yp, c, n_resamples=n_resamples, seed=seed)
    report["warnings"] = collapse_warnings(cm, labels)
    report["collapsed"] = bool(report["warnings"])
    return report


def collapse_warnings(
    cm: np.ndarray, labels: Sequence[str], min_recall: float = COLLAPSE_RECALL
) -> list[str]:
    """Why a model looks collapsed: one predicted class for everything, or a class barely recalled."""
    cm = np.asarray(cm)
    if cm.sum() == 0:
        return []
    out = []
    predicted = cm.sum(0)
    if (predicted > 0).sum() == 1 and (cm.sum(1) > 0).sum() > 1:
        out.append(f"every prediction is {labels[int(predicted.argmax())]!r}: the model has collapsed")
    for i, label in enumerate(labels):
        actual = cm[i].sum()
        if actual and cm[i, i] / actual < min_recall:
            out.append(f"recall of {label!r} is {cm[i, i] / actual:.2f} (< {min_recall})")
    return out


def format_report(report: dict[str, Any]) -> str:
    """One line for logs: ``UAR 0.61 [0.55, 0.67] · acc 0.64 · macro-F1 0.60 · recall pos 0.7 ...``."""
    ci = report.get("ci", {})

    def with_ci(key: str) -> str:
        lo_hi = ci.get(key)
        return f"{report[key]:.3f}" + (f" [{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]" if lo_hi else "")

    recalls = " ".join(f"{k} {v['recall']:.2f}" for k, v in report["per_class"].items())
    line = f"UAR {with_ci('uar')} · acc {with_ci('accuracy')} · macro-F1 {with_ci('macro_f1')}"
    line += f" · recall {recalls}"
    if report.get("collapsed"):
        line += " · COLLAPSE: " + "; ".join(report["warnings"])
    return line


def seed_summary(values: Sequence[float]) -> dict[str, Any]:
    """Mean ± sample standard deviation (ddof 1) of a metric over training seeds, for logs and cards."""
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    sd = float(v.std(ddof=1)) if len(v) > 1 else float("nan")
    return {
        "n": int(len(v)),
        "mean": float(v.mean()) if len(v) else float("nan"),
        "sd": sd,
        "values": v.tolist(),
        "text": f"{v.mean():.3f} ± {sd:.3f} (n = {len(v)})" if len(v) else "no runs",
    }
