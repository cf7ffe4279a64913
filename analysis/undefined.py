"""Undefined statistics, said in words: a statistic that cannot be computed (one reader's agreement, an
arm nobody has read yet, a CI from one case) is ``{"value": null, "ci": [null, null], "reason": "..."}``,
never NaN, so JSON stays strict and the window can say why a cell is empty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

NO_ANSWERS = "no answers with a reference label yet"
TWO_READERS = "needs at least 2 readers"
TWO_CASES = "a confidence interval needs at least 2 cases"
TWO_SHARED_CASES = "a confidence interval needs at least 2 cases read by 2 readers"
ONE_LABEL = "every answer is the same label: chance agreement is 1"
TWO_ANSWERS = "needs at least 2 answers"
NO_RESAMPLES = "no bootstrap resamples were asked for"


def finite(x: Any) -> float | None:
    """A float, or None for None, NaN and infinities."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def stat(
    value: Any, ci: Sequence[Any] | None, reason: str | None = None, ci_reason: str | None = None
) -> dict[str, Any]:
    """One statistic with its 95 % CI; ``reason`` says why the value is null, ``ci_reason`` why the CI is
    (kept only when that part is in fact undefined)."""
    v = finite(value)
    c = [finite(x) for x in ci] if ci is not None else [None, None]
    why = None
    if v is None:
        why = reason or "undefined"
    elif None in c:
        why = ci_reason or "undefined"
    return {"value": v, "ci": c, "reason": why}
