"""Facial expression per face with the ported mini-Xception, and seed 000's 22 face features per frame.

Faces are cropped square around dlib's box (15 % margin, as FER-2013's faces include the whole
head outline), turned grey and resized to 64×64; the network gives 7 probabilities in FER-2013
order (``signals.EXPRESSIONS``). Per frame, seed 000 (Fusical) summarises the faces of a group as
min, max and mean of each probability over faces plus the face count: 22 features.
"""

from __future__ import annotations

import threading

import numpy as np

from affectscope.models.signals import EXPRESSIONS

VERSION = "mini-xception-fer2013/1"
N_CLASSES = len(EXPRESSIONS)
_lock = threading.Lock()
_model = None


def model(device: str | None = None):
    """The shared, loaded network (built once per process; inference is read-only)."""
    global _model
    with _lock:
        if _model is None:
            from affectscope.models.extractors import mini_xception
            from affectscope.models.extractors.device import pick_device

            _model = mini_xception.build().to(device or pick_device()).for_inference()
        return _model


def classify_faces(grey64: np.ndarray) -> np.ndarray:
    """Probabilities (B, 7) for grey uint8 face crops (B, 64, 64); (0, 7) for none."""
    if len(grey64) == 0:
        return np.zeros((0, N_CLASSES), np.float32)
    return model().predict_proba(np.asarray(grey64)).astype(np.float32)


def face_features22(per_face: list[np.ndarray]) -> np.ndarray:
    """Seed 000's per-frame vector: min (7), max (7), mean (7) over faces, then face count; zeros if none."""
    out = np.zeros(3 * N_CLASSES + 1, np.float32)
    if per_face:
        probs = np.stack(per_face)
        out[:N_CLASSES] = probs.min(axis=0)
        out[N_CLASSES : 2 * N_CLASSES] = probs.max(axis=0)
        out[2 * N_CLASSES : 3 * N_CLASSES] = probs.mean(axis=0)
    out[-1] = len(per_face)
    return out


def feature22_names() -> tuple[str, ...]:
    return (
        *(f"min_{e}" for e in EXPRESSIONS),
        *(f"max_{e}" for e in EXPRESSIONS),
        *(f"mean_{e}" for e in EXPRESSIONS),
        "face_count",
    )
