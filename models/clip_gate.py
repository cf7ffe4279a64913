"""Which windows vote in a clip decision, and how much: windows with speech (weighted by their share
of it), or with another modality present.

RAVDESS files open and close with about a second of silence each; with every 1 s window at the
0.25 s hop voting, those silent windows diluted the mean and dominated seed 004's EWMA, whose
last value (the clip decision then) mostly read the silent tail. A window votes when it holds
speech, or when a modality other than sound is present in it (a face in a video says something
while nobody speaks), and counts by its share of speech (``window_weights``); if no window
qualifies, every window votes equally (nothing to gate on).

Speech comes from the clip's silero-vad track where perception computed one (videos), else from
an energy gate on the waveform (bare audio files): silero-vad costs ~2 s per 3 s RAVDESS file
on this machine (its recurrent state forces one 32 ms chunk per call), the energy gate ~1 ms. The
gate marks a 32 ms frame active when its RMS level is within ``range_db`` of the clip's loudest
frame and above ``floor_db`` dBFS; a window votes when at least ``min_speech`` of it is active.
"""

from __future__ import annotations

import numpy as np

from affectscope.models.signals import ClipSignals

FRAME = 512  # samples at 16 kHz: silero-vad's chunk, so both sources share one frame grid
RANGE_DB = 35.0
FLOOR_DB = -60.0
MIN_SPEECH = 0.25  # of a window's frames (0.25 s of a 1 s window)
VAD_THRESHOLD = 0.5


def frame_power_db(samples: np.ndarray) -> np.ndarray:
    """Mean power in dBFS of each whole ``FRAME``-sample frame of a mono waveform."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    n = len(x) // FRAME
    frames = x[: n * FRAME].reshape(n, FRAME).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def active_frames(db: np.ndarray, range_db: float = RANGE_DB, floor_db: float = FLOOR_DB) -> np.ndarray:
    """Frames (of ``frame_power_db``) within ``range_db`` of the loudest and above ``floor_db``."""
    if len(db) == 0:
        return np.zeros(0, bool)
    return (db >= db.max() - range_db) & (db >= floor_db)


def energy_activity(
    samples: np.ndarray, rate: int = 16000, range_db: float = RANGE_DB, floor_db: float = FLOOR_DB
) -> tuple[np.ndarray, np.ndarray]:
    """(frame centre times, active 0/1) for ``FRAME``-sample frames of a mono waveform."""
    db = frame_power_db(samples)
    times = (np.arange(len(db)) * FRAME + FRAME / 2) / rate
    return times, active_frames(db, range_db, floor_db).astype(np.float32)


def speech_span(samples: np.ndarray, rate: int = 16000) -> tuple[int, int]:
    """[first, last) sample of speech by the energy rule; the whole waveform when nothing is active."""
    _, active = energy_activity(samples, rate)
    idx = np.flatnonzero(active)
    if len(idx) == 0:
        return 0, len(samples)
    return int(idx[0]) * FRAME, min(len(samples), (int(idx[-1]) + 1) * FRAME)


def speech_activity(signals: ClipSignals) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(times, active 0/1, source) for a clip: its VAD track if present, else the energy gate on its
    audio track; None when the clip has no sound at all."""
    vad = signals.tracks.get("vad")
    if vad is not None and len(vad) > 0:
        return (
            np.asarray(vad.times),
            (np.asarray(vad.values).reshape(-1) >= VAD_THRESHOLD).astype(np.float32),
            "silero-vad",
        )
    audio = signals.tracks.get("audio")
    if audio is None or len(audio) == 0:
        return None
    start = float(audio.times[0]) if len(audio.times) else 0.0
    times, active = energy_activity(np.asarray(audio.values).reshape(-1), signals.audio_rate)
    return times + start, active, "energy"


def window_weights(
    signals: ClipSignals,
    starts: np.ndarray,
    window: float,
    other_present: np.ndarray | None = None,
    min_speech: float = MIN_SPEECH,
) -> np.ndarray:
    """How much each window counts in the clip decision: its share of speech when that is at least
    ``min_speech``, 1 when ``other_present`` (e.g. a face), else 0. All 1 when the clip has no sound
    or nothing would count.

    Weighting by speech, not just gating: a window that holds a trailing syllable and 0.7 s of
    silence is a poor witness (seed 004's audio CNN answered "negative" for most such windows on
    RAVDESS), yet it is often the only one at an utterance's edge.
    """
    starts = np.asarray(starts, dtype=np.float64)
    weights = np.zeros(len(starts))
    if other_present is not None:
        weights[np.asarray(other_present, bool)] = 1.0
    act = speech_activity(signals)
    if act is None:
        return np.ones(len(starts))
    times, active, _ = act
    n = min(len(times), len(active))
    times, active = times[:n], active[:n]
    if n:
        lo = np.searchsorted(times, starts, side="left")
        hi = np.searchsorted(times, starts + window, side="left")
        csum = np.concatenate([[0.0], np.cumsum(active)])
        frac = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)
        speech = (hi > lo) & (frac >= min_speech)
        weights = np.where(speech, np.maximum(weights, frac), weights)
    return weights if (weights > 0).any() else np.ones(len(starts))


def other_modalities_present(
    batch: dict, modalities: tuple[str, ...] = ("audio", "speech", "laughter")
) -> np.ndarray:
    """Per window of a collated batch: any ``<m>_mask`` set for a modality that is not sound."""
    masks = [
        np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v).reshape(len(v), -1).max(1) > 0
        for k, v in batch.items()
        if k.endswith("_mask") and k[: -len("_mask")] not in modalities
    ]
    if not masks:
        n = len(next(iter(batch.values()))) if batch else 0
        return np.zeros(n, bool)
    return np.logical_or.reduce(masks)
