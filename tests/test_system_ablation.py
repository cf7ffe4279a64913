"""Modality ablation and activation shares, on a real system (Fusical) and a hand-made one."""

from __future__ import annotations

import torch

from affectscope.models.systems.ablation import (
    ablate,
    ablation_study,
    macro_scores,
    mask_modality,
    modality_activation,
)
from affectscope.models.systems.base import Batch, EmotionSystem, SystemOutput
from affectscope.models.systems.fusical import build as build_fusical
from tests.signals_factory import make_signals


class _Sum(EmotionSystem):
    """Fused logits = a's input + 0.1·b's input: modality a decides, b barely matters."""

    modalities = ("a", "b")

    def forward(self, batch: Batch) -> SystemOutput:  # type: ignore[override]
        a = batch["a"] * batch["a_mask"].unsqueeze(1)
        b = batch["b"] * batch["b_mask"].unsqueeze(1)
        return SystemOutput(a + 0.1 * b, {"a": a, "b": b}, {"a": a, "b": b})


def _batch() -> Batch:
    return {
        "a": torch.tensor([[3.0, 0.0, 0.0], [0.0, 0.0, 3.0]]),
        "a_mask": torch.ones(2),
        "a_len": torch.tensor([5, 5]),
        "b": torch.tensor([[0.0, 2.0, 0.0], [0.0, 2.0, 0.0]]),
        "b_mask": torch.ones(2),
    }


def test_mask_modality_zeroes_only_that_modality_and_keeps_lengths() -> None:
    out = mask_modality(_batch(), "a")
    assert not out["a"].any() and not out["a_mask"].any()
    assert torch.equal(out["a_len"], _batch()["a_len"])
    assert torch.equal(out["b"], _batch()["b"])


def test_ablation_and_activation_name_the_deciding_modality() -> None:
    system = _Sum()
    result = ablate(system, _batch())
    assert result["a"].changed.all() and not result["b"].changed.any()
    shares = modality_activation(system, _batch())
    assert (shares["a"] > 0.9).all() and torch.allclose(shares["a"] + shares["b"], torch.ones(2))


def test_ablation_study_reports_the_drop_per_modality() -> None:
    system = _Sum()
    study = ablation_study(system, [(_batch(), torch.tensor([0, 2]))])
    assert study.full["accuracy"] == 1.0
    drop = study.drop("accuracy")
    assert drop["a"] == 1.0 and drop["b"] == 0.0


def test_macro_scores() -> None:
    s = macro_scores(torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 2]), 3)
    assert s["accuracy"] == 0.75
    assert abs(s["precision"] - (0.5 + 1 + 1) / 3) < 1e-9 and abs(s["recall"] - (1 + 0.5 + 1) / 3) < 1e-9


def test_ablation_on_fusical_covers_all_six_modalities() -> None:
    torch.manual_seed(0)
    system = build_fusical().eval()
    batch = system.batch_from_signals(make_signals(), 0.0, 5.0)
    result = ablate(system, batch)
    assert set(result) == set(system.modalities)
    assert not result["caption"].delta.any()  # no caption was supplied: masking it changes nothing
    assert result["scene"].delta.abs().sum() > 0
    shares = modality_activation(system, batch)
    total = sum(shares.values())
    assert torch.allclose(total, torch.ones(1)) or not total.any()
