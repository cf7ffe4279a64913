"""Score trees (seed 001, §2.6): fusing scores (late) and features (early) at several levels.

Level 1: a small FC classifier per modality maps that modality's features to C scores. Level 2:
for each modality, its level-1 scores are concatenated with the unimodal scores of the other
modalities (n·C values) and another FC classifier outputs C scores — predictions made knowing the
other modalities' predictions. Level 3: the n level-2 predictions are concatenated and a last FC
classifier gives the overall scores. Works for any number of modalities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn


def _classifier(d_in: int, hidden: int, num_classes: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, num_classes)
    )


@dataclass
class ScoreTreeOutput:
    logits: Tensor  # (B, C) overall
    level1: list[Tensor]  # per modality (B, C) from its features
    level2: list[Tensor]  # per modality (B, C) given the others' scores


class ScoreTree(nn.Module):
    """Hierarchical score-and-feature fusion of n modalities."""

    def __init__(self, in_dims: Sequence[int], num_classes: int, hidden: int = 64, dropout: float = 0.3):
        super().__init__()
        n = len(in_dims)
        self.num_classes = num_classes
        self.level1 = nn.ModuleList(_classifier(d, hidden, num_classes, dropout) for d in in_dims)
        self.level2 = nn.ModuleList(
            _classifier(n * num_classes, hidden, num_classes, dropout) for _ in in_dims
        )
        self.level3 = _classifier(n * num_classes, hidden, num_classes, dropout)

    def forward(
        self, features: Sequence[Tensor], scores: Sequence[Tensor], masks: Tensor | None = None
    ) -> ScoreTreeOutput:
        """``features`` per modality (B, d_m); ``scores`` per modality (B, C) unimodal probabilities.

        ``masks`` (B, n): an absent modality's features and scores enter as zeros.
        """
        n = len(features)
        b = features[0].shape[0]
        gate = masks.float() if masks is not None else features[0].new_ones(b, n)
        feats = [f * gate[:, i : i + 1] for i, f in enumerate(features)]
        unimodal = [s * gate[:, i : i + 1] for i, s in enumerate(scores)]
        l1 = [net(f) for net, f in zip(self.level1, feats, strict=True)]
        l2 = []
        for i, net in enumerate(self.level2):
            own = l1[i].softmax(-1) * gate[:, i : i + 1]
            others = [unimodal[j] for j in range(n) if j != i]
            l2.append(net(torch.cat([own, *others], dim=1)))
        top = self.level3(torch.cat([p.softmax(-1) for p in l2], dim=1))
        return ScoreTreeOutput(top, l1, l2)
