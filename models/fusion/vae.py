"""VAE fusion (seed 000, §5.1.3): the FC-fusion input is encoded to a 20-d latent z, then classified.

The concatenated hidden layers of the frozen branches go through a variational auto-encoder
(Kingma & Welling); its latent mean (sampled during training) feeds a fully connected classifier.
The loss is reconstruction + KL (the ELBO) plus the classifier's cross-entropy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass
class VAEOutput:
    logits: Tensor  # (B, C)
    recon: Tensor  # (B, in_dim)
    mu: Tensor  # (B, latent)
    logvar: Tensor  # (B, latent)
    z: Tensor  # (B, latent)


class VAEFusion(nn.Module):
    """x -> (mu, logvar) -> z -> (reconstruction of x, class logits)."""

    def __init__(
        self, in_dim: int, num_classes: int, latent: int = 20, hidden: int = 128, cls_hidden: int = 32
    ):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, in_dim))
        self.classifier = nn.Sequential(
            nn.Linear(latent, cls_hidden), nn.ReLU(), nn.Linear(cls_hidden, num_classes)
        )

    def forward(self, x: Tensor) -> VAEOutput:
        h = self.encoder(x)
        mu, logvar = self.mu(h), self.logvar(h).clamp(-20, 20)
        # Sampling only while training: predictions are deterministic (the latent mean).
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        return VAEOutput(self.classifier(z), self.decoder(z), mu, logvar, z)

    @staticmethod
    def elbo_loss(x: Tensor, out: VAEOutput, beta: float = 1.0) -> Tensor:
        """Mean squared reconstruction error + beta * KL(q(z|x) || N(0, I)), per sample averaged."""
        recon = nn.functional.mse_loss(out.recon, x, reduction="none").sum(1)
        kl = -0.5 * (1 + out.logvar - out.mu.pow(2) - out.logvar.exp()).sum(1)
        return (recon + beta * kl).mean()

    def loss(self, x: Tensor, out: VAEOutput, labels: Tensor, beta: float = 1.0) -> Tensor:
        return self.elbo_loss(x, out, beta) + nn.functional.cross_entropy(out.logits, labels)
