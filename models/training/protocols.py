"""Evaluation protocols: which files a test uses and how their labels are read.

``paper_004``: the seed 004 paper's sentiment test (§3): positive = happy; neutral = neutral, calm;
negative = angry, sad; surprise, fear and disgust are left out; each actor contributes the same
number of files per class (the smallest class count of that actor, drawn with a fixed seed).
``broad``: every file the 3-class mapping keeps (fear and disgust negative, boredom neutral;
surprise left out), unbalanced; the data README's mapping.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from affectscope.models.training.datasets import _EMODB, _RAVDESS, EMODB_EMOTIONS, RAVDESS_EMOTIONS, Sample

PAPER_EMOTIONS = {"happy", "happiness", "neutral", "calm", "angry", "anger", "sad", "sadness"}
PROTOCOLS = ("broad", "paper")


def emotion_of(sample: Sample) -> str:
    """The corpus emotion of a file: from a RAVDESS or EmoDB file name, else the sample's own label."""
    stem = sample.path.stem
    if m := _RAVDESS.match(stem):
        return RAVDESS_EMOTIONS[m.group(1)]
    if m := _EMODB.match(stem):
        return EMODB_EMOTIONS[m.group(2)]
    return (sample.emotion or "").lower()


def paper_004(samples: Sequence[Sample], seed: int = 0) -> list[Sample]:
    """The paper's classes only, balanced per speaker (actor) by sampling down to the rarest class."""
    rng = np.random.default_rng(seed)
    kept = [s for s in samples if emotion_of(s) in PAPER_EMOTIONS]
    by_spk: dict[str, dict[int, list[Sample]]] = {}
    for s in kept:
        by_spk.setdefault(s.speaker, {}).setdefault(s.label, []).append(s)
    out: list[Sample] = []
    for spk in sorted(by_spk):
        groups = by_spk[spk]
        if len(groups) < 3:
            continue  # an actor without all three classes cannot be balanced
        n = min(len(g) for g in groups.values())
        for lab in sorted(groups):
            g = groups[lab]
            out.extend(g[i] for i in sorted(rng.choice(len(g), n, replace=False)))
    return out


def apply(protocol: str, samples: Sequence[Sample], seed: int = 0) -> list[Sample]:
    if protocol == "paper":
        return paper_004(samples, seed)
    if protocol == "broad":
        return list(samples)
    raise ValueError(f"unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
