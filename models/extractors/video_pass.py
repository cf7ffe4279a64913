"""One decoding pass over a clip's analysed frames feeding the face and pose extractors.

Frames are read in increasing order, so the reader decodes forward without seeking. Decoding runs a
few frames ahead in one thread and pose in another, beside the faces of the current frame. Each frame is
one batch: ``job.check()`` before it. Per frame: faces + landmarks, a track id per face, expression
probabilities of every face in one forward pass, mouth opening, the largest face's crops, and the
skeletons of the people in view. Tracks are assembled at the end with NaN where nothing was found.
A frame whose data is damaged (``UndecodableFrameError``) is a gap: NaN in every per-frame track
(face_count too, so "no face" and "no picture" differ), its time in ``signals.undecodable_times``.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from affectscope.jobs import Job
from affectscope.models.extractors import expression, mouth, pose
from affectscope.models.extractors.faces import FaceSearch, face_crop
from affectscope.models.extractors.tracking import FaceTracker
from affectscope.models.signals import EXPRESSIONS, ClipSignals, FaceObservation, Track

POSE_THREAD = True  # pose in a thread beside the faces (bench_extract.py compares with False)
DECODE_THREAD = True  # decoding a few frames ahead in a thread

if TYPE_CHECKING:
    from affectscope.models.extractors.mouth import MouthClassifier
    from affectscope.models.extractors.pipeline import ExtractSettings


def run_video_pass(
    path: str | Path,
    signals: ClipSignals,
    settings: ExtractSettings,
    job: Job,
    mouth_model: MouthClassifier | None = None,
) -> None:
    """Fill ``signals`` (frame_times, faces, people, face/pose tracks) from the clip's frames."""
    from affectscope.errors import MediaError
    from affectscope.media import UndecodableFrameError, VideoReader
    from affectscope.models.extractors.pipeline import DARK_LEVEL, MIN_SIDE, select_frames

    want_faces = "faces" in settings.modalities
    want_pose = "pose" in settings.modalities
    with VideoReader(path) as reader:
        indices = select_frames(reader.times, settings.rate_hz)
        times = np.asarray(reader.times)[indices]
        signals.frame_times = times.astype(np.float64)
        tiny = min(signals.width, signals.height) < MIN_SIDE
        tracker = FaceTracker()
        estimator = pose.PoseEstimator() if want_pose and not tiny else None
        acc = _Accumulator(len(indices))
        # Pose (MediaPipe, which releases the GIL) runs on frame n in its own thread while this one
        # decodes frame n+1 and finds its faces: on two cores the pass costs about the slower of the
        # two instead of their sum. One worker keeps the BlazePose graphs on one thread, in order.
        threaded = estimator is not None and POSE_THREAD
        pose_pool = ThreadPoolExecutor(1, thread_name_prefix="extract-pose") if threaded else None
        pending: deque[tuple[int, Future]] = deque()

        def collect(keep: int) -> None:
            while len(pending) > keep:
                m, future = pending.popleft()
                people = future.result()
                signals.people[m] = people
                acc.add_pose(m, people)

        # Decoding runs ahead in its own thread too (two frames at most): the reader is only ever used
        # by that one thread while it runs. Without threads (the bench's baseline) it decodes here.
        decode_pool = ThreadPoolExecutor(1, thread_name_prefix="extract-decode") if DECODE_THREAD else None
        decoded: deque[Future] = deque()

        def next_frame(n: int) -> np.ndarray:
            if decode_pool is None:
                return reader.frame(int(indices[n]))
            while len(decoded) < 3 and n + len(decoded) < len(indices):
                decoded.append(decode_pool.submit(reader.frame, int(indices[n + len(decoded)])))
            return decoded.popleft().result()

        search = FaceSearch(more=settings.more_faces)  # follows the faces' size from frame to frame
        try:
            for n, _ in enumerate(indices):
                job.check()
                try:
                    rgb = next_frame(n)
                except UndecodableFrameError:
                    acc.gap(n)
                    signals.undecodable_times.append(float(times[n]))
                    signals.faces.append([])
                    signals.people.append([])
                    job.progress(n + 1, len(indices), f"frame {n + 1}/{len(indices)} undecodable")
                    continue
                dark = float(rgb.mean()) < DARK_LEVEL
                acc.dark += dark
                found = [] if (tiny or dark or not want_faces) else search(rgb)
                signals.people.append([])
                boxes = [f.box for f in found][: settings.max_people]
                if pose_pool is not None and not dark:
                    pending.append((n, pose_pool.submit(estimator.estimate_people, rgb, boxes)))
                elif estimator is not None and not dark:  # in this thread (bench_extract's baseline)
                    signals.people[n] = estimator.estimate_people(rgb, boxes)
                    acc.add_pose(n, signals.people[n])
                else:
                    acc.add_pose(n, [])
                ids = tracker.update([f.box for f in found])
                observations = _observe_faces(rgb, found, ids, acc, n, mouth_model)
                signals.faces.append(observations)
                collect(keep=2)  # a bounded backlog: at most two frames wait for their pose
                job.progress(n + 1, len(indices), f"frame {n + 1}/{len(indices)}")
            collect(keep=0)
        finally:
            if decode_pool is not None:  # before the reader closes
                decode_pool.shutdown(wait=True, cancel_futures=True)
            if pose_pool is not None:
                pose_pool.shutdown(wait=True, cancel_futures=True)
            if estimator is not None:
                estimator.close()
    if len(indices) and len(signals.undecodable_times) == len(indices):
        raise MediaError(
            f"{path}: none of the {len(indices)} analysed frames can be decoded; the file is damaged."
        )
    reason_video = ""
    if len(indices) == 0:
        reason_video = "the clip has no video frames"
    elif tiny:
        reason_video = f"video too small ({signals.width}×{signals.height}) to find faces or bodies"
    elif acc.dark > len(indices) / 2:
        reason_video = "video too dark to find faces or bodies"
    if want_faces:
        acc.face_tracks(signals, times, reason_video or "no face found")
    if want_pose:
        acc.pose_tracks(signals, times, reason_video or "no person found")


