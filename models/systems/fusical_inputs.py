"""Fusical's inputs cut from perception signals (seed 000, §4.2), one window at a time.

What the paper computed with OpenPose, OpenL3, VGGish, face_recognition + an Xception FER model
and a captioner, built here from ``ClipSignals``:
- pose: 12 steps × 27 = the 13 OpenPose body points (neck, shoulders, elbows, wrists, hips, knees,
  ankles) taken from MediaPipe's 33 (neck = mid-shoulders), normalised to the person's box,
  undetected points -1, plus the people count;
- face: 12 steps × 22 = min, max, mean of the 7 expression probabilities over the frame's faces
  + face count;
- scene (stand-in for ResNet-50 maps): 12 steps × 10 channels on the trunk's 10×15 grid — face
  coverage, the 7 expression probabilities of the faces covering each cell, pose keypoint density,
  mouth openness;
- audio (stand-in for OpenL3): 11 steps at 2 Hz of 1-s log-mel statistics (64 means + 64 stds),
  each step L2-normalised as the authors normalised their embeddings;
- laughter (stand-in for VGGish embeddings): 10 steps of laughter probability;
- caption: the mean ``caption_embedding`` track (384-d) inside the window, when someone supplied it.
Each function returns None when its modality is absent; the system turns that into zeros + mask 0.
"""

from __future__ import annotations

import numpy as np

from affectscope.models.signals import ClipSignals, FaceObservation
from affectscope.models.systems.window_inputs import audio_window, log_mel_steps, resample_track, step_times

# MediaPipe indices of OpenPose BODY_25 points 2..14 without the mid-hip (8): the authors' 13.
# The neck (OpenPose 1) has no MediaPipe point: it is the middle of the shoulders (11, 12).
_MP_BODY = (12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27)
SCENE_CHANNELS = 10


