"""The six unimodal branches of Fusical (seed 000, §4.3), each a classifier that also exposes the
hidden layer the FC early fusion concatenates.

Every branch's ``forward`` returns ``(logits (B, C), hidden (B, d))``. Sizes the paper states are
fixed; sizes it leaves to a grid search are constructor arguments (defaults named below).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from affectscope.models.systems import memory
from affectscope.models.weights import load_backbone_weights


class ConvLSTM2d(nn.Module):
    """Keras ``ConvLSTM2D(filters, kernel)``: conv gates over input and previous hidden state.

    Like Keras' default, the input convolution is 'valid' (the map shrinks by kernel-1) and the
    recurrent convolution 'same'; only the last hidden state is returned (return_sequences=False).
    Parameters: k*k*c_in*4f + 4f (input kernel and bias) + k*k*f*4f (recurrent kernel).
    """

    def __init__(self, in_channels: int, filters: int, kernel: int = 3, padding: str = "valid"):
        super().__init__()
        self.filters = filters
        pad = 0 if padding == "valid" else kernel // 2
        self.input_conv = nn.Conv2d(in_channels, 4 * filters, kernel, padding=pad)
        self.recurrent_conv = nn.Conv2d(filters, 4 * filters, kernel, padding=kernel // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """x (B, T, C, H, W) -> last hidden state (B, filters, H', W')."""
        b, t = x.shape[:2]
        gates_x = self.input_conv(x.flatten(0, 1))
        gates_x = gates_x.view(b, t, *gates_x.shape[1:])
        h = gates_x.new_zeros(b, self.filters, *gates_x.shape[-2:])
        c = torch.zeros_like(h)
        for step in range(t):
            i, f, g, o = (gates_x[:, step] + self.recurrent_conv(h)).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return h


def resnet50_trunk() -> nn.Module:
    """torchvision ResNet-50 without its pooling and classifier: (3, 320, 480) -> (2048, 10, 15).

    Built with ``weights=None``: ImageNet weights cannot be downloaded here; ``load_scene_backbone``
    loads them from a safetensors file a user converted.
    """
    from torchvision.models import resnet50

    net = resnet50(weights=None)
    return nn.Sequential(*list(net.children())[:-2])


class SceneBranch(nn.Module):
    """Time-distributed CNN features -> three ConvLSTM heads (10 filters, 3×3) -> concat -> FC.

    ``in_channels`` is 2048 with the ResNet-50 trunk on 12 frames of 320×480 (a 10×15 map), or the
    channel count of the stand-in scene map built from perception signals. The paper regularises
    the FC with L2 1e-3 (``l2``; applied by the trainer as weight decay on ``fc``).
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        grid: tuple[int, int] = (10, 15),
        filters: int = 10,
        heads: int = 3,
        with_backbone: bool = False,
        l2: float = 1e-3,
        frozen_backbone: bool = False,
        checkpointed_backbone: bool = False,
    ):
        super().__init__()
        self.backbone = resnet50_trunk() if with_backbone else None
        # memory switches (``memory.py``): the paper's ResNet-50 features come from a frozen network
        self.frozen_backbone = frozen_backbone
        if self.backbone is not None and frozen_backbone:
            memory.freeze(self.backbone)
        elif self.backbone is not None and checkpointed_backbone:
            memory.checkpoint_blocks(
                [self.backbone[0], *(blk for stage in self.backbone[4:8] for blk in stage)]
            )
        self.heads = nn.ModuleList(ConvLSTM2d(in_channels, filters) for _ in range(heads))
        self.hidden_dim = heads * filters * (grid[0] - 2) * (grid[1] - 2)
        self.fc = nn.Linear(self.hidden_dim, num_classes)
        self.l2 = l2

    def load_backbone(self, path: str | None) -> None:
        if self.backbone is None:
            raise ValueError("this scene branch was built without the ResNet-50 trunk (with_backbone=False)")
        load_backbone_weights(self.backbone, path, "ImageNet ResNet-50 (Fusical scene trunk)")

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x: frames (B, T, 3, 320, 480) with the trunk, else feature maps (B, T, C, H, W)."""
        if self.backbone is not None:
            b, t = x.shape[:2]
            flat = x.flatten(0, 1)
            x = memory.run_frozen(self.backbone, flat) if self.frozen_backbone else self.backbone(flat)
            x = x.view(b, t, *x.shape[1:])
        hidden = torch.cat([head(x) for head in self.heads], dim=1).flatten(1)
        return self.fc(hidden), hidden


class PoseBranch(nn.Module):
    """BiLSTM over 12 steps of 27 values (13 body points x, y + people count) -> dense -> softmax."""

    def __init__(self, num_classes: int, in_dim: int = 27, units: int = 64):
        super().__init__()
        self.lstm = nn.LSTM(in_dim, units, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * units, num_classes)
        self.hidden_dim = 2 * units

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        _, (h, _) = self.lstm(x)
        hidden = torch.cat([h[-2], h[-1]], dim=1)  # last forward and last backward state
        return self.fc(hidden), hidden


class AudioBranch(nn.Module):
    """Three 1-D CNN layers (64, 512, 512 maps) over embedding frames, then two BiLSTM layers.

    Paper input: 11 OpenL3 frames of 6144 values (``in_dim``); here the stand-in frames are log-mel
    statistics. Kernel width 3 and ``units`` per direction are the grid-search choices.
    """

    def __init__(self, num_classes: int, in_dim: int = 6144, units: int = 128, kernel: int = 3):
        super().__init__()
        pad = kernel // 2
        self.cnn = nn.Sequential(
            nn.Conv1d(in_dim, 64, kernel, padding=pad),
            nn.ReLU(),
            nn.Conv1d(64, 512, kernel, padding=pad),
            nn.ReLU(),
            nn.Conv1d(512, 512, kernel, padding=pad),
            nn.ReLU(),
        )
        self.lstm1 = nn.LSTM(512, units, batch_first=True, bidirectional=True)
        self.lstm2 = nn.LSTM(2 * units, units, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * units, num_classes)
        self.hidden_dim = 2 * units

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x (B, T, in_dim)."""
        seq = self.cnn(x.transpose(1, 2)).transpose(1, 2)
        seq, _ = self.lstm1(seq)
        _, (h, _) = self.lstm2(seq)
        hidden = torch.cat([h[-2], h[-1]], dim=1)
        return self.fc(hidden), hidden


