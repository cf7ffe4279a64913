"""Speaker-independent and random splits: no speaker is ever in two of train / validation / test."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from affectscope.models.training.datasets import Sample


def by_speakers(samples: Sequence[Sample], speakers: Iterable[str]) -> tuple[list[Sample], list[Sample]]:
    """(rest, held) where ``held`` are the samples of ``speakers``."""
    held = set(speakers)
    return [s for s in samples if s.speaker not in held], [s for s in samples if s.speaker in held]


def speaker_split(
    samples: Sequence[Sample], fraction: float, seed: int = 0
) -> tuple[list[Sample], list[Sample]]:
    """Hold out whole speakers totalling about ``fraction`` of the samples (at least one speaker)."""
    speakers = sorted({s.speaker for s in samples})
    if len(speakers) < 2:
        raise ValueError("a speaker-independent split needs at least two speakers; use --split random")
    rng = np.random.default_rng(seed)
    order = [speakers[i] for i in rng.permutation(len(speakers))]
    counts = {sp: 0 for sp in speakers}
    for s in samples:
        counts[s.speaker] += 1
    held: list[str] = []
    total = 0
    for sp in order[:-1]:  # never hold out every speaker
        if held and total >= fraction * len(samples):
            break
        held.append(sp)
        total += counts[sp]
    return by_speakers(samples, held)


def random_split(
    samples: Sequence[Sample], fraction: float, seed: int = 0
) -> tuple[list[Sample], list[Sample]]:
    """Hold out a random ``fraction`` of the samples (for corpora without speakers, e.g. FER-2013)."""
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(samples))
    k = max(1, round(fraction * len(samples)))
    held = set(idx[:k].tolist())
    return [s for i, s in enumerate(samples) if i not in held], [
        s for i, s in enumerate(samples) if i in held
    ]


def split(
    samples: Sequence[Sample], how: str, fraction: float, seed: int = 0
) -> tuple[list[Sample], list[Sample]]:
    if how == "speaker":
        return speaker_split(samples, fraction, seed)
    if how == "random":
        return random_split(samples, fraction, seed)
    raise ValueError(f"unknown split {how!r}: speaker or random")


def speakers(samples: Iterable[Sample]) -> list[str]:
    return sorted({s.speaker for s in samples})
