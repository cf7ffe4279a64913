"""Squeeze-excitation fusion of seed 002 (its equations 2–4), after Hu et al.'s SE block.

``F1 = ReLU(BN(W1 F))`` reduces the concatenated modality descriptors ``F`` to ``out_dim`` (512 in
the paper, the MLP's input); ``F2 = sigmoid(W3 BN(ReLU(W2 F1)))`` squeezes ``F1`` by ``reduction``
and excites it back to ``out_dim`` gates; the fused feature is the element-wise product
``F1 · F2``. The paper names no reduction ratio: 8 is NeXtVLAD's own context-gating reduction.
"""

from __future__ import annotations

import torch
from torch import nn


class SqueezeExcitationFusion(nn.Module):
    """(B, in_dim) concatenated features → (B, out_dim) gated features."""

    def __init__(self, in_dim: int, out_dim: int = 512, reduction: int = 8) -> None:
        super().__init__()
        squeezed = max(out_dim // reduction, 1)
        # W1 carries no bias: BN right after it supplies the shift (eq. 2).
        self.w1 = nn.Linear(in_dim, out_dim, bias=False)
        self.bn1 = nn.BatchNorm1d(out_dim)
        self.w2 = nn.Linear(out_dim, squeezed)
        self.bn2 = nn.BatchNorm1d(squeezed)
        self.w3 = nn.Linear(squeezed, out_dim)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The fused features ``F1 · F2`` and the gates ``F2`` (kept for explanation)."""
        f1 = torch.relu(self.bn1(self.w1(features)))  # eq. 2
        f2 = torch.sigmoid(self.w3(self.bn2(torch.relu(self.w2(f1)))))  # eq. 3
        return f1 * f2, f2  # eq. 4