class LaughterBranch(nn.Module):
    """The pretrained laughter detector's score, used as is (§4.3.4): never trained on sentiment.

    With ``in_dim=1`` (perception signals) the input already is the shipped ResNet laughter
    detector's per-step probability, and the branch's score is its mean over the window: no
    parameters. With the paper's VGGish input (``in_dim=128``) the detector's LSTM → sigmoid is
    kept frozen (``requires_grad`` off; load its pretrained weights with the system's state).
    The fusion reads the 1-d score. ``forward``'s logits are a fixed readout for the timelines and
    ablation (laughter evidence counts for the first class, positive; the others stay at 0); voting
    leaves laughter out, as the paper does.
    """

    pretrained = True  # the trainer never trains it (see FusicalSystem.freeze_branches)

    def __init__(self, num_classes: int, in_dim: int = 128, units: int = 32):
        super().__init__()
        self.in_dim, self.num_classes, self.hidden_dim = in_dim, num_classes, 1
        self.lstm = nn.LSTM(in_dim, units, batch_first=True) if in_dim > 1 else None
        self.score = nn.Linear(units, 1) if in_dim > 1 else None
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if self.lstm is None or self.score is None:
            laugh = x.mean(dim=1).clamp(1e-4, 1 - 1e-4)  # (B, 1) mean detector probability
        else:
            _, (h, _) = self.lstm(x)
            laugh = torch.sigmoid(self.score(h[-1]))
        logits = laugh.new_zeros(laugh.shape[0], self.num_classes)
        logits[:, 0] = torch.logit(laugh.reshape(-1).clamp(1e-4, 1 - 1e-4))
        return logits, laugh


class FaceBranch(nn.Module):
    """22 features per frame (min/max/mean of 7 expression probabilities over faces + face count)
    -> BiLSTM 32 -> dense 8 (ReLU) -> dense C. The BiLSTM output (64) is the fusion input."""

    def __init__(self, num_classes: int, in_dim: int = 22, units: int = 32, dense: int = 8):
        super().__init__()
        self.lstm = nn.LSTM(in_dim, units, batch_first=True, bidirectional=True)
        self.dense = nn.Sequential(nn.Linear(2 * units, dense), nn.ReLU())
        self.fc = nn.Linear(dense, num_classes)
        self.hidden_dim = 2 * units

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        _, (h, _) = self.lstm(x)
        hidden = torch.cat([h[-2], h[-1]], dim=1)
        return self.fc(self.dense(hidden)), hidden


class CaptionBranch(nn.Module):
    """Sentence embedding of a frame caption -> dense 16 -> dense C (the paper's two added layers).

    The paper embeds generated captions with a GPT-2 classifier; no image captioner is available
    offline, so this branch takes a 384-d sentence embedding (all-MiniLM-L6-v2 size) that a
    pluggable captioner + embedder supplies, and is masked when absent.
    """

    def __init__(self, num_classes: int, in_dim: int = 384, dense: int = 16):
        super().__init__()
        self.dense = nn.Sequential(nn.Linear(in_dim, dense), nn.ReLU())
        self.fc = nn.Linear(dense, num_classes)
        self.hidden_dim = dense

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        hidden = self.dense(x)
        return self.fc(hidden), hidden
