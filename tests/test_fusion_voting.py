"""Late fusion: soft, hard, weighted votes, mean, max, and weights chosen on validation."""

from __future__ import annotations

import pytest
import torch

from affectscope.models.fusion.voting import (
    FUSICAL_VOTE_WEIGHTS,
    choose_weights,
    hard_vote,
    max_score,
    mean_scores,
    soft_vote,
    weighted_vote,
)

P = {
    "scene": torch.tensor([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]),
    "pose": torch.tensor([[0.1, 0.8, 0.1], [0.1, 0.3, 0.6]]),
    "audio": torch.tensor([[0.2, 0.7, 0.1], [0.7, 0.2, 0.1]]),
}


def test_soft_vote_is_the_mean_and_masks_drop_a_modality() -> None:
    fused = soft_vote(P)
    assert torch.allclose(fused, (P["scene"] + P["pose"] + P["audio"]) / 3)
    assert torch.allclose(mean_scores(P), fused)
    masked = soft_vote(P, {"pose": torch.tensor([1.0, 0.0])})
    assert torch.allclose(masked[1], (P["scene"][1] + P["audio"][1]) / 2)
    nothing = soft_vote(P, {m: torch.zeros(2) for m in P})
    assert torch.allclose(nothing, torch.full((2, 3), 1 / 3))  # no modality: uniform, not NaN


def test_hard_vote_counts_arg_maxes_and_breaks_ties_by_probability() -> None:
    votes = hard_vote(P)
    assert votes[0].argmax() == 1 and votes[0, 1] == pytest.approx(2 / 3, abs=1e-3)
    # Sample 1: scene and pose vote 2, audio 0 -> class 2.
    assert votes[1].argmax() == 2
    tie = hard_vote({"a": torch.tensor([[0.9, 0.1, 0.0]]), "b": torch.tensor([[0.0, 0.6, 0.4]])})
    assert tie.argmax() == 0  # one vote each; class 0 has the higher mean probability (0.45 vs 0.35)


def test_weighted_vote_uses_fusicals_weights_and_ignores_absent_names() -> None:
    fused = weighted_vote(P, FUSICAL_VOTE_WEIGHTS)  # face and caption are not in P
    w = {"scene": 0.4, "pose": 0.1, "audio": 0.4}
    expected = sum(w[m] * P[m] for m in w) / 0.9
    assert torch.allclose(fused, expected)
    logits = {m: p.log() for m, p in P.items()}
    assert torch.allclose(weighted_vote(logits, w, from_logits=True), expected, atol=1e-6)


def test_max_score_takes_the_most_confident_modality_per_class() -> None:
    fused = max_score(P)
    raw = torch.stack(list(P.values())).amax(0)
    assert torch.allclose(fused, raw / raw.sum(-1, keepdim=True))


def test_choose_weights_finds_the_informative_modality() -> None:
    torch.manual_seed(0)
    labels = torch.randint(0, 3, (60,))
    informative = torch.nn.functional.one_hot(labels, 3).float() * 0.6 + 0.4 / 3
    noise = {f"n{i}": torch.distributions.Dirichlet(torch.ones(3)).sample((60,)) for i in range(2)}
    weights = choose_weights({"good": informative, **noise}, labels, step=0.25)
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["good"] == max(weights.values())
    acc = (weighted_vote({"good": informative, **noise}, weights).argmax(-1) == labels).float().mean()
    assert acc == 1.0
    with pytest.raises(ValueError, match="step"):
        choose_weights(P, torch.zeros(2, dtype=torch.long), step=0.3)
