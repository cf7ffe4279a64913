"""The four small networks of the lightweight streaming system (seed 004, Yakaew et al. 2021).

Layer by layer as the paper's Tables 1–4 give them; the paper counts parameters the Keras way
(batch norm's moving mean and variance included), which ``paper_parameter_count`` reproduces:
mouth 1,252,571; visual 136,259; audio 2,509,827; audio-visual 2,646,107 (visual + audio + a 6→3
softmax layer); the whole system 4,034,937 (mouth + visual-only + audio-visual).
"""

from __future__ import annotations

import torch
from torch import nn

from affectscope.models.systems.input_norm import InputNorm

# Keras's eps (1e-3), which the paper used. Keras's moving-average momentum 0.99 (torch 0.01) leaves
# the moving statistics near their initial values for the first few hundred steps, which wrecks
# validation (and so early stopping) in our short CPU runs; torch's 0.1 is used instead.
BN_EPS = 1e-3
BN_MOMENTUM = 0.1


def paper_parameter_count(module: nn.Module) -> int:
    """Parameters counted as Keras (and so the paper) counts them: weights plus BN moving statistics."""
    n = sum(p.numel() for p in module.parameters())
    for name, buf in module.named_buffers():
        if name.endswith(("running_mean", "running_var")):
            n += buf.numel()
    return n


def xavier_init(module: nn.Module) -> None:
    """Glorot-uniform weights and zero biases, as the paper (and Keras) initialise them."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class MouthNet(nn.Module):
    """Table 1: mouth open/closed from a 28×28×3 crop; returns the logit of "open" (B, 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 20, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
            nn.Conv2d(20, 50, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
        )
        self.fc = nn.Linear(7 * 7 * 50, 500)
        self.classifier = nn.Linear(500, 1)
        xavier_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fc(self.features(x).flatten(1)))
        return self.classifier(h)


class SentimentCNN(nn.Module):
    """Tables 2 and 3: five 3×3 conv + ReLU + BN layers, three max-pools, FC 16 + BN, linear to C.

    The visual CNN (96×96, 16/32/64 filters) has 25 % dropout after each pool; the audio CNN
    (400×400 spectrogram, 32/64/128 filters) has none. ``forward`` returns class logits; the paper's
    softmax is applied by the loss or by the caller.
    """

    def __init__(
        self,
        size: int,
        widths: tuple[int, int, int],
        dropout: float,
        num_classes: int = 3,
        norm_shape: tuple[int, ...] = (1, 1, 1, 1),
        centre_time: bool = False,
    ):
        super().__init__()
        a, b, c = widths
        # Fitted on training inputs by the recipes, saved with the weights (identity until fitted).
        self.input_norm = InputNorm(norm_shape, centre_time=centre_time)

        def conv(cin: int, cout: int) -> list[nn.Module]:
            return [
                nn.Conv2d(cin, cout, 3, padding=1),
                nn.ReLU(),
                nn.BatchNorm2d(cout, eps=BN_EPS, momentum=BN_MOMENTUM),
            ]

        def pool(k: int) -> list[nn.Module]:
            return [nn.MaxPool2d(k)] + ([nn.Dropout(dropout)] if dropout else [])

        self.features = nn.Sequential(
            *conv(3, a), *pool(3), *conv(a, b), *conv(b, b), *pool(2), *conv(b, c), *conv(c, c), *pool(2)
        )
        side = size // 3 // 2 // 2
        self.input_size = size
        self.fc = nn.Linear(side * side * c, 16)
        self.fc_bn = nn.BatchNorm1d(16, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.classifier = nn.Linear(16, num_classes)
        xavier_init(self)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The 16-d representation before the classifier (layer 16)."""
        x = self.input_norm(x)
        inference = not (self.training or torch.is_grad_enabled())
        h = self._inference_features(x) if inference else self.features(x)
        return self.fc_bn(torch.relu(self.fc(h.flatten(1))))

    def _inference_features(self, x: torch.Tensor) -> torch.Tensor:
        """``features`` for inference, 3× faster on CPU and equal to float rounding: channels-last
        tensors (oneDNN's fast layout), and each conv → ReLU → BN → max-pool run as conv → max-pool
        → ReLU → BN, so ReLU and BN touch a quarter to a ninth of the values. Exact because ReLU and
        a BN whose scale γ/√(σ²+ε) is positive are non-decreasing, so they commute with a max; a BN
        with any non-positive scale keeps the paper's order. Used only without gradients (saliency
        methods and training take ``features`` as written)."""
        h = x.contiguous(memory_format=torch.channels_last)
        layers = list(self.features)
        i = 0
        while i < len(layers):
            group = layers[i : i + 4]
            if (
                len(group) == 4
                and isinstance(group[0], nn.Conv2d)
                and isinstance(group[3], nn.MaxPool2d)
                and _positive_scale(group[2])
            ):
                conv, _relu, bn, pool = group
                h = bn(torch.relu_(pool(conv(h))))
                i += 4
            else:
                h = layers[i](h)
                i += 1
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(x))


def _positive_scale(bn: nn.Module) -> bool:
    if not isinstance(bn, nn.BatchNorm2d) or bn.running_var is None:
        return False
    gamma = bn.weight if bn.affine else torch.ones_like(bn.running_var)
    scale = gamma / torch.sqrt(bn.running_var + bn.eps)
    return bool((scale > 0).all())


def visual_cnn(num_classes: int = 3) -> SentimentCNN:
    """Table 2: 96×96×3 face → 3 sentiment classes (136,259 parameters)."""
    return SentimentCNN(96, (16, 32, 64), dropout=0.25, num_classes=num_classes)


def audio_cnn(num_classes: int = 3, size: int = 400) -> SentimentCNN:
    """Table 3: 400×400×3 spectrogram image → 3 sentiment classes (2,509,827 parameters).

    ``size`` < 400 keeps the layers but shrinks the image (and so the first FC layer): the shipped
    weights use 128, because the 400×400 image is a ~10× bilinear upsample of a 234×41 STFT and
    costs 10× the CPU time (measured 2.5 s vs 0.22 s per training window on this machine).
    """
    # Per-frequency-row statistics fitted on training windows. Per-window spectral mean normalisation
    # (``centre_time``) was tried and left out: it removes the window's spectral envelope, and the
    # EmoDB run stayed near chance (train loss 1.08, validation UAR <= 0.48 in 5 epochs).
    return SentimentCNN(
        size,
        (32, 64, 128),
        dropout=0.0,
        num_classes=num_classes,
        norm_shape=(1, 1, size, 1),
        centre_time=False,
    )


class AudioVisualNet(nn.Module):
    """Table 4: the face and audio CNNs' softmax outputs, concatenated (2C) → softmax layer (C).

    A missing modality's probability vector is zeroed by its mask, so the fusion layer sees only
    what is there.
    """

    def __init__(self, num_classes: int = 3, spec_size: int = 400) -> None:
        super().__init__()
        self.face = visual_cnn(num_classes)
        self.audio = audio_cnn(num_classes, spec_size)
        self.fusion = nn.Linear(2 * num_classes, num_classes)
        xavier_init(self.fusion)

    def fuse(self, face_probs: torch.Tensor, audio_probs: torch.Tensor) -> torch.Tensor:
        return self.fusion(torch.cat([face_probs, audio_probs], dim=1))
