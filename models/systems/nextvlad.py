"""NeXtVLAD (Lin et al., ECCV-W 2018): aggregate a sequence of frame features into one vector.

Seed 002 puts one after each modality's transformer encoder (groups 8, clusters 4). The layout
follows the authors' TensorFlow code (linrongc/youtube-8m ``NeXtVLAD``): expand the features by
``expansion``, split them into ``groups`` lower-dimensional groups, softly assign every group of
every frame to ``clusters`` centres (batch-normalised logits, softmax over clusters), weight the
assignment by a sigmoid attention per group, sum the residuals to the centres, intra-normalise per
cluster and batch-normalise the flattened result. The output has ``clusters * expansion * dim /
groups`` features, far fewer than NetVLAD's ``clusters * dim``: that is the point of the method.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class NeXtVLAD(nn.Module):
    """(B, T, dim) frame features → (B, clusters * expansion * dim // groups) video descriptor."""

    def __init__(self, dim: int, clusters: int = 4, groups: int = 8, expansion: int = 2) -> None:
        super().__init__()
        if (expansion * dim) % groups:
            raise ValueError(f"expansion*dim ({expansion * dim}) must be divisible by groups ({groups})")
        self.dim, self.clusters, self.groups, self.expansion = dim, clusters, groups, expansion
        self.group_dim = expansion * dim // groups
        wide = expansion * dim
        self.expand = nn.Linear(dim, wide)
        self.group_attention = nn.Linear(wide, groups)
        # No bias: the batch norm right after it has its own shift.
        self.assignment = nn.Linear(wide, groups * clusters, bias=False)
        self.assignment_bn = nn.BatchNorm1d(groups * clusters)
        self.centres = nn.Parameter(torch.randn(self.group_dim, clusters) / self.group_dim**0.5)
        self.out_bn = nn.BatchNorm1d(clusters * self.group_dim)
        nn.init.normal_(self.assignment.weight, std=1.0 / wide**0.5)

    @property
    def out_features(self) -> int:
        return self.clusters * self.group_dim

    def forward(self, x: torch.Tensor, frame_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``frame_mask`` (B, T) of 0/1 drops padded frames from the aggregation."""
        b, t, _ = x.shape
        g, k = self.groups, self.clusters
        wide = self.expand(x)  # (B, T, λD)
        attention = torch.sigmoid(self.group_attention(wide))  # (B, T, G)
        if frame_mask is not None:
            attention = attention * frame_mask.to(attention.dtype).unsqueeze(-1)
        logits = self.assignment_bn(self.assignment(wide).reshape(b * t, g * k))
        assign = torch.softmax(logits.reshape(b, t * g, k), dim=-1) * attention.reshape(b, t * g, 1)
        # Residuals to the centres, summed over frames and groups: Σ a·x − (Σ a)·c.
        grouped = wide.reshape(b, t * g, self.group_dim)
        vlad = torch.bmm(assign.transpose(1, 2), grouped).transpose(1, 2)  # (B, group_dim, K)
        vlad = vlad - assign.sum(dim=1, keepdim=True) * self.centres
        vlad = F.normalize(vlad, p=2, dim=1)  # intra-normalisation, per cluster
        return self.out_bn(vlad.reshape(b, self.group_dim * k))
