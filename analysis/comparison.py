"""Comparing two models on the same clips, and each modality's own head against the fusion.

Two runs scored on the same clips are paired: McNemar's test (statsmodels; exact binomial when
fewer than 25 clips disagree, chi-square with continuity correction otherwise) asks whether their
error rates differ, and the paired bootstrap (scipy, cases resampled with both predictions) gives
the difference in UAR with a 95 % interval. A fixed seed makes reports regenerate identically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from statsmodels.stats.contingency_tables import mcnemar

from affectscope.analysis.metrics import (
    _batched_confusion,
    classification_report,
    percentile_bootstrap,
    scores_from_confusion,
)

#: Below this many discordant pairs McNemar's test uses the exact binomial distribution.
EXACT_BELOW = 25


def mcnemar_test(y_true: Sequence[int], pred_a: Sequence[int], pred_b: Sequence[int]) -> dict[str, Any]:
    """McNemar's test on the 2×2 table of (A right?, B right?) per clip."""
    yt, a, b = (np.asarray(v, int) for v in (y_true, pred_a, pred_b))
    ra, rb = a == yt, b == yt
    table = np.array(
        [[int((ra & rb).sum()), int((ra & ~rb).sum())], [int((~ra & rb).sum()), int((~ra & ~rb).sum())]]
    )
    discordant = int(table[0, 1] + table[1, 0])
    exact = discordant < EXACT_BELOW
    if discordant == 0:
        return {"table": table.tolist(), "statistic": 0.0, "pvalue": 1.0, "exact": True, "discordant": 0}
    res = mcnemar(table, exact=exact, correction=True)
    return {
        "table": table.tolist(),  # rows: A right / wrong; columns: B right / wrong
        "statistic": float(res.statistic),
        "pvalue": float(res.pvalue),
        "exact": exact,
        "discordant": discordant,
    }


def paired_bootstrap_uar_difference(
    y_true: Sequence[int],
    pred_a: Sequence[int],
    pred_b: Sequence[int],
    num_classes: int,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """UAR(B) − UAR(A) with a percentile bootstrap CI; ``p_two_sided`` from the resamples' signs."""
    yt, a, b = (np.asarray(v, int) for v in (y_true, pred_a, pred_b))

    def uar(t: np.ndarray, p: np.ndarray) -> np.ndarray:
        return scores_from_confusion(_batched_confusion(t, p, num_classes))["uar"]

    diff = float(uar(yt, b) - uar(yt, a))
    if len(yt) < 2:
        return {"difference": diff, "ci": [float("nan"), float("nan")], "p_two_sided": float("nan")}

    def statistic(t: np.ndarray, pa: np.ndarray, pb: np.ndarray, axis: int = -1) -> np.ndarray:
        t, pa, pb = (np.moveaxis(x, axis, -1) for x in (t, pa, pb))
        return uar(t, pb) - uar(t, pa)

    res = percentile_bootstrap((yt, a, b), statistic, n_resamples, confidence, seed)
    boots = np.asarray(res.bootstrap_distribution)
    # Two-sided: how often the resampled difference falls on the other side of zero, doubled.
    p = 2 * min(float((boots <= 0).mean()), float((boots >= 0).mean()))
    return {
        "difference": diff,
        "ci": [float(res.confidence_interval.low), float(res.confidence_interval.high)],
        "p_two_sided": min(1.0, p),
    }


def compare_predictions(
    y_true: Sequence[int],
    pred_a: Sequence[int],
    pred_b: Sequence[int],
    labels: Sequence[str],
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Both reports, McNemar and the paired UAR difference, for two prediction sets on the same clips."""
    return {
        "n": int(len(y_true)),
        "a": classification_report(y_true, pred_a, labels, n_resamples=n_resamples, seed=seed),
        "b": classification_report(y_true, pred_b, labels, n_resamples=n_resamples, seed=seed),
        "mcnemar": mcnemar_test(y_true, pred_a, pred_b),
        "uar_difference": paired_bootstrap_uar_difference(
            y_true, pred_a, pred_b, len(labels), n_resamples=n_resamples, seed=seed
        ),
    }


def per_modality_reports(
    y_true: Sequence[int],
    probs_by_modality: Mapping[str, np.ndarray],
    labels: Sequence[str],
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """A report per modality head (and "fused"): rows with no prediction (NaN) for a head are left out."""
    yt = np.asarray(y_true, int)
    out = {}
    for name, probs in probs_by_modality.items():
        p = np.asarray(probs, dtype=np.float64)
        keep = ~np.isnan(p).any(1)
        out[name] = classification_report(
            yt[keep], p[keep].argmax(1), labels, n_resamples=n_resamples, seed=seed
        )
        out[name]["coverage"] = float(keep.mean()) if len(keep) else 0.0
    return out
