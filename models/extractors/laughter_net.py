"""The Switchboard laughter detector's ResNet (Gillick et al. 2021, ``jrgillick/laughter-detection``).

Re-implemented from the checkpoint's own keys and shapes so its weights load by name: a 3×3 conv
1→64 + BN + ReLU, four stages of two residual blocks (64, 32, 16, 16 channels; strides 1, 2, 2, 2),
4×4 average pooling, then BN → dropout → linear 64→32 → BN → dropout → ReLU → linear 32→1 → sigmoid.
Input: (B, 44, 128) windows of a log-mel spectrogram (see ``audio_features.laughter_melspec``).
Only safetensors are loaded here; the one-time conversion from the pickled checkpoint lives in
``packaging/convert_weights.py``.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from affectscope.errors import WeightsError

WEIGHTS_FILE = "laughter_resnet_switchboard.safetensors"
WINDOW_FRAMES = 44
N_MELS = 128


class BasicBlock(nn.Module):
    """Two 3×3 convs (with bias, as in the checkpoint) + BN; a 1×1 conv + BN shortcut on shape change."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class LaughterResNet(nn.Module):
    """Probability of laughter (B,) for log-mel windows (B, 44, 128)."""

    def __init__(self, filters: tuple[int, ...] = (64, 32, 16, 16), dropout: float = 0.5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for i, (cout, stride) in enumerate(zip(filters, (1, 2, 2, 2), strict=True), start=1):
            setattr(
                self, f"block{i}", nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1))
            )
            cin = cout
        # 44×128 input → 6×16 after three stride-2 stages → 1×4 after 4×4 pooling → 16·4 = 64 features.
        self.bn2 = nn.BatchNorm1d(64)
        self.linear1 = nn.Linear(64, 32)
        self.bn3 = nn.BatchNorm1d(32)
        self.linear2 = nn.Linear(32, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x.unsqueeze(1))))
        for block in (self.block1, self.block2, self.block3, self.block4):
            out = block(out)
        out = F.avg_pool2d(out, 4).flatten(1)
        out = self.dropout(self.bn2(out))
        out = F.relu(self.dropout(self.bn3(self.linear1(out))))
        return torch.sigmoid(self.linear2(out)).squeeze(1)


def load(path: str | Path | None = None, device: str | torch.device = "cpu") -> LaughterResNet:
    """The network with the shipped Switchboard weights (safetensors only), in eval mode."""
    from safetensors.torch import load_file

    if path is None:
        from affectscope.resources import resource_path

        path = resource_path("weights", WEIGHTS_FILE)
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"laughter weights not found at {path}; reinstall Affectscope.")
    from affectscope.models.weights import check_finite

    model = LaughterResNet()
    state = load_file(str(path))
    check_finite(state, path, "laughter weights")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"{path.name} does not fit the laughter ResNet: {str(exc)[:200]}") from exc
    return model.to(device).eval()
