"""Seed 003's encoders, built from the field's libraries with no pretrained weights (none can be had here).

Vision: a torchvision ResNet cut before its pooling, returning feature maps. ``resnet101d`` (the
paper's best backbone, Table 1) and ``resnet50d`` are torchvision's ResNets turned into He et
al.'s ResNet-D exactly as timm builds them — a deep 3×3 stem (32, 32, 64) and an average-pool
before every strided 1×1 shortcut — with timm's module names, so a timm checkpoint converted to
safetensors (``fc`` dropped) loads as it is. ``resnet18`` is the small default that trains here.

Speech: torchaudio's wav2vec2/HuBERT definitions on the raw 16 kHz waveform. ``hubert_base`` is
the paper's encoder (94.4 M parameters); ``small`` keeps HuBERT's layout (7-layer conv feature
extractor at 50 frames/s, convolutional positions, post-norm transformer) at a width that trains on
two CPU cores.
"""

from __future__ import annotations

import torch
import torchaudio
import torchvision
from torch import nn

VISION_BACKBONES = ("resnet18", "resnet50", "resnet50d", "resnet101", "resnet101d", "mini_xception")
SPEECH_ENCODERS = ("small", "hubert_base")


def _to_resnet_d(net: torchvision.models.ResNet, stem_width: int = 32) -> torchvision.models.ResNet:
    """Give a torchvision ResNet ResNet-D's deep stem and average-pool shortcuts (timm's layout)."""

    def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
        return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)

    net.conv1 = nn.Sequential(  # indices match timm's deep stem: conv, bn, act, conv, bn, act, conv
        conv3x3(3, stem_width, 2),
        nn.BatchNorm2d(stem_width),
        nn.ReLU(inplace=True),
        conv3x3(stem_width, stem_width),
        nn.BatchNorm2d(stem_width),
        nn.ReLU(inplace=True),
        conv3x3(stem_width, 64),
    )
    for stage in (net.layer1, net.layer2, net.layer3, net.layer4):
        first = stage[0]
        if first.downsample is None:
            continue
        conv, bn = first.downsample[0], first.downsample[1]
        stride = conv.stride[0]
        pool = (
            nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False) if stride > 1 else nn.Identity()
        )
        first.downsample = nn.Sequential(
            pool, nn.Conv2d(conv.in_channels, conv.out_channels, 1, bias=False), bn
        )
    return net


_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class MiniXceptionTrunk(nn.Module):
    """The shipped FER-2013 mini-Xception (MIT) as a *pretrained* frame encoder: ImageNet-normalised
    RGB frames → grey in [-1, 1] (its training input) → its 128-channel maps before the classifier."""

    def __init__(self, pretrained: bool = True) -> None:
        super().__init__()
        from affectscope.models.extractors import mini_xception

        self.net = mini_xception.build(pretrained=pretrained).train()
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).reshape(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).reshape(1, 3, 1, 1), persistent=False)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        grey = (frames * self.std + self.mean).mean(dim=1, keepdim=True)
        return self.net.features(grey * 2.0 - 1.0)


def map_size(backbone: str, size: int) -> int:
    """Side of the feature map a ``size``-pixel square frame gives."""
    if backbone == "mini_xception":
        side = size - 4  # two valid 3×3 convolutions
        for _ in range(4):  # four residual modules, each a stride-2 'same' max-pool
            side = -(-side // 2)
        return side
    for _ in range(5):  # stem conv, max-pool and three strided stages each halve, rounding up
        size = -(-size // 2)
    return size


class FrameEncoder(nn.Module):
    """(N, 3, H, W) frames → (N, C, H/32, W/32) feature maps of a ResNet without pooling or fc
    (or of the pretrained FER-2013 mini-Xception, ``backbone="mini_xception"``)."""

    def __init__(self, backbone: str = "resnet18") -> None:
        super().__init__()
        if backbone not in VISION_BACKBONES:
            raise ValueError(f"vision backbone must be one of {VISION_BACKBONES}, not {backbone!r}")
        self.backbone = backbone
        #: the encoder starts from pretrained weights (trained at the paper's reduced rate)
        self.pretrained = backbone == "mini_xception"
        if backbone == "mini_xception":
            self.net = MiniXceptionTrunk()
            self.out_channels = 128
            return
        base = backbone.removesuffix("d") if backbone.endswith("d") else backbone
        net = getattr(torchvision.models, base)(weights=None)
        if backbone.endswith("d"):
            net = _to_resnet_d(net)
        del net.fc  # classification head of ImageNet: not part of the encoder
        self.net = net
        self.backbone = backbone
        self.out_channels = net.layer4[-1].conv1.in_channels

    def blocks(self) -> list[nn.Module]:
        """The stages whose activations ``memory.checkpoint_blocks`` may recompute (ResNets only)."""
        if self.backbone == "mini_xception":
            return []
        n = self.net
        return [n.conv1, *n.layer1, *n.layer2, *n.layer3, *n.layer4]

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        if self.backbone == "mini_xception":
            return self.net(frames)
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(frames))))
        return n.layer4(n.layer3(n.layer2(n.layer1(x))))


def _small_speech_model() -> nn.Module:
    return torchaudio.models.wav2vec2_model(
        extractor_mode="group_norm",
        # HuBERT's strides (5·2⁴·2² = 320 samples → 50 frames/s) with 64 instead of 512 channels.
        extractor_conv_layer_config=[(64, 10, 5)] + [(64, 3, 2)] * 4 + [(64, 2, 2)] * 2,
        extractor_conv_bias=False,
        encoder_embed_dim=192,
        encoder_projection_dropout=0.1,
        encoder_pos_conv_kernel=64,
        encoder_pos_conv_groups=16,
        encoder_num_layers=2,
        encoder_num_heads=4,
        encoder_attention_dropout=0.1,
        encoder_ff_interm_features=768,
        encoder_ff_interm_dropout=0.0,
        encoder_dropout=0.1,
        encoder_layer_norm_first=False,
        encoder_layer_drop=0.0,
        aux_num_out=None,
    )


class SpeechEncoder(nn.Module):
    """(B, samples) 16 kHz waveform → (B, frames, dim) at 50 frames per second."""

    def __init__(self, encoder: str = "small") -> None:
        super().__init__()
        if encoder not in SPEECH_ENCODERS:
            raise ValueError(f"speech encoder must be one of {SPEECH_ENCODERS}, not {encoder!r}")
        self.model = torchaudio.models.hubert_base() if encoder == "hubert_base" else _small_speech_model()
        self.encoder_name = encoder
        self.pretrained = False
        self.out_features = self.model.encoder.feature_projection.projection.out_features

    def blocks(self) -> list[nn.Module]:
        """The convolutional feature extractor's layers and the transformer's layers."""
        return [*self.model.feature_extractor.conv_layers, *self.model.encoder.transformer.layers]

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        features, _lengths = self.model(wave)
        return features
