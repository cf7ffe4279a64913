"""tf-keras-vis Grad-CAM on original Keras models (the optional ``keras`` extra).

TensorFlow must see ``TF_ENABLE_ONEDNN_OPTS=0`` (oneDNN aborts in gradients through the
mini-Xception's strided 1×1 shortcut) and ``TF_USE_LEGACY_KERAS=1`` before it is imported
(STACK.md); tf-keras-vis 0.8.7 cannot find tf_keras conv layers by itself, so the penultimate
layer is named (the last Conv2D by default, ``conv2d_7`` in the FER-2013 mini-Xception).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from affectscope.errors import UserFacingError


def _tf_env() -> None:
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # openSMILE's library must be loaded before TensorFlow's (loaded RTLD_GLOBAL): the other way
    # round openSMILE segfaults on its first signal, e.g. seed 001's audio in the same process.
    from affectscope.models.systems.audio_functionals import smile

    smile()


def load_keras(path: str | Path):
    """The Keras model in ``path`` (h5), uncompiled; a clear error without the extra."""
    _tf_env()
    if os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0":
        raise UserFacingError("set TF_ENABLE_ONEDNN_OPTS=0 before Keras explanation (oneDNN crashes here)")
    try:
        import tf_keras
    except ImportError:
        raise UserFacingError(
            "Keras explanation needs the keras extra: pip install 'affectscope[keras]'"
        ) from None
    if not Path(path).is_file():
        raise UserFacingError(f"Keras model not found: {path}")
    return tf_keras.models.load_model(str(path), compile=False)


def last_conv_name(model) -> str:
    import tf_keras

    convs = [
        layer.name
        for layer in model.layers
        if isinstance(layer, tf_keras.layers.Conv2D)
        and not isinstance(layer, tf_keras.layers.SeparableConv2D | tf_keras.layers.DepthwiseConv2D)
    ]
    if not convs:
        raise UserFacingError("the Keras model has no Conv2D layer for Grad-CAM")
    return convs[-1]


def keras_gradcam(model, grey64: np.ndarray, target: int, layer: str | None = None) -> np.ndarray:
    """Grad-CAM maps (B, 64, 64) of uint8 grey faces (B, 64, 64) for class ``target``."""
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
    from tf_keras_vis.utils.scores import CategoricalScore

    x = np.asarray(grey64, np.float32)[..., None] / 255.0 * 2.0 - 1.0
    cam = Gradcam(model, model_modifier=ReplaceToLinear(), clone=True)
    maps = cam(
        CategoricalScore([int(target)] * len(x)),
        x,
        penultimate_layer=layer or last_conv_name(model),
        seek_penultimate_conv_layer=False,
        normalize_cam=False,
    )
    return np.asarray(maps, np.float64)
