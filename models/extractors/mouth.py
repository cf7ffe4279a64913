"""The mouth from the 68 landmarks (points 49–68, iBUG numbering): opening ratio, open probability, crop.

The opening ratio is the mean inner-lip gap (points 62–68, 63–67, 64–66) over the mouth width
(points 49–55): scale-free, about 0 for closed lips and 0.3–0.6 wide open. ``open_probability`` maps
it through a logistic centred on 0.12, a calibration for talking faces; seed 004's 28×28 mouth CNN
can replace it through ``MouthClassifier`` (the pipeline takes one), fed by ``mouth_crop``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

MOUTH = slice(48, 68)  # 0-based indices of points 49..68
OPEN_CENTRE = 0.12
OPEN_SCALE = 0.03
MOUTH_CROP_SIZE = 28


class MouthClassifier(Protocol):
    """Probability of an open mouth for a batch of RGB crops (B, 28, 28, 3) uint8 → (B,)."""

    def __call__(self, crops: np.ndarray) -> np.ndarray: ...


def mouth_open_ratio(landmarks68: np.ndarray) -> float:
    """Inner-lip opening divided by mouth width (scale-free); 0 for closed lips."""
    p = np.asarray(landmarks68, dtype=np.float64)
    if p.shape != (68, 2):
        raise ValueError(f"expected (68, 2) landmarks, got {p.shape}")
    gap = np.mean([np.linalg.norm(p[a] - p[b]) for a, b in ((61, 67), (62, 66), (63, 65))])
    width = np.linalg.norm(p[54] - p[48])
    return float(gap / width) if width > 1e-6 else 0.0


def open_probability(ratio: float | np.ndarray) -> float | np.ndarray:
    """Logistic calibration of the opening ratio to a probability that the mouth is open."""
    return 1.0 / (1.0 + np.exp(-(np.asarray(ratio) - OPEN_CENTRE) / OPEN_SCALE))


def mouth_box(landmarks68: np.ndarray, margin: float = 0.25) -> tuple[float, float, float, float]:
    """A square box around points 49–68, widened by ``margin`` of the mouth width on each side."""
    pts = np.asarray(landmarks68, dtype=np.float64)[MOUTH]
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * (0.5 + margin)
    return (cx - half, cy - half, cx + half, cy + half)


def mouth_crop(rgb: np.ndarray, landmarks68: np.ndarray, size: int = MOUTH_CROP_SIZE) -> np.ndarray:
    """A (size, size, 3) RGB crop of the mouth region, seed 004's mouth open/closed CNN input."""
    from affectscope.models.extractors.faces import face_crop

    return face_crop(rgb, mouth_box(landmarks68), size=size, grey=False, margin=0.0)
