"""Multi-reader multi-case (MRMC) comparison of two arms: does model assistance change reader accuracy?

Reader accuracy varies with the reader and with the cases, and both are samples: an interval for the
assisted-minus-unassisted difference must account for both. We use the two-way (readers x cases)
bootstrap: each resample draws readers with replacement and, independently, cases with replacement, and
recomputes the mean over readers of (accuracy assisted - accuracy unassisted) on the same draws (the
design is paired: the same readers read the same cases in both arms). This is the non-parametric
counterpart of the Obuchowski-Rockette analysis; it is slightly conservative, because the two-way
bootstrap counts the reader-by-case interaction twice (Gallas et al. 2009, Acad Radiol 16(10)).

``imrmc_lines`` writes the input format of the FDA's iMRMC software (Gallas, github.com/DIDSR/iMRMC):
a header, ``BEGIN DATA:``, then ``readerID,caseID,modalityID,score`` rows with one truth row per case
(readerID -1, modalityID 0). Emotion reading is not a signal-present/absent task, so we export the
binary "percent correct" form: every case's truth is 1 and a reader's score is 1 when their label was
right; analyse it with iMRMC's percent-correct (``uStat11``) functions, not the ROC ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from affectscope.analysis.agreement import CONFIDENCE, N_RESAMPLES, multiplicities, percentile_ci

_BATCH = 200


def correctness_matrix(
    reader: Sequence[int], case: Sequence[int], correct: Sequence[float], n_readers: int, n_cases: int
) -> np.ndarray:
    """(readers, cases) mean correctness (NaN where the reader did not read the case)."""
    s = np.zeros((n_readers, n_cases))
    n = np.zeros((n_readers, n_cases))
    r, c = np.asarray(reader, int), np.asarray(case, int)
    np.add.at(s, (r, c), np.asarray(correct, float))
    np.add.at(n, (r, c), 1.0)
    with np.errstate(invalid="ignore"):
        return np.where(n > 0, s / np.where(n > 0, n, 1), np.nan)


def _reader_means(x: np.ndarray, wc: np.ndarray) -> np.ndarray:
    """(B, R) accuracy per reader under case multiplicities ``wc`` (B, C); NaN cells do not count."""
    seen = np.isfinite(x).astype(float)
    vals = np.nan_to_num(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (wc @ vals.T) / (wc @ seen.T)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over readers of accuracy in arm ``a`` minus accuracy in arm ``b`` (readers x cases each)."""
    ones = np.ones((1, a.shape[1]))
    d = _reader_means(a, ones) - _reader_means(b, ones)
    return float(np.nanmean(d))


def two_way_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> dict[str, Any]:
    """Difference of reader accuracy between arms with a readers x cases bootstrap percentile CI."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"arms must cover the same readers and cases: {a.shape} vs {b.shape}")
    n_r, n_c = a.shape
    rng = np.random.default_rng(seed)
    diffs = []
    done = 0
    while done < n_resamples and n_r and n_c:
        size = min(_BATCH, n_resamples - done)
        wc = next(multiplicities(n_c, size, int(rng.integers(2**31)), batch=size))
        wr = next(multiplicities(n_r, size, int(rng.integers(2**31)), batch=size))
        d = _reader_means(a, wc) - _reader_means(b, wc)  # (B, R)
        ok = np.isfinite(d)
        with np.errstate(invalid="ignore", divide="ignore"):
            diffs.append((np.where(ok, d, 0) * wr).sum(1) / (ok * wr).sum(1))
        done += size
    per_reader = _reader_means(a, np.ones((1, n_c)))[0] - _reader_means(b, np.ones((1, n_c)))[0]
    return {
        "value": difference(a, b) if n_r and n_c else float("nan"),
        "ci": percentile_ci(np.concatenate(diffs), confidence) if diffs else [float("nan")] * 2,
        "method": "two-way bootstrap over readers and cases (percentile)",
        "n_readers": int(n_r),
        "n_cases": int(n_c),
        "n_resamples": int(n_resamples),
        "per_reader": [float(v) for v in per_reader],
    }


def imrmc_lines(
    rows: Sequence[tuple[str, int, str, float]],
    case_ids: Sequence[int],
    modalities: Sequence[str],
    description: str,
) -> list[str]:
    """The iMRMC input file: ``rows`` are (reader, case id, modality, score 0/1) reader observations."""
    readers = sorted({r for r, *_ in rows})
    lines = [
        description,
        "",
        f"NR: {len(readers)}",
        "N0: 0",
        f"N1: {len(case_ids)}",
        f"NM: {len(modalities)}",
        "",
        "BEGIN DATA:",
    ]
    lines += [f"-1,{int(c)},0,1" for c in case_ids]
    lines += [f"{r},{int(c)},{m},{int(round(s))}" for r, c, m, s in rows]
    return lines
