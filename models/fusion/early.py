"""FC early fusion of frozen branches (seed 000, Fusical's best ensemble).

Each branch, trained on its own and then frozen, is cut at a hidden layer; those hidden layers
are concatenated and fed to a two-layer perceptron: FC + ReLU, then FC to the classes (softmax in
the loss). A modality that is absent for a sample contributes zeros, so the layer sees the same
input as when that branch is ablated.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn


class FCEarlyFusion(nn.Module):
    """concat(hidden_m * mask_m for m in modalities) -> Linear -> ReLU -> Linear(num_classes)."""

    def __init__(self, in_dims: Mapping[str, int], num_classes: int, hidden: int = 64, dropout: float = 0.0):
        super().__init__()
        self.names = tuple(in_dims)
        self.in_dims = dict(in_dims)
        self.net = nn.Sequential(
            nn.Linear(sum(in_dims.values()), hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def concat(self, hidden: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None) -> Tensor:
        """The fusion input (B, sum of dims), absent modalities zeroed."""
        parts = []
        for name in self.names:
            h = hidden[name].flatten(1)
            if masks is not None and name in masks:
                h = h * masks[name].to(h.dtype).reshape(-1, 1)
            parts.append(h)
        return torch.cat(parts, dim=1)

    def forward(self, hidden: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None) -> Tensor:
        return self.net(self.concat(hidden, masks))
