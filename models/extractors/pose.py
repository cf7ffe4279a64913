"""Body pose with MediaPipe BlazePose (legacy ``mp.solutions.pose``, model_complexity=1): 33 keypoints.

BlazePose finds one person per image. For a group, ``estimate_people`` runs it once more on a
crop around each face (the body hangs below the head), so every person with a visible face gets a
skeleton; for one face or none it runs on the whole frame. Keypoints are (x, y) in frame pixels,
z (BlazePose's relative depth, in the scale of x) and visibility in [0, 1].
Seed 002 uses all 33×3 (x, y, z) = 99 numbers; seed 000 uses 13 body points (``BODY13``).
"""

from __future__ import annotations

import threading

import numpy as np

VERSION = "blazepose-full-0.10.21/2"  # /2: frames over POSE_LONG_SIDE are shrunk first
POSE_LONG_SIDE = 640
N_KEYPOINTS = 33
KEYPOINT_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)  # fmt: skip
# Seed 000's 13 body points (OpenPose-like, no eyes/ears/feet), as indices into BlazePose's 33.
BODY13_NAMES = (
    "nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
BODY13 = tuple(KEYPOINT_NAMES.index(n) for n in BODY13_NAMES)
# Bones drawn by the overlay (pairs of keypoint indices).
SKELETON = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24), (23, 25),
    (25, 27), (24, 26), (26, 28), (0, 11), (0, 12), (27, 29), (29, 31), (28, 30), (30, 32),
)  # fmt: skip


def body13(pose33: np.ndarray) -> np.ndarray:
    """(..., 33, C) keypoints → (..., 13, C), seed 000's layout."""
    return np.asarray(pose33)[..., BODY13, :]


def features99(pose33: np.ndarray) -> np.ndarray:
    """(..., 33, 4) keypoints → (..., 99): x, y, z of every keypoint, seed 002's skeleton stream."""
    p = np.asarray(pose33)
    return p[..., :3].reshape(*p.shape[:-2], 99)


def import_mediapipe():  # noqa: ANN201 (the mediapipe module; imported lazily)
    """mediapipe, imported without TensorFlow.

    mediapipe.tasks imports TensorFlow (when installed: the ``keras`` extra) only for its docs
    decorators and does without it. TensorFlow loads its libraries with RTLD_GLOBAL, and openSMILE's
    library loaded after that segfaults; pose estimation needs none of it, so TensorFlow is hidden
    while mediapipe is imported (a ``None`` in sys.modules reads as "not installed").
    """
    import sys

    if "mediapipe" in sys.modules or "tensorflow" in sys.modules:
        import mediapipe

        return mediapipe
    sys.modules["tensorflow"] = None  # type: ignore[assignment]
    try:
        import mediapipe
    finally:
        del sys.modules["tensorflow"]
    return mediapipe


class PoseEstimator:
    """One BlazePose graph per instance (MediaPipe graphs are not thread-safe); close() when done."""

    def __init__(self, min_confidence: float = 0.5) -> None:
        mp = import_mediapipe()

        self._lock = threading.Lock()
        # Tracking mode (video) for whole frames; a static one for per-person crops, whose
        # position jumps between people and would confuse the tracker.
        self._video = mp.solutions.pose.Pose(
            static_image_mode=False, model_complexity=1, min_detection_confidence=min_confidence
        )
        self._static = mp.solutions.pose.Pose(
            static_image_mode=True, model_complexity=1, min_detection_confidence=min_confidence
        )

    def close(self) -> None:
        self._video.close()
        self._static.close()

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, graph, rgb: np.ndarray) -> np.ndarray | None:
        h, w = rgb.shape[:2]
        small = rgb
        if max(h, w) > POSE_LONG_SIDE:
            # BlazePose looks at 256×256 anyway; handing it a 720p frame cost its image conversion
            # and resize on every frame. Landmarks come back normalised: scaled by the full size below.
            import cv2

            f = POSE_LONG_SIDE / max(h, w)
            small = cv2.resize(
                rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA
            )
        result = graph.process(np.ascontiguousarray(small))
        if result.pose_landmarks is None:
            return None
        lm = result.pose_landmarks.landmark
        return np.array([(p.x * w, p.y * h, p.z * w, p.visibility) for p in lm], dtype=np.float32)

    def estimate(self, rgb: np.ndarray) -> np.ndarray | None:
        """The most prominent person's (33, 4) keypoints in a whole frame, or None."""
        with self._lock:
            return self._run(self._video, rgb)

    def estimate_people(
        self, rgb: np.ndarray, face_boxes: list[tuple[float, float, float, float]]
    ) -> list[np.ndarray]:
        """One (33, 4) skeleton per person: whole frame for ≤ 1 face, else a body crop per face."""
        if len(face_boxes) <= 1:
            one = self.estimate(rgb)
            return [] if one is None else [one]
        h, w = rgb.shape[:2]
        people = []
        with self._lock:
            for x0, y0, x1, y1 in face_boxes:
                fw, fh = x1 - x0, y1 - y0
                # A body is about 3 face widths wide and 7 face heights tall below the crown.
                cx0, cx1 = int(max(0, x0 - 1.5 * fw)), int(min(w, x1 + 1.5 * fw))
                cy0, cy1 = int(max(0, y0 - 0.5 * fh)), int(min(h, y1 + 6 * fh))
                if cx1 - cx0 < 16 or cy1 - cy0 < 16:
                    continue
                kp = self._run(self._static, rgb[cy0:cy1, cx0:cx1])
                if kp is not None:
                    kp[:, 0] += cx0
                    kp[:, 1] += cy0
                    people.append(kp)
        return people


def confidence(pose33: np.ndarray | None) -> float:
    """Mean visibility of the 13 body points: how much of a body BlazePose could see (0 if none)."""
    if pose33 is None:
        return 0.0
    return float(np.mean(np.asarray(pose33)[BODY13, 3]))
