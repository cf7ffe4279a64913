"""Recording gain taken out of level-dependent audio features: each clip's speech brought to one level.

EmoDB is peak-normalised (speech ≈ −17 dBFS RMS); the shared RAVDESS speech sits ≈ 25 dB lower
(≈ −42 dBFS). Features that read absolute level (openSMILE's loudness and energy functionals,
log-mel means) then saw every RAVDESS file as "quiet", and the systems trained on EmoDB answered one
class for all of RAVDESS. One gain per clip, from the mean power of its active frames (the clip
gate's energy rule), removes the microphone's gain and keeps the loudness contour inside the clip,
where emotion lives. A clip without active frames keeps its level; the gain is bounded so that
background noise is never raised by more than ``MAX_BOOST_DB``.
"""

from __future__ import annotations

import contextlib
import weakref

import numpy as np

from affectscope.models.clip_gate import active_frames, frame_power_db

REFERENCE_DB = -20.0  # dBFS RMS of active speech after the gain
MAX_BOOST_DB = 40.0
MAX_CUT_DB = 20.0
LEVEL_FLOOR_DB = -90.0  # the gate's −60 dBFS floor would drop most frames of a quiet recording

_GAINS: dict[int, tuple[weakref.ref, float, float]] = {}  # id(samples) → (ref, reference, gain)


def speech_level_db(samples: np.ndarray) -> float | None:
    """dBFS RMS of a waveform's active frames; None when nothing is active (silence, or too short)."""
    db = frame_power_db(samples)
    active = active_frames(db, floor_db=LEVEL_FLOOR_DB)
    if not active.any():
        return None
    return float(10 * np.log10(np.mean(10 ** (db[active] / 10))))


def level_gain(samples: np.ndarray, reference_db: float = REFERENCE_DB) -> float:
    """Linear gain that brings the waveform's active speech to ``reference_db`` (1 for silence).

    Memoised per array object: every window of a clip asks for the gain of the same whole track.
    """
    key = id(samples)
    hit = _GAINS.get(key)
    if hit is not None and hit[0]() is samples and hit[1] == reference_db:
        return hit[2]
    level = speech_level_db(samples)
    gain_db = 0.0 if level is None else float(np.clip(reference_db - level, -MAX_CUT_DB, MAX_BOOST_DB))
    gain = float(10 ** (gain_db / 20))
    if len(_GAINS) > 64:
        _GAINS.clear()
    with contextlib.suppress(TypeError):  # not weak-referenceable: then it is just not memoised
        _GAINS[key] = (weakref.ref(samples), reference_db, gain)
    return gain
