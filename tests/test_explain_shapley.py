"""Modality Shapley values, leave-one-out and live ablation (issue 9)."""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np
import pytest
import torch
from torch import nn

from affectscope.models.explain.shapley import (
    ModalityTable,
    leave_one_out,
    masked_batch,
    shapley_values,
    subset_table,
)
from affectscope.models.systems.base import EmotionSystem, SystemOutput


class Twins(EmotionSystem):
    """Three modalities; ``a`` and ``b`` are interchangeable, ``c`` interacts with them nonlinearly,
    ``d`` is ignored: a system whose Shapley values obey known axioms."""

    modalities = ("a", "b", "c", "d")

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.shared = nn.Linear(4, 8)
        self.other = nn.Linear(4, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, batch):  # type: ignore[override]
        h = sum(self.shared(batch[m]) * batch[f"{m}_mask"][:, None] for m in ("a", "b"))
        h = torch.tanh(h) * (1 + self.other(batch["c"]) * batch["c_mask"][:, None])
        return SystemOutput(self.head(torch.relu(h)))


def twin_batch(n: int = 5) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, 4, generator=g)
    batch = {"a": x, "b": x.clone(), "c": torch.randn(n, 4, generator=g), "d": torch.randn(n, 4, generator=g)}
    for m in "abcd":
        batch[f"{m}_mask"] = torch.ones(n)
    return batch


def permutation_shapley(values: np.ndarray, m: int) -> np.ndarray:
    """Shapley values as the mean marginal contribution over all M! orders (independent definition)."""
    phi = np.zeros((m, *values.shape[1:]))
    for order in itertools.permutations(range(m)):
        s = 0
        for i in order:
            phi[i] += values[s | 1 << i] - values[s]
            s |= 1 << i
    return phi / factorial(m)


def test_efficiency_symmetry_and_dummy_on_twin_modalities() -> None:
    system = Twins().eval()
    batch = twin_batch()
    table = subset_table(system, batch, chunk=7)  # chunks cut across subsets: order must survive
    assert table.shape == (16, 5, 3)
    for c in range(3):
        phi = shapley_values(table[:, :, c])
        # Efficiency: the values sum to f(all) - f(none).
        np.testing.assert_allclose(phi.sum(0), table[-1, :, c] - table[0, :, c], atol=1e-6)
        # Symmetry: identical modalities get identical values; the ignored one gets none.
        np.testing.assert_allclose(phi[0], phi[1], atol=1e-9)
        np.testing.assert_allclose(phi[3], 0.0, atol=1e-12)
        assert np.abs(phi[0]).max() > 1e-3 and np.abs(phi[2]).max() > 1e-3
        np.testing.assert_allclose(phi, permutation_shapley(table[:, :, c], 4), atol=1e-12)


def test_subset_rows_are_the_masked_forward_passes() -> None:
    system = Twins().eval()
    batch = twin_batch(3)
    table = subset_table(system, batch)
    for bits in (0, 0b0101, 0b1011, 0b1111):
        with torch.no_grad():
            direct = system(masked_batch(batch, system.modalities, bits)).logits.double().softmax(-1).numpy()
        np.testing.assert_allclose(table[bits], direct, atol=1e-7)
    # Masking a modality = zeroing it and its mask, as batch_from_signals does when it is missing.
    masked = masked_batch(batch, system.modalities, 0b0111)
    assert float(masked["d_mask"].sum()) == 0 and float(masked["d"].abs().sum()) == 0
    assert torch.equal(masked["a"], batch["a"])


def test_leave_one_out_and_live_ablation_lookup() -> None:
    system = Twins().eval()
    batch = twin_batch(4)
    t = ModalityTable(system.modalities, ("x", "y", "z"), np.arange(4.0), subset_table(system, batch))
    loo = leave_one_out(t.probs[:, :, 0])
    np.testing.assert_allclose(loo[2], t.probs[15, :, 0] - t.probs[0b1011, :, 0])
    np.testing.assert_allclose(t.fused(["a", "c"]), t.probs[0b0101])
    assert t.leave_one_out(0, 1)["d"] == pytest.approx(0.0, abs=1e-12)
    lane = t.shapley_over_time(0)
    assert lane.shape == (4, 4)
    np.testing.assert_allclose(lane.sum(1), t.probs[-1, :, 0] - t.probs[0, :, 0], atol=1e-9)
    with pytest.raises(ValueError):
        t.fused(["e"])
