"""Whose statistics standardise each clip: the rule the speaker-normalised systems share.

A speaker with at least ``min_group`` clips in the run is standardised with its own statistics;
the others with all clips of the run pooled, when the run has ``min_group``; otherwise the system's
own fallback applies (the training set's statistics, or a long clip's own). ``reference.py`` (eGeMAPS
functionals) and ``speaker_norm.py`` (seed 004's spectrogram rows) compute different statistics by
this one rule, so a project's clips are grouped the same way for both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

Source = Literal["speaker", "pooled"] | None


def speaker_plan(groups: Sequence[str], min_group: int) -> list[tuple[Source, list[int]]]:
    """Each group's member indices and its statistics' source: "speaker", "pooled" or None (neither
    applies: the caller's fallback)."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    enough = len(groups) >= min_group
    return [
        ("speaker" if len(idx) >= min_group else "pooled" if enough else None, idx)
        for idx in members.values()
    ]
