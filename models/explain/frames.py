"""Where an input crop sits in the full frame, and pasting a crop's map back there.

Perception crops the largest face square around dlib's box with a 15 % margin (``faces.face_crop``)
and the mouth square around landmarks 49–68 (``mouth.mouth_box``); explanation maps computed on those
crops are drawn at the same place in the frame, so the heat map lies over the face it explains.
"""

from __future__ import annotations

import numpy as np

from affectscope.models.signals import ClipSignals, FaceObservation

FACE_MARGIN = 0.15

Box = tuple[float, float, float, float]


def _largest(faces: list[FaceObservation]) -> FaceObservation | None:
    if not faces:
        return None
    return max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))


def frame_index(signals: ClipSignals, t: float) -> int | None:
    if len(signals.frame_times) == 0:
        return None
    return int(np.argmin(np.abs(np.asarray(signals.frame_times) - t)))


def face_box(signals: ClipSignals, t: float, margin: float = FACE_MARGIN) -> Box | None:
    """The square crop box of the largest face at the analysed frame nearest ``t`` (frame pixels)."""
    i = frame_index(signals, t)
    face = _largest(signals.faces[i]) if i is not None and i < len(signals.faces) else None
    if face is None:
        return None
    x0, y0, x1, y1 = face.box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * (1 + 2 * margin) / 2
    return (cx - half, cy - half, cx + half, cy + half)


def mouth_box(signals: ClipSignals, t: float) -> Box | None:
    i = frame_index(signals, t)
    face = _largest(signals.faces[i]) if i is not None and i < len(signals.faces) else None
    if face is None or face.landmarks is None:
        return None
    from affectscope.models.extractors.mouth import mouth_box as box_of

    return tuple(float(v) for v in box_of(face.landmarks))  # type: ignore[return-value]


def paste(values: np.ndarray, box: Box, width: int, height: int) -> np.ndarray:
    """An (height, width) map, NaN outside ``box``, with ``values`` resized into the box."""
    import cv2

    out = np.full((height, width), np.nan, np.float32)
    x0, y0, x1, y1 = box
    bw, bh = max(int(round(x1 - x0)), 1), max(int(round(y1 - y0)), 1)
    patch = cv2.resize(np.asarray(values, np.float32), (bw, bh), interpolation=cv2.INTER_LINEAR)
    ix0, iy0 = int(round(x0)), int(round(y0))
    sx0, sy0 = max(0, -ix0), max(0, -iy0)
    dx0, dy0 = max(0, ix0), max(0, iy0)
    dx1, dy1 = min(width, ix0 + bw), min(height, iy0 + bh)
    if dx1 > dx0 and dy1 > dy0:
        out[dy0:dy1, dx0:dx1] = patch[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0]
    return out
