"""Face boxes and 68 landmarks with dlib: the HOG frontal-face detector and the iBUG 68-point predictor.

The predictor file ships in ``face-recognition-models``, whose own ``__init__`` fails to import
(``pkg_resources`` is gone from setuptools 84), so its folder is found with ``importlib`` instead.
Small frames are upsampled once before detection: the HOG detector misses faces under ~80 px.
``more=True`` adds a second detector (``more_faces``): OpenCV's Haar cascade, also on the frame turned
±20°, finds tilted and half-turned faces HOG misses in crowded group shots; it is optional because it
roughly doubles the time per frame and changes what every system sees.
Large frames (720p and up) are detected on a copy downscaled to ``DETECT_SHORT_SIDE`` and the boxes mapped
back; the 68 landmarks are then fitted on the full-resolution frame. HOG's cost grows with the pixels,
so 720p detects ~4x faster, and a talking face (hundreds of pixels tall) is found all the same
(bench/bench_extract.py measures recall and IoU against full-resolution detection on a real clip).
Its licence note: the 68-point model's training data (iBUG 300-W) is for non-commercial use.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affectscope.errors import WeightsError

PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"
SECOND_PASS_SCORE = -1.0  # below any HOG score kept: marks a face only the second detector found
VERSION = "dlib-hog+sp68/3"  # /2: large frames detect downscaled; /3: large faces followed smaller
DETECT_SHORT_SIDE = 360  # large frames are detected this small: at 720p, faces under ~160 px are missed
_lock = threading.Lock()
_models: tuple[object, object] | None = None
# dlib's detector and predictor are shared and not thread-safe: two analyses at once (the soak test
# caught the window's explain and analyse jobs doing so) aborted the process inside detector.run.
_run_lock = threading.RLock()  # re-entered by the second detector's HOG check


@dataclass
class DetectedFace:
    """One face in one frame: box (x0, y0, x1, y1) in pixels, detector score, landmarks (68, 2)."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray


