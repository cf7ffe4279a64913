"""Two model versions on the same held-out clips: UAR of each with its CI, and McNemar's test.

McNemar asks whether the two versions are wrong on different clips more often one way than the
other (the 2x2 table of right/wrong pairs); the exact binomial form is used when the discordant
pairs are few (< 25), the chi-square form with continuity correction otherwise (statsmodels).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from affectscope.analysis.metrics import classification_report


def mcnemar_table(y_true: Sequence[int], pred_a: Sequence[int], pred_b: Sequence[int]) -> np.ndarray:
    """[[both right, only A right], [only B right, both wrong]]."""
    y, a, b = (np.asarray(v, dtype=int) for v in (y_true, pred_a, pred_b))
    ra, rb = a == y, b == y
    return np.array([[np.sum(ra & rb), np.sum(ra & ~rb)], [np.sum(~ra & rb), np.sum(~ra & ~rb)]])


def compare_versions(
    y_true: Sequence[int],
    pred_a: Sequence[int],
    pred_b: Sequence[int],
    labels: Sequence[str],
    seed: int = 0,
) -> dict[str, Any]:
    """UAR (with 95 % CI) of A and B, their difference, and McNemar's p on the same items (JSON-ready)."""
    from statsmodels.stats.contingency_tables import mcnemar

    if not (len(y_true) == len(pred_a) == len(pred_b)) or len(y_true) == 0:
        raise ValueError("both versions need predictions on the same, non-empty set of clips")
    table = mcnemar_table(y_true, pred_a, pred_b)
    discordant = int(table[0, 1] + table[1, 0])
    exact = discordant < 25
    result = mcnemar(table, exact=exact, correction=True)
    rep_a = classification_report(y_true, pred_a, labels, seed=seed)
    rep_b = classification_report(y_true, pred_b, labels, seed=seed)
    return {
        "n": len(y_true),
        "a": {"uar": rep_a["uar"], "uar_ci": rep_a["ci"]["uar"], "accuracy": rep_a["accuracy"]},
        "b": {"uar": rep_b["uar"], "uar_ci": rep_b["ci"]["uar"], "accuracy": rep_b["accuracy"]},
        "uar_delta": rep_b["uar"] - rep_a["uar"],
        "mcnemar": {
            "table": table.tolist(),
            "statistic": float(result.statistic),
            "p_value": float(result.pvalue),
            "exact": exact,
        },
    }


def compare_decisions(
    truth: Mapping[int, str],
    pred_a: Mapping[int, str],
    pred_b: Mapping[int, str],
    clips: Sequence[int],
    labels: Sequence[str],
) -> dict[str, Any]:
    """``compare_versions`` on ``clips``, whose reference and two decisions are label names by clip id."""
    names = list(labels)
    return compare_versions(
        [names.index(truth[c]) for c in clips],
        [names.index(pred_a[c]) for c in clips],
        [names.index(pred_b[c]) for c in clips],
        names,
    )
