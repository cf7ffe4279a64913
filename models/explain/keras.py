"""tf-keras-vis Grad-CAM on original Keras models (the optional ``keras`` extra).

TensorFlow must see ``TF_ENABLE_ONEDNN_OPTS=0`` (oneDNN aborts in gradients through the
mini-Xception's strided 1×1 shortcut) and ``TF_USE_LEGACY_KERAS=1`` before it is imported
(STACK.md); tf-keras-vis 0.8.7 cannot find tf_keras conv layers by itself, so the penultimate
layer is named (the last Conv2D by default, ``conv2d_7`` in the FER-2013 mini-Xception).

A model file is data, never code: tf_keras ignores ``safe_mode`` for the .h5 format, where a
Lambda layer's stored bytecode runs on load. So the file's ``model_config`` is read with h5py
first and refused unless every layer is a built-in one and nothing in it carries code; the load
itself then runs in tf_keras' safe-mode scope as a second wall.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    check_keras_file(path)
    from tf_keras.src.saving.serialization_lib import SafeModeScope

    try:
        with SafeModeScope(True):
            return tf_keras.models.load_model(str(path), compile=False, safe_mode=True)
    except (ValueError, TypeError, KeyError, OSError) as exc:
        raise UserFacingError(f"cannot load the Keras model {Path(path).name}: {exc}") from None


# Keys under which tf_keras stores marshalled Python bytecode (Lambda, RNN cell wrappers, the
# Keras-3-style ``__lambda__`` value); a file holding any of them would run that code on load.
_CODE_KEYS = frozenset({"function", "function_type", "output_shape_type", "__lambda__"})
_CODE_CLASSES = frozenset({"Lambda", "__lambda__", "TFOpLambda", "SlicingOpLambda"})
_MODEL_CLASSES = frozenset({"Functional", "Sequential", "Model"})


def _layers(config: Any) -> Iterator[dict]:
    """Every layer entry of a (possibly nested) model config."""
    inner = config.get("config") if isinstance(config, dict) else None
    layers = inner.get("layers") if isinstance(inner, dict) else inner if isinstance(inner, list) else None
    for layer in layers or ():
        if isinstance(layer, dict):
            yield layer
            if layer.get("class_name") in _MODEL_CLASSES:
                yield from _layers(layer)


def _code_in(node: Any) -> str | None:
    """The first place in a config tree that carries code (a key or class), else None."""
    if isinstance(node, dict):
        if node.get("class_name") in _CODE_CLASSES:
            return f"a {node['class_name']} layer"
        for key, value in node.items():
            if key in _CODE_KEYS:
                return f"stored code ({key!r})"
            found = _code_in(value)
            if found:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _code_in(value)
            if found:
                return found
    return None


def keras_file_problem(path: str | Path, builtin: frozenset[str]) -> str | None:
    """Why the .h5 at ``path`` must not be loaded (code or non-built-in layers), else None.

    ``builtin`` is the set of layer class names the loader may build; read with h5py only, so
    nothing in the file runs.
    """
    import h5py

    if not h5py.is_hdf5(str(path)):
        return "is not an HDF5 (.h5) Keras model"
    with h5py.File(str(path), "r") as f:
        raw = f.attrs.get("model_config")
    if raw is None:
        return "holds no model_config (weights only, or not a Keras model)"
    try:
        config = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else str(raw))
    except (ValueError, UnicodeDecodeError):
        return "has an unreadable model_config"
    if not isinstance(config, dict) or config.get("class_name") not in _MODEL_CLASSES:
        return "has a model_config that is not a Keras model"
    code = _code_in(config)
    if code:
        return f"holds {code}, which would run Python code on load"
    custom = sorted({str(x.get("class_name")) for x in _layers(config)} - builtin - _MODEL_CLASSES)
    if custom:
        return f"holds custom layers ({', '.join(custom)}), which would run code from outside the file"
    return None


def check_keras_file(path: str | Path) -> None:
    """Refuse (UserFacingError) a Keras file that holds code or custom layers, before loading it."""
    import tf_keras

    builtin = frozenset(
        name for name in dir(tf_keras.layers) if isinstance(getattr(tf_keras.layers, name), type)
    )
    problem = keras_file_problem(path, builtin)
    if problem:
        raise UserFacingError(f"refusing Keras model {Path(path).name}: it {problem}")


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