def predictor_path() -> Path:
    """Where ``face-recognition-models`` keeps the 68-point predictor, without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            "The 68-point face landmark model is missing: install the 'face-recognition-models' package."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / PREDICTOR_FILE
    if not path.is_file():
        raise WeightsError(f"{PREDICTOR_FILE} not found in {path.parent}; reinstall face-recognition-models.")
    return path


def _load() -> tuple[object, object]:
    global _models
    with _lock:
        if _models is None:
            import dlib

            _models = (dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor_path())))
        return _models


def default_upsample(width: int, height: int) -> int:
    """Upsample frames whose short side is under 480 px once: group shots have faces of 40–80 px."""
    return 1 if min(width, height) < 480 else 0


def detection_scale(width: int, height: int) -> float:
    """The factor frames are shrunk by before HOG: 1 up to a short side of 1.5x ``DETECT_SHORT_SIDE``
    (540 px: small and group frames keep every pixel), ``DETECT_SHORT_SIDE / short side`` above."""
    short = min(width, height)
    return DETECT_SHORT_SIDE / short if short > 1.5 * DETECT_SHORT_SIDE else 1.0


def detect_faces(
    rgb: np.ndarray,
    upsample: int | None = None,
    min_score: float = -0.2,
    more: bool = False,
    scale: float | None = None,
) -> list[DetectedFace]:
    """All frontal faces in an RGB uint8 frame (H, W, 3), largest first, each with 68 landmarks.

    ``more``: also the faces only the second detector finds (see the module doc). ``scale`` (default
    ``detection_scale``) shrinks the frame for the HOG detector only; ``scale=1`` is full-resolution
    detection. Boxes and landmarks are always in the full frame's pixels.
    """
    import dlib

    detector, predictor = _load()
    height, width = rgb.shape[:2]
    if scale is None:
        scale = detection_scale(width, height)
    rgb = np.ascontiguousarray(rgb)
    small = rgb
    if scale < 1.0:
        import cv2

        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    if upsample is None:
        upsample = default_upsample(small.shape[1], small.shape[0]) if scale == 1.0 else 0
    with _run_lock:
        rects, scores, _ = detector.run(small, upsample, min_score)
    boxes = [(_full_box(r, scale), float(sc)) for r, sc in zip(rects, scores, strict=True)]
    if more:
        from affectscope.models.extractors.faces_more import second_pass

        boxes += [(box, SECOND_PASS_SCORE) for box in second_pass(rgb, [b for b, _ in boxes])]
    faces: list[DetectedFace] = []
    for (left, top, right, bottom), score in boxes:
        rect = dlib.rectangle(round(left), round(top), round(right), round(bottom))
        with _run_lock:
            shape = predictor(rgb, rect)
        pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        box = (
            float(max(left, 0)),
            float(max(top, 0)),
            float(min(right, width - 1)),
            float(min(bottom, height - 1)),
        )
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        faces.append(DetectedFace(box, score, pts))
    faces.sort(key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    return faces


MIN_TRACKED_FACE = 100  # px a followed face keeps on the shrunk frame (HOG finds faces from ~80 px)
REFRESH_EVERY = 10  # every Nth frame is searched at the usual scale: new (smaller) faces are found


class FaceSearch:
    """``detect_faces`` over a clip's frames, following the size of the faces it found.

    A face 450 px tall in a 720p frame needs no 640×360 HOG pyramid to be found again: after a frame
    with faces the next is searched shrunk so that the smallest of them keeps about
    ``MIN_TRACKED_FACE`` px (a quarter of the pixels here). A frame where that finds fewer faces
    than the last is searched again at the usual scale, and every ``REFRESH_EVERY``-th frame is, so
    a face that walks in smaller than the others is found within that many frames. Landmarks are
    always fitted on the full frame.
    """

    def __init__(self, more: bool = False) -> None:
        self.more = more
        self.n = 0
        self.smallest: float | None = None  # the smallest face side (px) of the last frame
        self.count = 0

    def scale_for(self, width: int, height: int) -> float:
        base = detection_scale(width, height)
        if self.smallest is None or self.n % REFRESH_EVERY == 0:
            return base
        return min(base, MIN_TRACKED_FACE / self.smallest)

    def __call__(self, rgb: np.ndarray) -> list[DetectedFace]:
        height, width = rgb.shape[:2]
        base = detection_scale(width, height)
        scale = self.scale_for(width, height)
        self.n += 1
        found = detect_faces(rgb, more=self.more, scale=scale)
        if scale < base and len(found) < self.count:
            found = detect_faces(rgb, more=self.more, scale=base)  # lost one: look properly
        sides = [min(f.box[2] - f.box[0], f.box[3] - f.box[1]) for f in found]
        self.smallest = min(sides) if sides else None
        self.count = len(found)
        return found


def _full_box(rect, scale: float) -> tuple[int, int, int, int]:  # noqa: ANN001 - a dlib.rectangle
    """A box found on the downscaled frame, in full-resolution pixels (where landmarks are fitted)."""
    box = (rect.left(), rect.top(), rect.right(), rect.bottom())
    return box if scale == 1.0 else tuple(round(v / scale) for v in box)  # type: ignore[return-value]


def face_crop(
    rgb: np.ndarray,
    box: tuple[float, float, float, float],
    size: int = 96,
    grey: bool = False,
    margin: float = 0.15,
) -> np.ndarray:
    """A square crop around a face box, widened by ``margin`` of its size, resized to ``size``.

    ``size=96`` RGB is seed 004's face CNN input; ``size=64, grey=True`` is mini-Xception's. Parts
    outside the frame are filled by edge replication, so faces at the border keep their scale.
    """
    import cv2

    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * (1 + 2 * margin) / 2
    return _square_crop(rgb, cx, cy, half, size, grey, cv2)


def _square_crop(
    rgb: np.ndarray, cx: float, cy: float, half: float, size: int, grey: bool, cv2
) -> np.ndarray:
    half = max(half, 1.0)
    scale = size / (2 * half)
    # One affine warp: crop, pad by replication and resize at once (no intermediate copies).
    matrix = np.array(
        [[scale, 0, size / 2 - cx * scale], [0, scale, size / 2 - cy * scale]], dtype=np.float64
    )
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(rgb, matrix, (size, size), flags=interp, borderMode=cv2.BORDER_REPLICATE)
    if grey:
        crop = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return crop