def frame_index(signals: ClipSignals, times: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Index of the analysed frame in force at each time, -1 where no frame lies in [t0, t1)."""
    ft = np.asarray(signals.frame_times, dtype=np.float64)
    if len(ft) == 0 or not np.any((ft >= t0) & (ft < t1)):
        return np.full(len(times), -1)
    return np.clip(np.searchsorted(ft, times, side="right") - 1, 0, len(ft) - 1)


def _faces_at(signals: ClipSignals, idx: int) -> list[FaceObservation]:
    return signals.faces[idx] if 0 <= idx < len(signals.faces) else []


def face22(signals: ClipSignals, t0: float, t1: float, steps: int = 12) -> np.ndarray | None:
    """(steps, 22) face features, or None without any face with expression in the window."""
    times = step_times(t0, t1, steps)
    track = signals.track("face_features22")
    from_track = resample_track(track, t0, t1, steps)
    if from_track is not None and np.any(from_track[:, -1] > 0):
        return from_track.astype(np.float32)
    out = np.zeros((steps, 22), np.float32)
    for k, idx in enumerate(frame_index(signals, times, t0, t1)):
        probs = [f.expression for f in _faces_at(signals, idx) if f.expression is not None]
        if probs:
            p = np.asarray(probs, np.float32)
            out[k] = np.concatenate([p.min(0), p.max(0), p.mean(0), [len(p)]])
    return out if out[:, -1].any() else None


def pose27(signals: ClipSignals, t0: float, t1: float, steps: int = 12) -> np.ndarray | None:
    """(steps, 27) body points + people count, or None without pose in the window."""
    pose = resample_track(signals.track("pose"), t0, t1, steps)
    if pose is None:
        return None
    count = resample_track(signals.track("people_count"), t0, t1, steps)
    out = np.zeros((steps, 27), np.float32)
    for k in range(steps):
        kp = pose[k].reshape(33, -1)
        neck = (kp[11] + kp[12]) / 2
        pts = np.stack([neck, *(kp[i] for i in _MP_BODY)])  # (13, 4)
        seen = (pts[:, 3] > 0.5) & np.any(pts[:, :2] != 0, axis=1)
        if not seen.any():
            continue  # no person this step: zeros, as the authors' generator left them
        lo = pts[seen, :2].min(0)
        span = np.maximum(pts[seen, :2].max(0) - lo, 1e-6)
        xy = np.where(seen[:, None], (pts[:, :2] - lo) / span, -1.0)
        people = float(count[k].reshape(-1)[0]) if count is not None else 1.0
        out[k] = np.concatenate([xy.reshape(-1), [max(people, 1.0)]])
    return out if np.any(out != 0) else None


def scene_map(
    signals: ClipSignals, t0: float, t1: float, steps: int = 12, grid: tuple[int, int] = (10, 15)
) -> np.ndarray | None:
    """(steps, 10, H, W) stand-in scene maps, or None when no frame was analysed in the window."""
    times = step_times(t0, t1, steps)
    idx = frame_index(signals, times, t0, t1)
    if np.all(idx < 0):
        return None
    gh, gw = grid
    w, h = max(signals.width, 1), max(signals.height, 1)
    pose = resample_track(signals.track("pose"), t0, t1, steps)
    out = np.zeros((steps, SCENE_CHANNELS, gh, gw), np.float32)
    for k, i in enumerate(idx):
        for face in _faces_at(signals, i):
            x0, y0, x1, y1 = face.box
            c0, c1 = int(np.clip(x0 / w * gw, 0, gw - 1)), int(np.clip(x1 / w * gw, 0, gw - 1))
            r0, r1 = int(np.clip(y0 / h * gh, 0, gh - 1)), int(np.clip(y1 / h * gh, 0, gh - 1))
            cells = (slice(r0, r1 + 1), slice(c0, c1 + 1))
            out[k, 0][cells] = 1.0
            if face.expression is not None:
                expr = np.asarray(face.expression, np.float32)[:, None, None]
                out[k, 1:8][(slice(None), *cells)] = np.maximum(out[k, 1:8][(slice(None), *cells)], expr)
            if face.mouth_open is not None:
                out[k, 9][cells] = max(float(face.mouth_open), float(out[k, 9][cells].max()))
        if pose is not None:
            kp = pose[k].reshape(33, -1)
            for x, y, _z, vis in kp[:, :4]:
                if vis > 0.5 and 0 <= x < w and 0 <= y < h:
                    out[k, 8, int(y / h * gh), int(x / w * gw)] += 0.2
    out[:, 8] = np.minimum(out[:, 8], 1.0)
    return out


def audio_frames(
    signals: ClipSignals,
    t0: float,
    t1: float,
    steps: int = 11,
    n_mels: int = 64,
    level_db: float | None = None,
) -> np.ndarray | None:
    """(steps, 2·n_mels) per-step log-mel mean and std over 1-s windows at 2 Hz, or None without audio."""
    wave = audio_window(signals, t0, t1, level_db)
    if wave is None or not np.any(wave):
        return None
    frames_per_s = 100
    n_frames = max(int(round((t1 - t0) * frames_per_s)), 1)
    mel = log_mel_steps(wave, signals.audio_rate, n_frames, n_mels)  # (n_frames, n_mels), 10 ms apart
    centres = np.linspace(0.0, t1 - t0, steps)
    out = np.zeros((steps, 2 * n_mels), np.float32)
    for k, c in enumerate(centres):
        lo = int(np.clip((c - 0.5) * frames_per_s, 0, n_frames - 1))
        hi = int(np.clip((c + 0.5) * frames_per_s, lo + 1, n_frames))
        chunk = mel[lo:hi]
        v = np.concatenate([chunk.mean(0), chunk.std(0)])
        out[k] = v / max(float(np.linalg.norm(v)), 1e-8)
    return out


def laughter_steps(signals: ClipSignals, t0: float, t1: float, steps: int = 10) -> np.ndarray | None:
    """(steps, 1) laughter probability in force at each step, or None without a laughter track."""
    laugh = resample_track(signals.track("laughter"), t0, t1, steps)
    return None if laugh is None else laugh.reshape(steps, -1)[:, :1].astype(np.float32)


def caption_embedding(signals: ClipSignals, t0: float, t1: float, dim: int = 384) -> np.ndarray | None:
    """Mean of the ``caption_embedding`` track (N, dim) inside [t0, t1), or None (no captioner ran)."""
    track = signals.track("caption_embedding")
    if len(track) == 0:
        return None
    inside = (track.times >= t0) & (track.times < t1)
    values = np.asarray(track.values, np.float32).reshape(len(track), -1)
    if not inside.any() or values.shape[1] != dim:
        return None
    return values[inside].mean(0)
