"""Real-data ``ClipSignals`` for explanation tests: a FER-2013 face with EmoDB speech under it.

Perception's crop tracks (face 96 RGB, face 64 grey, mouth 28 RGB) are cut from a real FER-2013
face placed in a 320×240 frame, with a face box (and landmarks from dlib when it finds them), so
the systems, the mini-Xception and the crop-box mapping see exactly what the extractors would give.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from affectscope.models.signals import ClipSignals, FaceObservation, Track


def fer_faces(
    shared_data: Path,
    per_class: int = 4,
    classes: tuple[str, ...] = ("happy", "angry", "surprise", "sad", "neutral"),
) -> np.ndarray:
    """(N, 64, 64) uint8 grey FER-2013 test faces (first ``per_class`` of each class, sorted names)."""
    out = []
    for c in classes:
        for p in sorted((shared_data / "fer2013" / "test_sample" / c).glob("*.jpg"))[:per_class]:
            grey = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
            out.append(cv2.resize(grey, (64, 64), interpolation=cv2.INTER_LINEAR))
    return np.stack(out)


def face_signals(
    shared_data: Path, duration: float = 3.0, fps: float = 4.0, audio: bool = True
) -> ClipSignals:
    """A clip's signals: one FER-2013 face (boxed at x 100–196, y 60–156) and EmoDB speech."""
    from affectscope.models.training.loaders import AUDIO_RATE, load_audio

    face = fer_faces(shared_data, 1, ("happy",))[0]
    w, h = 320, 240
    frame = np.full((h, w, 3), 90, np.uint8)
    big = cv2.resize(face, (96, 96))
    frame[60:156, 100:196] = big[..., None]
    box = (100.0 + 96 * 0.15 / 1.3, 60.0 + 96 * 0.15 / 1.3, 196.0 - 96 * 0.15 / 1.3, 156.0 - 96 * 0.15 / 1.3)
    times = np.arange(0.0, duration, 1.0 / fps)
    marks = np.zeros((68, 2), np.float32)
    marks[:, 0] = np.linspace(115, 181, 68)
    marks[:, 1] = 110.0
    marks[48:68, 1] = np.linspace(130, 146, 20)  # the mouth points
    marks[48:68, 0] = np.linspace(130, 166, 20)
    faces = [[FaceObservation(0, box, marks, None, 0.8)] for _ in times]
    rgb96 = np.repeat(big[..., None], 3, axis=2)
    mouth = cv2.resize(frame[125:150, 128:168], (28, 28))
    tracks = {
        "face_crop96": Track(times, np.repeat(rgb96[None], len(times), 0)),
        "face_crop64": Track(times, np.repeat(face[None], len(times), 0)),
        "mouth_crop28": Track(times, np.repeat(mouth[None], len(times), 0)),
        "face_count": Track(times, np.ones(len(times), np.float32)),
    }
    if audio:
        x = load_audio(sorted((shared_data / "emodb").glob("*W*.wav"))[0])
        x = np.resize(x, int(duration * AUDIO_RATE)).astype(np.float32)
        tracks["audio"] = Track(np.arange(len(x)) / AUDIO_RATE, x)
    return ClipSignals("fer-emodb", duration, w, h, times, faces, tracks, audio_rate=AUDIO_RATE)


def explain_lanes(qtbot, duration: float | None = None):  # noqa: ANN001, ANN201
    """(clock, timeline, workers, lanes): the Explain tab's lanes on a timeline of their own, as the
    window builds them; ``duration`` sets the clip length on the clock and the timeline."""
    from affectscope.app.qt.clock import QtClock
    from affectscope.app.qt.explain_lanes import ExplainLanes
    from affectscope.app.qt.timeline import TimelineView
    from affectscope.app.qt.workers import Workers

    clock = QtClock()
    timeline = TimelineView(clock)
    qtbot.addWidget(timeline)
    if duration is not None:
        clock.set_duration(duration)
        timeline.set_duration(duration)
    workers = Workers()
    return clock, timeline, workers, ExplainLanes(timeline, workers)
