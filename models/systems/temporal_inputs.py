"""Seed 001's inputs cut from perception signals: the face track, its 16-frame windows, the audio.

Stand-ins (the paper's backbones cannot be had here, see ``temporal``):
- per-frame face descriptor (for VGG-Face fc6, 4096) = the longest face track's mini-Xception
  expression probabilities (7) + its 68 landmarks normalised to the face box (136) + mouth
  openness (1) = 144 values, sampled at a fixed rate over the window;
- per-window descriptor (for C3D fc7, 4096) = over each 16-frame window (with or without overlap;
  shorter sequences padded by themselves, as the paper does) the mean, standard deviation and mean
  absolute frame-to-frame change of the face descriptors = 432 values;
- audio functionals: openSMILE's Interspeech 2010 paralinguistic set (1582 values, the
  emobase2010 family the paper used) from the ``opensmile`` package (``audio_functionals``).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from affectscope.models.clip_gate import speech_span
from affectscope.models.signals import ClipSignals, FaceObservation
from affectscope.models.systems.audio_functionals import audio_functionals
from affectscope.models.systems.window_inputs import audio_window, step_times

FACE_DIM = 7 + 136 + 1
WINDOW = 16


def _descriptor(face: FaceObservation) -> np.ndarray:
    x0, y0, x1, y1 = face.box
    out = np.zeros(FACE_DIM, np.float32)
    if face.expression is not None:
        out[:7] = face.expression
    if face.landmarks is not None:
        span = np.array([max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)], np.float32)
        out[7:143] = ((np.asarray(face.landmarks, np.float32) - [x0, y0]) / span).reshape(-1)
    out[143] = face.mouth_open or 0.0
    return out


def face_sequence(signals: ClipSignals, t0: float, t1: float, steps: int) -> np.ndarray | None:
    """(steps, 144) descriptors of the longest face track in [t0, t1), or None without faces.

    The paper keeps the longest face sequence of each video; steps where that face is not seen
    hold its last descriptor (its first one before it appears).
    """
    ft = np.asarray(signals.frame_times, np.float64)
    inside = np.flatnonzero((ft >= t0) & (ft < t1))
    seen = Counter(f.track_id for i in inside for f in signals.faces[i])
    if not seen:
        return None
    best = max(seen, key=lambda k: (seen[k], -k))
    frames = [(i, f) for i in inside for f in signals.faces[i] if f.track_id == best]
    times = ft[[i for i, _ in frames]]
    desc = np.stack([_descriptor(f) for _, f in frames])
    idx = np.clip(np.searchsorted(times, step_times(t0, t1, steps), side="right") - 1, 0, len(frames) - 1)
    return desc[idx]


def window_starts(length: int, overlap: int, size: int = WINDOW) -> list[int]:
    """Start indices of ``size``-frame windows sharing ``overlap`` frames (0 = no overlap)."""
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be in [0, {size}), got {overlap}")
    stride = size - overlap
    return list(range(0, max(length - size, 0) + 1, stride))


def window_count(length: int, overlap: int, size: int = WINDOW) -> int:
    return len(window_starts(length, overlap, size))


def window_descriptors(seq: np.ndarray, overlap: int, size: int = WINDOW) -> np.ndarray:
    """(windows, 3·D): mean, std and mean |Δ| of each ``size``-frame window of ``seq`` (T, D)."""
    if len(seq) < size:  # padded by itself (repeated) to reach one window
        seq = np.concatenate([seq] * int(np.ceil(size / len(seq))))[:size]
    out = []
    for s in window_starts(len(seq), overlap, size):
        w = seq[s : s + size]
        out.append(np.concatenate([w.mean(0), w.std(0), np.abs(np.diff(w, axis=0)).mean(0)]))
    return np.stack(out).astype(np.float32)


IS10_DIM = 1582


def is10_functionals(wave: np.ndarray, rate: int = 16000) -> np.ndarray:
    """openSMILE IS10 paralinguistic functionals (1582) of one utterance (the seed 001 audio input)."""
    return audio_functionals(wave, rate, "IS10")


def audio_descriptor(
    signals: ClipSignals, t0: float, t1: float, dim: int = 0, level_db: float | None = None
) -> np.ndarray | None:
    """Utterance functionals of [t0, t1): openSMILE IS10 (1582; ``dim`` kept for older callers).

    Computed over the window's speech only (first to last active frame, the clip gate's energy
    rule): functionals summarise an utterance, and a window's silence or zero padding (a 2 s EmoDB
    file in a 4 s window, RAVDESS's second of silence at each end) otherwise dominates percentiles
    and means, so that the same words read differently in another corpus.
    """
    wave = audio_window(signals, t0, t1, level_db)
    if wave is None or not np.any(wave):
        return None
    lo, hi = speech_span(wave, signals.audio_rate)
    return is10_functionals(wave[lo:hi], signals.audio_rate)
