"""Late fusion of per-modality class probabilities: soft, hard and weighted voting, mean, max.

Inputs are ``{modality: (B, C) probabilities}`` (or logits, with ``from_logits=True``) plus optional
``{modality: (B,)}`` masks: a masked modality (no face, no audio) takes no part in the vote for that
sample. Every function returns fused probabilities (B, C) so callers can take the arg-max, compare
methods, or feed ``log`` of them on as logits. Seeds 000 (soft/hard/weighted voting) and 001
(majority vote, mean, max, weighted mean with weights chosen on validation) both use these.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

Scores = Mapping[str, Tensor]

#: Fusical's weighted soft vote (seed 000, §5.1.1); laughter is left out, it cannot vote on sentiment.
FUSICAL_VOTE_WEIGHTS: dict[str, float] = {
    "scene": 0.4,
    "pose": 0.1,
    "audio": 0.4,
    "face": 0.05,
    "caption": 0.05,
}


def _stack(
    scores: Scores, masks: Mapping[str, Tensor] | None, names: Sequence[str] | None, from_logits: bool
) -> tuple[list[str], Tensor, Tensor]:
    """(names, probs (M, B, C), mask (M, B)) for the modalities taking part."""
    names = list(names) if names is not None else list(scores)
    if not names:
        raise ValueError("no modalities to fuse")
    probs = torch.stack([scores[n].softmax(-1) if from_logits else scores[n] for n in names])
    ones = torch.ones(probs.shape[:2], dtype=probs.dtype, device=probs.device)
    mask = torch.stack(
        [masks[n].to(probs.dtype).reshape(-1) if masks and n in masks else ones[0] for n in names]
    )
    return names, probs, mask


def _normalise(fused: Tensor, present: Tensor) -> Tensor:
    """Rows where no modality was present become uniform instead of 0/0."""
    num_classes = fused.shape[-1]
    total = fused.sum(-1, keepdim=True)
    uniform = torch.full_like(fused, 1.0 / num_classes)
    return torch.where((present > 0).unsqueeze(-1) & (total > 0), fused / total.clamp_min(1e-12), uniform)


def soft_vote(
    scores: Scores,
    masks: Mapping[str, Tensor] | None = None,
    weights: Mapping[str, float] | None = None,
    names: Sequence[str] | None = None,
    from_logits: bool = False,
) -> Tensor:
    """Weighted average of probabilities (equal weights = the mean of the scores)."""
    if names is None and weights:
        names = [n for n in weights if n in scores]  # weights may name modalities a system lacks
    names, probs, mask = _stack(scores, masks, names, from_logits)
    w = torch.tensor([float(weights[n]) if weights else 1.0 for n in names], dtype=probs.dtype)
    w = w.to(probs.device).unsqueeze(1) * mask  # (M, B)
    fused = (probs * w.unsqueeze(-1)).sum(0)
    return _normalise(fused, w.sum(0))


def mean_scores(
    scores: Scores, masks: Mapping[str, Tensor] | None = None, from_logits: bool = False
) -> Tensor:
    """Seed 001's 'means of the scores' baseline."""
    return soft_vote(scores, masks, from_logits=from_logits)


def weighted_vote(
    scores: Scores, weights: Mapping[str, float], masks: Mapping[str, Tensor] | None = None, **kw: bool
) -> Tensor:
    """Soft vote with per-modality weights (Fusical's 0.4/0.1/0.4/0.05/0.05; seed 001's weighted mean)."""
    return soft_vote(scores, masks, weights=weights, **kw)


def hard_vote(
    scores: Scores,
    masks: Mapping[str, Tensor] | None = None,
    weights: Mapping[str, float] | None = None,
    names: Sequence[str] | None = None,
    from_logits: bool = False,
) -> Tensor:
    """Majority vote: each present modality votes for its arg-max class.

    Returns the vote shares (B, C). Ties are broken towards the class with the higher mean
    probability (a tiny soft-vote term is added), so the arg-max is never decided by class order.
    """
    names, probs, mask = _stack(scores, masks, names, from_logits)
    w = torch.tensor([float(weights[n]) if weights else 1.0 for n in names], dtype=probs.dtype)
    w = w.to(probs.device).unsqueeze(1) * mask
    votes = torch.nn.functional.one_hot(probs.argmax(-1), probs.shape[-1]).to(probs.dtype)
    counts = (votes * w.unsqueeze(-1)).sum(0)
    soft = (probs * w.unsqueeze(-1)).sum(0) / w.sum(0).clamp_min(1e-12).unsqueeze(-1)
    return _normalise(counts + 1e-4 * soft, w.sum(0))


def max_score(scores: Scores, masks: Mapping[str, Tensor] | None = None, from_logits: bool = False) -> Tensor:
    """Seed 001's 'maximum of the scores': per class, the highest probability any modality gives."""
    names, probs, mask = _stack(scores, masks, None, from_logits)
    fused = (probs * mask.unsqueeze(-1)).amax(0)
    return _normalise(fused, mask.sum(0))


def accuracy(probs: Tensor, labels: Tensor) -> float:
    return float((probs.argmax(-1) == labels).float().mean()) if len(labels) else 0.0


def choose_weights(
    scores: Scores,
    labels: Tensor,
    masks: Mapping[str, Tensor] | None = None,
    step: float = 0.1,
    from_logits: bool = False,
) -> dict[str, float]:
    """Weights for ``weighted_vote`` chosen on validation data (seed 001, as the 2016 winners did).

    Exhaustive search over the simplex in ``step`` increments (weights sum to 1); the best
    validation accuracy wins, ties going to the weights closest to uniform, so the choice does not
    depend on the search order.
    """
    names = list(scores)
    n_steps = round(1.0 / step)
    if abs(n_steps * step - 1.0) > 1e-9:
        raise ValueError(f"step must divide 1 evenly, got {step}")
    best: tuple[float, float] | None = None
    best_w: dict[str, float] = {}
    for combo in itertools.product(range(n_steps + 1), repeat=len(names) - 1):
        last = n_steps - sum(combo)
        if last < 0:
            continue
        w = {n: k * step for n, k in zip(names, (*combo, last), strict=True)}
        acc = accuracy(weighted_vote(scores, w, masks, from_logits=from_logits), labels)
        spread = -sum((v - 1.0 / len(names)) ** 2 for v in w.values())
        if best is None or (acc, spread) > best:
            best, best_w = (acc, spread), w
    return best_w
