"""captum Grad-CAM on the PyTorch mini-Xception port vs tf-keras-vis on the original Keras model."""

from __future__ import annotations

import importlib.util
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from affectscope.models.explain.saliency import image_map, last_conv  # noqa: E402
from affectscope.models.extractors import mini_xception as mx  # noqa: E402
from tests.conftest import skip_or_fail  # noqa: E402
from tests.explain_factory import fer_faces  # noqa: E402


# Not importorskip: importing tf_keras_vis at collection would load TensorFlow into the whole test
# session before openSMILE (see tests/test_native_libraries.py); TensorFlow loads at test time here.
@pytest.fixture(autouse=True)
def _keras_extra() -> None:
    if importlib.util.find_spec("tf_keras_vis") is None:
        skip_or_fail("the keras extra is not installed")  # CI installs it: there this fails


def test_gradcam_matches_tf_keras_vis_on_real_faces(shared_data) -> None:
    from affectscope.models.explain.keras import keras_gradcam, last_conv_name, load_keras

    h5 = shared_data / "weights" / "fer2013_mini_xception.hdf5"
    keras_model = load_keras(h5)
    assert last_conv_name(keras_model) == "conv2d_7"
    torch_model = mx.build().eval()
    faces = fer_faces(shared_data, per_class=2)
    x = mx.preprocess(faces)
    corrs = []
    for i in range(len(faces)):
        c = int(torch_model(x[i : i + 1]).argmax())
        ours, _ = image_map(torch_model, x[i : i + 1], c, "gradcam", last_conv(torch_model))
        theirs = keras_gradcam(keras_model, faces[i : i + 1], c)[0]
        assert theirs.shape == ours.shape == (64, 64)
        if np.ptp(ours) == 0 and np.ptp(theirs) == 0:
            corrs.append(1.0)  # both see nothing for this class
            continue
        corrs.append(float(np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]))
    print(f"captum vs tf-keras-vis Grad-CAM correlation: mean {np.mean(corrs):.3f}, min {np.min(corrs):.3f}")
    assert np.mean(corrs) >= 0.9, corrs