class _Accumulator:
    """Per-frame arrays the tracks are built from."""

    def __init__(self, n: int) -> None:
        k = len(EXPRESSIONS)
        self.dark = 0
        self.count = np.zeros(n, np.float32)
        self.exp_mean = np.full((n, k), np.nan, np.float32)
        self.exp_min = np.full((n, k), np.nan, np.float32)
        self.exp_max = np.full((n, k), np.nan, np.float32)
        self.feat22 = np.zeros((n, 3 * k + 1), np.float32)
        self.mouth = np.full(n, np.nan, np.float32)
        self.crops: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []  # frame, 96 RGB, 64 grey, mouth
        self.pose = np.full((n, pose.N_KEYPOINTS, 4), np.nan, np.float32)
        self.pose[..., 3] = 0.0
        self.pose_conf = np.zeros(n, np.float32)
        self.people = np.zeros(n, np.float32)

    def gap(self, n: int) -> None:
        """Frame ``n`` could not be decoded: unknown, not "nothing found"."""
        self.count[n] = np.nan
        self.feat22[n] = np.nan
        self.people[n] = np.nan
        self.pose_conf[n] = np.nan

    def add_pose(self, n: int, people: list[np.ndarray]) -> None:
        self.people[n] = len(people)
        if people:
            best = max(people, key=pose.confidence)
            self.pose[n] = best
            self.pose_conf[n] = pose.confidence(best)

    def face_tracks(self, signals: ClipSignals, times: np.ndarray, reason: str) -> None:
        any_face = bool(np.nanmax(self.count, initial=0) > 0)
        names22 = expression.feature22_names()
        tr = signals.tracks
        tr["face_count"] = Track(times, self.count, names=("faces",), reason="" if any_face else reason)
        tr["face_features22"] = Track(times, self.feat22, names=names22, reason="" if any_face else reason)
        if not any_face:
            for name in ("expression_mean", "expression_min", "expression_max"):
                tr[name] = Track.empty(reason, len(EXPRESSIONS))
            tr["mouth_open"] = Track.empty(reason)
            for name, shape in (
                ("face_crop96", (96, 96, 3)),
                ("face_crop64", (64, 64)),
                ("mouth_crop28", (28, 28, 3)),
            ):
                tr[name] = Track(np.zeros(0), np.zeros((0, *shape), np.uint8), reason=reason)
            return
        tr["expression_mean"] = Track(times, self.exp_mean, names=EXPRESSIONS)
        tr["expression_min"] = Track(times, self.exp_min, names=EXPRESSIONS)
        tr["expression_max"] = Track(times, self.exp_max, names=EXPRESSIONS)
        tr["mouth_open"] = Track(times, self.mouth, names=("mouth_open",))
        crop_times = times[[n for n, *_ in self.crops]]
        tr["face_crop96"] = Track(crop_times, np.stack([c[1] for c in self.crops]))
        tr["face_crop64"] = Track(crop_times, np.stack([c[2] for c in self.crops]))
        tr["mouth_crop28"] = Track(crop_times, np.stack([c[3] for c in self.crops]))

    def pose_tracks(self, signals: ClipSignals, times: np.ndarray, reason: str) -> None:
        found = bool(np.nanmax(self.people, initial=0) > 0)
        r = "" if found else reason
        signals.tracks["pose"] = Track(times, self.pose, names=pose.KEYPOINT_NAMES, reason=r)
        signals.tracks["pose_confidence"] = Track(times, self.pose_conf, names=("confidence",), reason=r)
        signals.tracks["people_count"] = Track(times, self.people, names=("people",), reason=r)


def _observe_faces(
    rgb: np.ndarray,
    found: list,
    ids: list[int],
    acc: _Accumulator,
    n: int,
    mouth_model: MouthClassifier | None,
) -> list[FaceObservation]:
    if not found:
        return []
    grey64 = np.stack([face_crop(rgb, f.box, size=64, grey=True) for f in found])
    probs = expression.classify_faces(grey64)
    mouth_crops = np.stack([mouth.mouth_crop(rgb, f.landmarks) for f in found])
    if mouth_model is not None:
        p_open = np.asarray(mouth_model(mouth_crops), np.float32).reshape(-1)
    else:
        p_open = np.array(
            [mouth.open_probability(mouth.mouth_open_ratio(f.landmarks)) for f in found], np.float32
        )
    acc.count[n] = len(found)
    acc.exp_mean[n], acc.exp_min[n], acc.exp_max[n] = probs.mean(0), probs.min(0), probs.max(0)
    acc.feat22[n] = expression.face_features22(list(probs))
    acc.mouth[n] = p_open[0]  # the largest face: the one a talking-face clip is about
    acc.crops.append((n, face_crop(rgb, found[0].box, size=96), grey64[0], mouth_crops[0]))
    return [
        FaceObservation(
            track_id=tid, box=f.box, landmarks=f.landmarks, expression=probs[j], mouth_open=float(p_open[j])
        )
        for j, (f, tid) in enumerate(zip(found, ids, strict=True))
    ]
