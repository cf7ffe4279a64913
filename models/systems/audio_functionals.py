"""Utterance-level paralinguistic functionals from the real openSMILE (audEERING's ``opensmile``).

Seed 001 feeds the Interspeech 2010 Paralinguistic Challenge set (IS10, 1,582 values: 38 LLDs and
their deltas × 21 functionals + 2 durations; ``is09-13/IS10_paraling.conf``) to its audio MLP; the
field's standard baselines are eGeMAPSv02 (88) and ComParE 2016 (6,373), offered here too. The
``opensmile`` package ships the openSMILE binary and these configs; it runs on the waveform in
memory. Features are cached in memory by waveform content and set (so training epochs and
repeated windows cost nothing) and, with ``cache_dir``, on disk as ``.npy`` files.

An empty or silent window gives zeros (openSMILE's functionals of nothing are undefined).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

#: feature set name -> (opensmile.FeatureSet member, number of values)
FEATURE_SETS = {
    "IS10": ("IS10", 1582),
    "eGeMAPSv02": ("eGeMAPSv02", 88),
    "ComParE_2016": ("ComParE_2016", 6373),
}
DEFAULT_SET = "IS10"
DIM = FEATURE_SETS[DEFAULT_SET][1]  # 1582
_MEMORY_ITEMS = 4096
_lock = threading.Lock()
_smile_lock = threading.Lock()  # an openSMILE instance is not re-entrant: one signal at a time
_memory: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()


@lru_cache(maxsize=4)
def smile(feature_set: str = DEFAULT_SET):  # noqa: ANN201 (opensmile.Smile; imported lazily)
    """One openSMILE extractor per feature set (building one parses its config: ~0.1 s)."""
    import opensmile

    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown openSMILE feature set {feature_set!r} (known: {', '.join(FEATURE_SETS)})")
    return opensmile.Smile(
        feature_set=getattr(opensmile.FeatureSet, FEATURE_SETS[feature_set][0]),
        feature_level=opensmile.FeatureLevel.Functionals,
    )


def feature_names(feature_set: str = DEFAULT_SET) -> list[str]:
    return list(smile(feature_set).feature_names)


def _key(wave: np.ndarray, rate: int, feature_set: str) -> tuple[str, str]:
    h = hashlib.blake2b(np.ascontiguousarray(wave, np.float32).tobytes(), digest_size=16)
    h.update(str(rate).encode())
    return feature_set, h.hexdigest()


def audio_functionals(
    wave: np.ndarray, rate: int = 16000, feature_set: str = DEFAULT_SET, cache_dir: str | Path | None = None
) -> np.ndarray:
    """The functionals of one utterance (IS10: 1,582 float32 values), cached by content."""
    x = np.ascontiguousarray(np.asarray(wave, np.float32).reshape(-1))
    dim = FEATURE_SETS[feature_set][1] if feature_set in FEATURE_SETS else None
    if dim is None:
        smile(feature_set)  # raises the readable error
    if len(x) < int(0.05 * rate) or not np.any(x):
        return np.zeros(dim, np.float32)
    key = _key(x, rate, feature_set)
    with _lock:
        hit = _memory.get(key)
        if hit is not None:
            _memory.move_to_end(key)
            return hit
    path = Path(cache_dir) / feature_set / f"{key[1]}.npy" if cache_dir is not None else None
    if path is not None and path.is_file():
        feats = np.load(path, allow_pickle=False)
    else:
        with _smile_lock:
            values = smile(feature_set).process_signal(x, rate).to_numpy(dtype=np.float32).reshape(-1)
        feats = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, feats)
            tmp.replace(path)
    with _lock:
        _memory[key] = feats
        if len(_memory) > _MEMORY_ITEMS:
            _memory.popitem(last=False)
    return feats
