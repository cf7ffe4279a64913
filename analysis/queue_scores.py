"""Scores that order a relabel queue: which labels are worth a second look, and why.

Every score is "higher = look sooner" on plain arrays (numpy, scikit-learn, cleanlab, krippendorff):

- uncertainty of the fused prediction: normalised entropy, or 1 - margin between the two top classes;
- label issues (cleanlab): 1 - label quality of the current label under *out-of-fold* probabilities
  (a model that saw a label cannot judge it; ``out_of_fold_probs`` makes such probabilities);
- disagreement among people: vote entropy, and a per-item Krippendorff's alpha (nominal), the unit
  decomposition whose vote-weighted mean is the data set's alpha; votes come from any source
  (annotators' label history, reader studies) as one list of labels per item;
- modality conflict: Jensen-Shannon distance between per-modality heads (face vs voice), base 2;
- a combined score: a weighted mean of the scores' percentile ranks, weights visible and renormalised
  over the scores an item has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

SCORES = ("uncertainty", "label-issues", "disagreement", "modality-conflict")
DEFAULT_WEIGHTS = {"uncertainty": 1.0, "label-issues": 2.0, "disagreement": 1.0, "modality-conflict": 0.5}


def _probs(probs: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probabilities must be (items, classes>=2), got shape {p.shape}")
    p = np.clip(p, 0.0, None)
    return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)


def entropy(probs: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Shannon entropy divided by log(K): 0 = certain, 1 = uniform."""
    p = _probs(probs)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return h / np.log(p.shape[1])


