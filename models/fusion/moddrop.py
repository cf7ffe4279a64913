"""ModDrop fusion with the decaying off-diagonal block weight decay (seed 001, §2.6, after Neverova et al.).

The modalities' features are concatenated and passed through a first fully connected layer whose
weight matrix W1 splits into n×n blocks ``W1[k, l]`` (hidden block k, modality l): diagonal blocks
carry unimodal information, off-diagonal blocks cross-modal information. During training whole
modalities are dropped at random (ModDrop). To keep unimodal information while the cross-modal
blocks are learnt, the loss gets ``gamma(t) * sum_{k != l} ||W1[k, l]||_2`` with gamma decreasing
over training (``GammaSchedule``): large gamma first zeroes the off-diagonal blocks, lowering it
reintroduces them. Neverova's original alternative, forcing the off-diagonal blocks to zero for a
number of iterations, is ``cross_modal=False``. A second regular FC layer outputs the scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class GammaSchedule:
    """gamma(t) = gamma0 * decay**t, and 0 from ``stop`` on (t counts epochs or iterations)."""

    gamma0: float = 1.0
    decay: float = 0.9
    stop: int | None = None

    def __call__(self, t: int) -> float:
        if self.stop is not None and t >= self.stop:
            return 0.0
        return self.gamma0 * self.decay**t


class ModDropFusion(nn.Module):
    """Two FC layers over concatenated modality features, with modality dropout on the input."""

    def __init__(
        self,
        in_dims: Sequence[int],
        hidden_dims: Sequence[int] | int,
        num_classes: int,
        p_drop: float = 0.2,
        dropout: float = 0.3,
    ):
        super().__init__()
        n = len(in_dims)
        hidden = [hidden_dims] * n if isinstance(hidden_dims, int) else list(hidden_dims)
        if len(hidden) != n:
            raise ValueError(f"{n} modalities but {len(hidden)} hidden blocks")
        self.in_dims, self.hidden_dims = list(in_dims), hidden
        self.p_drop = p_drop
        self.first = nn.Linear(sum(in_dims), sum(hidden))
        self.act = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(sum(hidden), num_classes)
        #: False = Neverova's warm-up: off-diagonal blocks held at zero
        self.cross_modal = True
        self.register_buffer("_diag", self._block_diagonal(), persistent=False)

    def _block_diagonal(self) -> Tensor:
        mask = torch.zeros(sum(self.hidden_dims), sum(self.in_dims))
        r = c = 0
        for h, d in zip(self.hidden_dims, self.in_dims, strict=True):
            mask[r : r + h, c : c + d] = 1.0
            r, c = r + h, c + d
        return mask

    def block(self, k: int, l: int) -> Tensor:  # noqa: E741 - the paper's indices
        """W1[k, l]: how modality l feeds hidden block k."""
        r = sum(self.hidden_dims[:k])
        c = sum(self.in_dims[:l])
        return self.first.weight[r : r + self.hidden_dims[k], c : c + self.in_dims[l]]

    def off_diagonal_penalty(self) -> Tensor:
        """sum over k != l of the Frobenius norm ||W1[k, l]||_2 (the term gamma multiplies)."""
        n = len(self.in_dims)
        terms = [self.block(k, l).norm() for k in range(n) for l in range(n) if k != l]  # noqa: E741
        return torch.stack(terms).sum() if terms else self.first.weight.new_zeros(())

    def modality_keep(self, batch: int, device: torch.device) -> Tensor:
        """(B, n) 0/1: which modalities survive ModDrop for each sample (never all dropped)."""
        n = len(self.in_dims)
        keep = (torch.rand(batch, n, device=device) >= self.p_drop).float()
        none = keep.sum(1) == 0
        if none.any():  # keep one modality, chosen at random, where all were dropped
            pick = torch.randint(0, n, (int(none.sum()),), device=device)
            keep[none] = nn.functional.one_hot(pick, n).float()
        return keep

    def forward(self, features: Sequence[Tensor], masks: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(logits (B, C), hidden (B, sum hidden)); ``masks`` (B, n) zeroes absent modalities."""
        b = features[0].shape[0]
        gate = masks.float() if masks is not None else features[0].new_ones(b, len(features))
        if self.training and self.p_drop > 0:
            gate = gate * self.modality_keep(b, features[0].device)
        x = torch.cat([f * gate[:, i : i + 1] for i, f in enumerate(features)], dim=1)
        weight = self.first.weight if self.cross_modal else self.first.weight * self._diag
        hidden = self.act(nn.functional.linear(x, weight, self.first.bias))
        return self.out(self.dropout(hidden)), hidden
