"""C3D (Tran et al. 2015) as used by seed 001: 16-frame windows of 112×112 faces → fc7 (4096).

The Sports-1M weights the paper fine-tunes cannot be downloaded here; ``load_pretrained`` reads
them from a safetensors file a user converted (keys as in this module's ``state_dict``).
"""

from __future__ import annotations

from torch import Tensor, nn

from affectscope.models.weights import load_backbone_weights


def _conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True))


class C3D(nn.Module):
    """conv1a 64 · pool(1,2,2) · conv2a 128 · pool · conv3a/b 256 · pool · conv4a/b 512 · pool ·
    conv5a/b 512 · pool(pad 0,1,1) · fc6 8192→4096 · fc7 4096→4096 · fc8 → classes (487 Sports-1M)."""

    def __init__(self, num_classes: int = 487, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            _conv(3, 64),
            nn.MaxPool3d((1, 2, 2), (1, 2, 2)),
            _conv(64, 128),
            nn.MaxPool3d(2, 2),
            _conv(128, 256),
            _conv(256, 256),
            nn.MaxPool3d(2, 2),
            _conv(256, 512),
            _conv(512, 512),
            nn.MaxPool3d(2, 2),
            _conv(512, 512),
            _conv(512, 512),
            nn.MaxPool3d(2, 2, padding=(0, 1, 1)),
        )
        self.fc6 = nn.Sequential(nn.Linear(8192, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.fc7 = nn.Sequential(nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.fc8 = nn.Linear(4096, num_classes)

    def fc7_features(self, clips: Tensor) -> Tensor:
        """clips (N, 3, 16, 112, 112) → (N, 4096), the descriptor seed 001 feeds its LSTM."""
        return self.fc7(self.fc6(self.features(clips).flatten(1)))

    def forward(self, clips: Tensor) -> Tensor:
        return self.fc8(self.fc7_features(clips))

    def load_pretrained(self, path: str | None) -> None:
        load_backbone_weights(self, path, "C3D Sports-1M")