def margin_uncertainty(probs: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """1 - (top probability - runner-up): 1 when the two best classes tie."""
    p = np.sort(_probs(probs), axis=1)
    return 1.0 - (p[:, -1] - p[:, -2])


def label_issue_scores(labels: Sequence[int] | np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """1 - cleanlab's label quality (self-confidence) of each given label under out-of-fold probabilities."""
    from cleanlab.rank import get_label_quality_scores

    return 1.0 - get_label_quality_scores(np.asarray(labels, dtype=int), _probs(pred_probs))


def find_label_issues(labels: Sequence[int] | np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """cleanlab's boolean mask of likely label errors (confident learning, prune by noise rate)."""
    from cleanlab.filter import find_label_issues as _find

    return _find(np.asarray(labels, dtype=int), _probs(pred_probs))


def out_of_fold_probs(
    x: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    n_classes: int,
    groups: Sequence[object] | None = None,
    folds: int = 5,
    seed: int = 0,
    make_model: Callable[[], Any] | None = None,
) -> np.ndarray:
    """Predicted probabilities of each item by a model that never saw the item's label.

    The model is ``make_model()`` (any scikit-learn classifier with ``predict_proba``), by default a
    standardised logistic regression.

    Folds are speaker-grouped when ``groups`` are given (and enough groups exist), stratified otherwise.
    Classes missing from a fold's training part get probability 0 there (columns stay ``n_classes``).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(x, dtype=float)
    y = np.asarray(labels, dtype=int)
    counts = np.bincount(y, minlength=n_classes)
    k = int(min(folds, max(2, counts[counts > 0].min())))
    if groups is not None and len(set(groups)) >= k:
        splits = GroupKFold(n_splits=k).split(x, y, groups=list(groups))
    else:
        splits = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(x, y)
    out = np.full((len(y), n_classes), 1.0 / n_classes)
    for train, test in splits:
        present = np.unique(y[train])
        if len(present) < 2:
            continue
        if make_model is not None:
            model = make_model()
        else:
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500, C=1.0))
        model.fit(x[train], y[train])
        out[test] = 0.0
        out[np.ix_(test, present)] = model.predict_proba(x[test])
    return out


def vote_entropy(votes: Sequence[Sequence[object]], n_classes: int | None = None) -> np.ndarray:
    """Entropy of each item's votes over log(K), K = ``n_classes`` or the values seen; NaN under 2 votes."""
    k = n_classes or max(len({str(v) for item in votes for v in item}), 2)
    out = np.full(len(votes), np.nan)
    for i, item in enumerate(votes):
        if len(item) < 2:
            continue
        _, c = np.unique(np.asarray([str(v) for v in item]), return_counts=True)
        p = c / c.sum()
        out[i] = float(-(p * np.log(p)).sum() / np.log(k))
    return out


def item_alpha(votes: Sequence[Sequence[object]]) -> np.ndarray:
    """Per-item nominal Krippendorff's alpha: 1 - (item's share of disagreeing vote pairs) / D_e.

    D_e is the data set's expected disagreement over all pairable votes, so the vote-weighted mean of
    the items' values equals ``krippendorff.alpha(..., level_of_measurement="nominal")``. NaN where an
    item has fewer than two votes (or nobody ever disagrees anywhere: D_e = 0).
    """
    pairable = [[str(v) for v in item] for item in votes if len(item) >= 2]
    n = sum(len(item) for item in pairable)
    out = np.full(len(votes), np.nan)
    if n < 2:
        return out
    _, totals = np.unique(np.concatenate([np.asarray(item) for item in pairable]), return_counts=True)
    d_e = (n * n - float((totals**2).sum())) / (n * (n - 1))
    if d_e <= 0:
        return out
    for i, item in enumerate(votes):
        m = len(item)
        if m < 2:
            continue
        _, c = np.unique(np.asarray([str(v) for v in item]), return_counts=True)
        d_u = (m * m - float((c**2).sum())) / (m * (m - 1))
        out[i] = 1.0 - d_u / d_e
    return out


def disagreement(votes: Sequence[Sequence[object]], n_classes: int | None = None) -> np.ndarray:
    """The queue's disagreement score: vote entropy (NaN where fewer than two votes)."""
    return vote_entropy(votes, n_classes)


def modality_conflict(per_modality: Mapping[str, np.ndarray]) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Largest Jensen-Shannon distance (base 2, in [0, 1]) between any two modality heads per item.

    Returns the scores and, per item, the pair of modalities that disagree most ("", "" when fewer
    than two heads).
    """
    from scipy.spatial.distance import jensenshannon

    names = sorted(per_modality)
    n = len(next(iter(per_modality.values()))) if names else 0
    best = np.full(n, np.nan)
    pairs: list[tuple[str, str]] = [("", "")] * n
    for a, b in combinations(names, 2):
        pa, pb = _probs(per_modality[a]), _probs(per_modality[b])
        d = np.asarray(jensenshannon(pa, pb, base=2, axis=1), dtype=float)
        for i in range(n):
            if np.isnan(best[i]) or d[i] > best[i]:
                best[i], pairs[i] = d[i], (a, b)
    return best, pairs


def percentile_rank(score: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1] (ties share their mean rank); NaN stays NaN."""
    from scipy.stats import rankdata

    score = np.asarray(score, dtype=float)
    out = np.full(score.shape, np.nan)
    ok = ~np.isnan(score)
    if ok.sum() == 1:
        out[ok] = 1.0
    elif ok.any():
        out[ok] = (rankdata(score[ok]) - 1) / (ok.sum() - 1)
    return out


def combined(scores: Mapping[str, np.ndarray], weights: Mapping[str, float] | None = None) -> np.ndarray:
    """Weighted mean of the scores' percentile ranks; an item's missing scores drop out of its mean."""
    weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
    n = len(next(iter(scores.values()))) if scores else 0
    total, mass = np.zeros(n), np.zeros(n)
    for name, score in scores.items():
        w = float(weights.get(name, 0.0))
        if w <= 0:
            continue
        r = percentile_rank(score)
        ok = ~np.isnan(r)
        total[ok] += w * r[ok]
        mass[ok] += w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mass > 0, total / np.where(mass > 0, mass, 1.0), np.nan)


def order(score: np.ndarray) -> np.ndarray:
    """Item indices, highest score first; NaN last; ties by index (stable, reproducible)."""
    score = np.asarray(score, dtype=float)
    key = np.where(np.isnan(score), -np.inf, score)
    return np.argsort(-key, kind="stable")


def found_in_top(order_idx: np.ndarray, is_target: np.ndarray, fraction: float = 0.2) -> float:
    """Share of target items (e.g. flipped labels) among the first ``fraction`` of a queue order."""
    is_target = np.asarray(is_target, dtype=bool)
    k = int(round(fraction * len(order_idx)))
    return float(is_target[np.asarray(order_idx)[:k]].sum() / max(is_target.sum(), 1))
