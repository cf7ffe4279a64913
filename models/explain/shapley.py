"""Exact modality Shapley values, leave-one-out deltas and live ablation from one subset table.

Every system takes ``<modality>_mask``; masking a modality (``systems.ablation.mask_modality``) makes
it look absent exactly as a clip without it would. For M ≤ 6 modalities we run all 2^M subsets of
present modalities in one batched pass and keep the table of fused probabilities
(subset, window, class). From that table:

* exact Shapley values over modalities: φ_i = Σ_S |S|!(M−|S|−1)!/M! · (v(S∪{i}) − v(S)), which sum to
  v(all) − v(none) (efficiency) up to float64 rounding;
* leave-one-out deltas v(all) − v(all∖{i});
* live ablation: the fused timeline for any set of ticked modalities is a row of the table, so a
  checkbox toggle costs a lookup, not a forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import factorial

import numpy as np
import torch

from affectscope.models.systems.ablation import mask_modality
from affectscope.models.systems.base import Batch, EmotionSystem

MAX_MODALITIES = 6


def subset_bits(present: Sequence[str], modalities: Sequence[str]) -> int:
    """The subset index (bit i set = modality i present) of ``present``."""
    unknown = set(present) - set(modalities)
    if unknown:
        raise ValueError(f"unknown modalities {sorted(unknown)}; the system has {list(modalities)}")
    return sum(1 << i for i, m in enumerate(modalities) if m in present)


def masked_batch(batch: Batch, modalities: Sequence[str], bits: int) -> Batch:
    """``batch`` with every modality whose bit is not set in ``bits`` masked out."""
    out = batch
    for i, m in enumerate(modalities):
        if not bits >> i & 1:
            out = mask_modality(out, m)
    return out


def subset_table(
    system: EmotionSystem,
    batch: Batch,
    modalities: Sequence[str] | None = None,
    chunk: int = 64,
) -> np.ndarray:
    """Fused probabilities (2^M, B, C) float64 for every subset of present modalities.

    Subsets are stacked along the batch dimension and run ``chunk`` samples at a time (one
    forward pass for small clips). A modality that is already missing in ``batch`` stays missing.
    """
    names = list(modalities or system.modalities)
    if len(names) > MAX_MODALITIES:
        raise ValueError(
            f"exact Shapley over {len(names)} modalities is too costly (at most {MAX_MODALITIES})"
        )
    n_sub = 1 << len(names)
    b = next(iter(batch.values())).shape[0]
    stacked = {k: torch.cat([masked_batch(batch, names, s)[k] for s in range(n_sub)], dim=0) for k in batch}
    total = n_sub * b
    out = []
    with torch.no_grad():
        for c0 in range(0, total, chunk):
            part = {k: v[c0 : c0 + chunk] for k, v in stacked.items()}
            out.append(system(part).logits.double().softmax(-1).cpu().numpy())
    probs = np.concatenate(out)
    return probs.reshape(n_sub, b, -1)


def shapley_values(values: np.ndarray) -> np.ndarray:
    """Exact Shapley values (M, ...) from subset values (2^M, ...) indexed by bit masks."""
    n_sub = values.shape[0]
    m = n_sub.bit_length() - 1
    if 1 << m != n_sub:
        raise ValueError("values must have 2^M rows, one per subset")
    v = np.asarray(values, dtype=np.float64)
    phi = np.zeros((m, *v.shape[1:]), dtype=np.float64)
    weights = [factorial(k) * factorial(m - k - 1) / factorial(m) for k in range(m)]
    for i in range(m):
        for s in range(n_sub):
            if s >> i & 1:
                continue
            phi[i] += weights[bin(s).count("1")] * (v[s | 1 << i] - v[s])
    return phi


def leave_one_out(values: np.ndarray) -> np.ndarray:
    """v(all) − v(all without i), (M, ...), from the subset values."""
    n_sub = values.shape[0]
    m = n_sub.bit_length() - 1
    full = n_sub - 1
    return np.stack([values[full] - values[full & ~(1 << i)] for i in range(m)])


@dataclass
class ModalityTable:
    """The subset table of one clip (or one window) and what it answers."""

    modalities: tuple[str, ...]
    labels: tuple[str, ...]
    times: np.ndarray  # (T,) window centres
    probs: np.ndarray  # (2^M, T, C) fused probabilities per subset

    @property
    def full(self) -> np.ndarray:
        return self.probs[-1]

    def fused(self, present: Sequence[str]) -> np.ndarray:
        """(T, C) fused probabilities with only ``present`` modalities (live ablation: a lookup)."""
        return self.probs[subset_bits(present, self.modalities)]

    def target_index(self, target: str | int | None, window: int | None = None) -> int:
        """The class index: a label, an index, or None for the predicted class (at ``window`` or clip)."""
        if target is None:
            p = self.full[window] if window is not None else self.full.mean(axis=0)
            return int(np.argmax(p))
        if isinstance(target, str):
            if target not in self.labels:
                raise ValueError(f"unknown target {target!r}; labels are {list(self.labels)}")
            return self.labels.index(target)
        return int(target)

    def values(self, target: int, window: int | None = None) -> np.ndarray:
        """v(S) for every subset: the target's probability at ``window`` or averaged over the clip."""
        v = self.probs[:, :, target]
        return v[:, window] if window is not None else v.mean(axis=1)

    def shapley(self, target: int, window: int | None = None) -> dict[str, float]:
        phi = shapley_values(self.values(target, window))
        return {m: float(x) for m, x in zip(self.modalities, phi, strict=True)}

    def leave_one_out(self, target: int, window: int | None = None) -> dict[str, float]:
        loo = leave_one_out(self.values(target, window))
        return {m: float(x) for m, x in zip(self.modalities, loo, strict=True)}

    def shapley_over_time(self, target: int) -> np.ndarray:
        """(T, M) per-window Shapley values of the target class: the contribution lane."""
        return shapley_values(self.probs[:, :, target]).T

    def nearest(self, t: float) -> int:
        return int(np.argmin(np.abs(self.times - t))) if len(self.times) else 0
