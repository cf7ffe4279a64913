"""The second face detector behind ``detect_faces(more=True)``: OpenCV's Haar cascade (frontalface_alt2,
shipped inside opencv-python) on the histogram-equalised grey frame, upright and turned ±20°.

Measured on the real group clip (VGAF val 1_1, 600×360, 50 frames at 10/s; bench/bench_group_faces.py):
dlib's HOG alone finds two faces in none of the frames although two large faces are visible in many;
tilted heads and faces half hidden by arms are what it misses. The cascade finds a different subset, and
on the turned frame it finds tilted heads. The cascade alone also fires on windows, hair and shirts, so
each hit needs a second opinion: HOG at a lenient threshold on the hit enlarged (``confirmed``); boxes
overlapping a face already found are dropped. Result (bench): frames with two faces 0 % → 12 %, with any
face 28 % → 42 %, at about 2.4× the time per frame; on the real talking-face clip (woman2) and the demo
clips it still finds exactly one face in every analysed frame.
"""

from __future__ import annotations

import threading

import numpy as np

ANGLES = (0.0, 20.0, -20.0)
MIN_FACE = 36  # pixels: smaller cascade hits in a crowd are mostly texture
MIN_NEIGHBOURS = 4
OVERLAP = 0.3  # intersection over the smaller box above which two boxes are the same face
CONFIRM_SIZE = 120  # pixels: the width a cascade hit is scaled to for HOG's second opinion
CONFIRM_THRESHOLD = -0.8  # HOG score it must reach there (its own default keeps 0 and above)
_lock = threading.Lock()
_cascade = None


def _load():  # noqa: ANN202
    global _cascade
    with _lock:
        if _cascade is None:
            import cv2

            _cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_alt2.xml")
        return _cascade


def overlap(a: tuple, b: tuple) -> float:
    """Intersection over the smaller box: a box inside another (a forehead, a turned copy) counts fully."""
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return inter / smaller if smaller > 0 else 0.0


def confirmed(grey: np.ndarray, hit: tuple[int, int, int, int]) -> bool:
    """A second opinion on a cascade hit: dlib's HOG, at a lenient threshold, on the hit's surroundings
    enlarged to ~120 px (in the same turned frame, so a tilted head is upright for it too)."""
    import cv2

    from affectscope.models.extractors.faces import _load as load_dlib

    x, y, w, h = hit
    pad = int(0.4 * w)
    x0, y0 = max(0, x - pad), max(0, y - pad)
    crop = grey[y0 : y + h + pad, x0 : x + w + pad]
    if crop.size == 0:
        return False
    scale = CONFIRM_SIZE / float(w)
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    from affectscope.models.extractors.faces import _run_lock

    detector = load_dlib()[0]
    with _run_lock:  # dlib's shared detector is not thread-safe
        rects, _scores, _ = detector.run(np.ascontiguousarray(crop), 0, CONFIRM_THRESHOLD)
    return len(rects) > 0


def second_pass(rgb: np.ndarray, found: list[tuple]) -> list[tuple[float, float, float, float]]:
    """Boxes (x0, y0, x1, y1) of faces the cascade finds, HOG confirms and that overlap none of ``found``."""
    import cv2

    cascade = _load()
    grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    h, w = grey.shape
    known = [tuple(float(v) for v in b) for b in found]
    added: list[tuple[float, float, float, float]] = []
    for angle in ANGLES:
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        image = grey if angle == 0 else cv2.warpAffine(grey, turn, (w, h))
        back = cv2.invertAffineTransform(turn)
        hits = cascade.detectMultiScale(image, 1.1, MIN_NEIGHBOURS, minSize=(MIN_FACE, MIN_FACE))
        for x, y, bw, bh in hits:
            cx, cy = back @ np.array([x + bw / 2, y + bh / 2, 1.0])  # the box centre, upright again
            box = (float(cx - bw / 2), float(cy - bh / 2), float(cx + bw / 2), float(cy + bh / 2))
            if any(overlap(box, k) >= OVERLAP for k in known) or not confirmed(image, (x, y, bw, bh)):
                continue
            known.append(box)
            added.append(box)
    return added
