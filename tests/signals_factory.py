"""Hand-built ``ClipSignals`` for system tests (seeds 000 and 001): faces, pose, audio, laughter.

Values are synthetic but shaped exactly as perception's extractors produce them, so the systems'
``batch_from_signals`` is exercised on the real contract without running the extractors.
"""

from __future__ import annotations

import numpy as np

from affectscope.models.signals import ClipSignals, FaceObservation, Track


def make_signals(
    duration: float = 5.0,
    fps: float = 10.0,
    faces: bool = True,
    audio: bool = True,
    pose: bool = True,
    laughter: bool = True,
    caption: bool = False,
    seed: int = 0,
) -> ClipSignals:
    rng = np.random.default_rng(seed)
    width, height = 600, 360
    times = np.arange(0.0, duration, 1.0 / fps)
    per_frame: list[list[FaceObservation]] = []
    for i, _t in enumerate(times):
        frame = []
        if faces:
            for track_id, x in ((0, 100.0), (1, 380.0)):
                expr = rng.dirichlet(np.ones(7)).astype(np.float32)
                marks = np.stack([x + 20 + rng.random(68) * 80, 60 + rng.random(68) * 100], 1).astype(
                    np.float32
                )
                box = (x + 2 * np.sin(i / 5), 50.0, x + 120.0, 180.0)
                frame.append(FaceObservation(track_id, box, marks, expr, float(rng.random())))
        per_frame.append(frame)
    tracks: dict[str, Track] = {}
    if pose:
        kp = np.zeros((len(times), 33, 4), np.float32)
        kp[:, :, 0] = 200 + rng.random((len(times), 33)) * 200
        kp[:, :, 1] = 40 + rng.random((len(times), 33)) * 300
        kp[:, :, 3] = 0.9
        kp[:, 27:33, 3] = 0.2  # feet hidden, as in many group videos
        tracks["pose"] = Track(times.copy(), kp)
        tracks["people_count"] = Track(times.copy(), np.full(len(times), 2.0, np.float32))
    if audio:
        rate = 16000
        t = np.arange(int(duration * rate)) / rate
        wave = (0.3 * np.sin(2 * np.pi * 180 * t * (1 + 0.2 * np.sin(2 * np.pi * 0.5 * t)))).astype(
            np.float32
        )
        wave += 0.02 * rng.standard_normal(len(t)).astype(np.float32)
        tracks["audio"] = Track(t, wave)
        tracks["vad"] = Track(
            np.arange(0, duration, 0.032), np.full(int(np.ceil(duration / 0.032)), 0.8, np.float32)
        )
    if laughter:
        lt = np.arange(0.0, duration, 0.5)
        tracks["laughter"] = Track(lt, rng.random(len(lt)).astype(np.float32))
    if caption:
        ct = np.arange(0.0, duration, 1.0)
        tracks["caption_embedding"] = Track(ct, rng.standard_normal((len(ct), 384)).astype(np.float32))
    return ClipSignals(
        clip_hash=f"synthetic-{seed}",
        duration=duration,
        width=width,
        height=height,
        frame_times=times,
        faces=per_frame,
        tracks=tracks,
    )
