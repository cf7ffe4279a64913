"""Agreement between raters on nominal labels: Cohen's kappa per pair, Fleiss' kappa and Krippendorff's
alpha over all raters, each with a bootstrap 95 % interval that resamples cases (items).

Point estimates come from the field's libraries where they apply: ``statsmodels.stats.inter_rater``
(``cohens_kappa``, ``fleiss_kappa``) and the ``krippendorff`` package. Two cases need more than a library
call, and tests check both against the libraries to 1e-9:

* **Unequal numbers of ratings per item** (CREMA-D: 4 to 12 per clip). statsmodels' ``fleiss_kappa``
  assumes every item has the same number of ratings, so we use Fleiss' (1971) kappa generalised to
  unequal numbers as given in Gwet, *Handbook of Inter-Rater Reliability*, 4th ed. (2014), §2.5
  ("Fleiss' generalized kappa"): observed agreement averages, over items with at least two ratings,
  ``sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))``; chance agreement is ``sum_k pi_k^2`` with ``pi_k`` the
  mean over items of ``r_ik / r_i``. With equal numbers it is exactly statsmodels' value.
* **The bootstrap**. Every statistic here is a ratio of sums over items, so a bootstrap resample is a
  vector of item multiplicities (a multinomial draw) and thousands of resamples are one matrix product.
  Resample ``b`` with multiplicities ``w_b`` equals the library statistic on the table whose rows are
  repeated ``w_b`` times (tests check this resample by resample).

Tables are (items, categories) counts: ``table[i, k]`` raters put item ``i`` in category ``k``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import combinations
from typing import Any

import krippendorff
import numpy as np
from statsmodels.stats import inter_rater

N_RESAMPLES = 2000
CONFIDENCE = 0.95
_BATCH = 250


def count_table(ratings: np.ndarray, n_categories: int) -> np.ndarray:
    """(items, raters) category indices (-1 = not rated) -> (items, categories) counts."""
    r = np.asarray(ratings, dtype=np.int64)
    out = np.zeros((r.shape[0], n_categories), dtype=np.int64)
    items, raters = np.nonzero(r >= 0)
    np.add.at(out, (items, r[items, raters]), 1)
    return out


# -- Fleiss' kappa (generalised to unequal numbers of ratings) -----------------------------------------
def _fleiss_parts(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-item pieces whose weighted sums give kappa: agreement, pairable flag, proportions, rated flag."""
    t = np.asarray(table, dtype=np.float64)
    r = t.sum(1)
    pairable = r >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        agree = np.where(pairable, ((t * (t - 1)).sum(1)) / np.where(pairable, r * (r - 1), 1), 0.0)
        props = np.where(r[:, None] > 0, t / np.where(r > 0, r, 1)[:, None], 0.0)
    return agree, pairable.astype(np.float64), props, (r > 0).astype(np.float64)


def _fleiss_weighted(parts: tuple, w: np.ndarray) -> np.ndarray:
    """Kappa for each row of item multiplicities ``w`` (B, items)."""
    agree, pairable, props, rated = parts
    with np.errstate(invalid="ignore", divide="ignore"):
        pa = (w @ agree) / (w @ pairable)
        pi = (w @ props) / (w @ rated)[:, None]
        pe = (pi * pi).sum(1)
        return (pa - pe) / (1.0 - pe)


def fleiss_kappa(table: np.ndarray) -> float:
    """Fleiss' kappa; statsmodels' own when every item has the same number of ratings, else Gwet's
    generalisation (module docstring), which reduces to it."""
    t = np.asarray(table)
    r = t.sum(1)
    if len(r) and (r == r[0]).all() and r[0] >= 2:
        return float(inter_rater.fleiss_kappa(t, method="fleiss"))
    return float(_fleiss_weighted(_fleiss_parts(t), np.ones((1, len(t))))[0])


