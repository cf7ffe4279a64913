"""Saliency sanity on the trained mini-Xception and real FER-2013 faces (issue 9, proof a, b, d)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from affectscope.models.explain.saliency import image_map, integrated_gradients, last_conv
from affectscope.models.extractors import mini_xception as mx
from tests.explain_factory import fer_faces

# dlib's 68 points: brows 17–26, eyes 36–47, mouth 48–67.
EXPRESSIVE = np.r_[17:27, 36:48, 48:68]


@pytest.fixture(scope="module")
def faces(shared_data) -> np.ndarray:
    return fer_faces(shared_data, per_class=2)  # 10 real faces, 5 expressions


@pytest.fixture(scope="module")
def trained() -> mx.MiniXception:
    return mx.build().eval()


def _rank_corr(a: np.ndarray, b: np.ndarray) -> float:
    # A constant map (Grad-CAM of a dead ReLU) ranks nothing, so it shares no ranking with the other.
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a.ravel(), b.ravel())[0])


def test_ig_completeness_within_one_percent(faces, trained) -> None:
    x = mx.preprocess(faces[:3])
    for i in range(len(x)):
        xi = x[i : i + 1]
        with torch.no_grad():
            c = int(trained(xi).argmax())
            gap = float(trained(xi)[0, c] - trained(torch.zeros_like(xi))[0, c])
        attr, delta = integrated_gradients(trained, xi, c)
        assert abs(attr.sum() - gap) <= 0.01 * abs(gap) + 1e-6, (attr.sum(), gap)
        assert delta <= 0.01 * abs(gap) + 1e-6


def test_model_randomisation_changes_maps(faces, trained) -> None:
    """Adebayo et al. 2018: maps of a re-initialised network must not match the trained network's."""
    torch.manual_seed(0)
    randomised = mx.MiniXception().eval()
    x = mx.preprocess(faces[:6])
    for method in ("gradcam", "ig"):
        same, changed = [], []
        for i in range(len(x)):
            xi = x[i : i + 1]
            c = int(trained(xi).argmax())
            a, _ = image_map(trained, xi, c, method, last_conv(trained))
            again, _ = image_map(trained, xi, c, method, last_conv(trained))
            b, _ = image_map(randomised, xi, c, method, last_conv(randomised))
            same.append(_rank_corr(a, again))
            changed.append(_rank_corr(a, b))
        assert np.mean(same) > 0.99  # the measure sees agreement where there is some
        assert np.mean(changed) < 0.5, (method, changed)


def _landmark_hull(grey64: np.ndarray) -> np.ndarray | None:
    import dlib

    from affectscope.models.extractors.faces import _load

    _, predictor = _load()
    big = cv2.resize(grey64, (256, 256), interpolation=cv2.INTER_CUBIC)
    shape = predictor(big, dlib.rectangle(0, 0, 255, 255))
    pts = np.array([(p.x, p.y) for p in shape.parts()], np.float32)[EXPRESSIVE] / 4.0
    hull = cv2.convexHull(pts.astype(np.int32))
    mask = np.zeros((64, 64), np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(bool) if mask.any() else None


def test_gradcam_mass_on_eyes_brows_and_mouth(faces, trained) -> None:
    """More Grad-CAM mass inside the eye/brow/mouth landmark hull than a uniform map would put there."""
    ratios = []
    x = mx.preprocess(faces)
    for i in range(len(x)):
        hull = _landmark_hull(faces[i])
        assert hull is not None
        c = int(trained(x[i : i + 1]).argmax())
        cam, _ = image_map(trained, x[i : i + 1], c, "gradcam", last_conv(trained))
        cam = np.clip(cam, 0, None)
        if cam.sum() == 0:
            continue
        ratios.append((cam[hull].sum() / cam.sum()) / hull.mean())
    print(f"Grad-CAM mass in landmark hull / uniform: mean {np.mean(ratios):.2f} over {len(ratios)} faces")
    assert len(ratios) >= 8
    assert np.mean(ratios) > 1.0
