"""Input normalisation fitted on training data and stored with the weights (as state-dict buffers).

``InputNorm`` maps ``x`` to ``(x - mean) / std`` with ``mean``/``std`` broadcast over the input,
fitted once on training inputs (``fit``) and saved in the safetensors file like any weight, so
inference normalises exactly as training did. Untrained it is the identity (mean 0, std 1).

``centre_time`` (a buffer, so it travels with the weights) first subtracts each row's mean over
the last axis: for spectrogram images (rows = frequency, columns = time) that is per-window
spectral mean normalisation, which removes a recording channel's fixed colouring; it matters
across corpora (EmoDB's studio versus RAVDESS's), where it is used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn


class InputNorm(nn.Module):
    def __init__(self, shape: Sequence[int] = (1, 1, 1, 1), centre_time: bool = False) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(tuple(shape)))
        self.register_buffer("std", torch.ones(tuple(shape)))
        self.register_buffer("centre_time", torch.tensor(float(centre_time)))
        self.register_buffer("fitted", torch.tensor(0.0))

    def _centred(self, x: torch.Tensor) -> torch.Tensor:
        if float(self.centre_time) > 0:
            return x - x.mean(dim=-1, keepdim=True)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if float(self.fitted) == 0 and float(self.centre_time) == 0:
            return x
        return (self._centred(x) - self.mean) / self.std

    @torch.no_grad()
    def fit(self, batches: Iterable[torch.Tensor], min_std: float = 1e-3) -> InputNorm:
        """Fit mean/std over training batches, reducing every axis where ``mean`` has size 1."""
        dims = [0] + [d for d in range(1, self.mean.dim()) if self.mean.shape[d] == 1]
        total, sq, n = None, None, 0
        for xb in batches:
            x = self._centred(xb.float())
            s = x.sum(dim=dims, keepdim=True).double()
            q = (x.double() ** 2).sum(dim=dims, keepdim=True)
            cnt = x.numel() // s.numel()
            total = s if total is None else total + s
            sq = q if sq is None else sq + q
            n += cnt
        if total is None or n == 0:
            return self
        mean = total / n
        var = (sq / n - mean**2).clamp_min(0)
        self.mean.copy_(mean.float().reshape(self.mean.shape))
        self.std.copy_(var.sqrt().clamp_min(min_std).float().reshape(self.std.shape))
        self.fitted.fill_(1.0)
        return self