# -- Krippendorff's alpha (nominal) ---------------------------------------------------------------------
def _alpha_parts(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pairable item: its values (counted into n_c) and its diagonal coincidences sum_c o_cc."""
    t = np.asarray(table, dtype=np.float64)
    m = t.sum(1)
    pairable = m >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        diag = np.where(pairable, (t * (t - 1)).sum(1) / np.where(pairable, m - 1, 1), 0.0)
    return t * pairable[:, None], diag


def _alpha_weighted(parts: tuple[np.ndarray, np.ndarray], w: np.ndarray) -> np.ndarray:
    """Nominal alpha = 1 - (n-1) (n - sum o_cc) / (n^2 - sum n_c^2) for each row of multiplicities."""
    values, diag = parts
    nc = w @ values
    n = nc.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - (n - 1.0) * (n - w @ diag) / (n * n - (nc * nc).sum(1))


def krippendorff_alpha(table: np.ndarray) -> float:
    """Krippendorff's alpha for nominal data, from the ``krippendorff`` package (any number per item)."""
    t = np.asarray(table, dtype=np.float64)
    if (t.sum(1) >= 2).sum() == 0 or (t.sum(0) > 0).sum() < 2:
        return float("nan")  # nothing pairable, or one value only: alpha is undefined
    return float(krippendorff.alpha(value_counts=t, level_of_measurement="nominal"))


# -- Cohen's kappa per pair -------------------------------------------------------------------------------
def cohen_kappa(a: Sequence[int], b: Sequence[int], n_categories: int) -> float:
    """Cohen's kappa of two raters on the items both rated (statsmodels ``cohens_kappa``)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    both = (a >= 0) & (b >= 0)
    if both.sum() < 2:
        return float("nan")
    cross = np.zeros((n_categories, n_categories))
    np.add.at(cross, (a[both], b[both]), 1)
    if cross.sum(0).max() == cross.sum() and cross.sum(1).max() == cross.sum():
        return float("nan")  # both said one thing throughout: chance agreement is 1
    return float(inter_rater.cohens_kappa(cross, return_results=False))


def pairwise_cohen(ratings: np.ndarray, n_categories: int, names: Sequence[str] | None = None) -> list[dict]:
    """Cohen's kappa for every pair of raters (columns of ``ratings``) on the items both rated."""
    r = np.asarray(ratings, np.int64)
    names = list(names) if names is not None else [str(j) for j in range(r.shape[1])]
    out = []
    for i, j in combinations(range(r.shape[1]), 2):
        both = int(((r[:, i] >= 0) & (r[:, j] >= 0)).sum())
        out.append(
            {"a": names[i], "b": names[j], "n": both, "kappa": cohen_kappa(r[:, i], r[:, j], n_categories)}
        )
    return out


# -- bootstrap --------------------------------------------------------------------------------------------
def multiplicities(n_items: int, n_resamples: int, seed: int, batch: int = _BATCH) -> Iterator[np.ndarray]:
    """Batches of (B, n_items) resample multiplicities: each row is one bootstrap draw of the items."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_resamples:
        b = min(batch, n_resamples - done)
        idx = rng.integers(0, n_items, size=(b, n_items))
        flat = (idx + (np.arange(b) * n_items)[:, None]).ravel()
        w = np.bincount(flat, minlength=b * n_items).reshape(b, n_items).astype(np.float64)
        done += b
        yield w


def percentile_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> list[float]:
    """Percentile interval, ignoring resamples where the statistic is undefined."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return [float("nan"), float("nan")]
    tail = (1.0 - confidence) / 2.0 * 100.0
    lo, hi = np.percentile(v, [tail, 100.0 - tail])
    return [float(lo), float(hi)]


def bootstrap_agreement(
    table: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0, confidence: float = CONFIDENCE
) -> dict[str, list[float]]:
    """Percentile intervals of Fleiss' kappa and Krippendorff's alpha, resampling items."""
    t = np.asarray(table)
    if len(t) < 2:
        return {"fleiss_kappa": [float("nan")] * 2, "krippendorff_alpha": [float("nan")] * 2}
    fp, ap = _fleiss_parts(t), _alpha_parts(t)
    kappas, alphas = [], []
    for w in multiplicities(len(t), n_resamples, seed):
        kappas.append(_fleiss_weighted(fp, w))
        alphas.append(_alpha_weighted(ap, w))
    return {
        "fleiss_kappa": percentile_ci(np.concatenate(kappas), confidence),
        "krippendorff_alpha": percentile_ci(np.concatenate(alphas), confidence),
    }


def agreement_report(
    table: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0, confidence: float = CONFIDENCE
) -> dict[str, Any]:
    """Fleiss' kappa and Krippendorff's alpha with bootstrap CIs (JSON-ready)."""
    t = np.asarray(table)
    ci = bootstrap_agreement(t, n_resamples, seed, confidence) if n_resamples else {}
    r = t.sum(1) if len(t) else np.zeros(0)
    return {
        "n_items": int((r >= 2).sum()),
        "ratings_per_item": [int(r.min()), int(r.max())] if len(r) else [0, 0],
        "fleiss_kappa": {"value": fleiss_kappa(t), "ci": ci.get("fleiss_kappa")},
        "krippendorff_alpha": {"value": krippendorff_alpha(t), "ci": ci.get("krippendorff_alpha")},
        "fleiss_method": "statsmodels" if len(r) and (r == r[0]).all() else "gwet2014_generalized",
    }
