"""Seed 004's training and recipe tests read speaker-standardised spectrograms, as the product does.

``standardiser(model, samples)`` computes each sample's statistics exactly as
``LightweightStreaming.adapt`` does for the clips ``evaluate`` analyses (``speaker_norm.py``: row
moments of the speech windows, pooled by speaker, falling back to the run, a long clip, or the
training set), from the corpus files at 16 kHz, and returns the function ``AudioWindows`` applies
to each window's image. Training speakers are standardised with their own statistics, so the
network never learns a voice's colouring; augmentation happens after the statistics are fixed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import torch

from affectscope.models.inputs import AUDIO_RATE, load_audio
from affectscope.models.systems.lightweight import LightweightStreaming
from affectscope.models.systems.speaker_norm import clip_moments, resolve, to_network
from affectscope.models.training.datasets import Sample

Standardise = Callable[[int, torch.Tensor], torch.Tensor]
#: what the card says (``normalisation``)
NORMALISATION = (
    "speech spectrogram rows standardised per speaker with statistics from the project's own clips "
    "(evaluate: a speaker with >= 5 clips its own, else the run's clips pooled; a lone clip with >= 20 s "
    "of speech its own, else the training set's); training speakers with their own (speaker_norm.py)"
)


def standardiser(model: LightweightStreaming, samples: Sequence[Sample]) -> tuple[Standardise | None, dict]:
    """(image mapper by sample index, how many samples were normalised each way); (None, {}) when
    the model does not normalise speakers. Call after the audio CNN's ``input_norm`` is fitted."""
    if not model.speaker_norm or not samples:
        return None, {}
    size = model.spectrogram_size
    moments = [clip_moments(load_audio(s.path), AUDIO_RATE, size, 1.0, model.hop_seconds) for s in samples]
    resolved = resolve(moments, [s.speaker for s in samples], model.min_group, model.min_clip_seconds)
    net_norm = model.audiovisual.audio.input_norm
    mean, std = net_norm.mean.detach().clone(), net_norm.std.detach().clone()

    def apply(i: int, img: torch.Tensor) -> torch.Tensor:
        r = resolved[i]
        return img if r is None else to_network(img, r[0], r[1], mean, std)

    return apply, dict(Counter(r[2] if r is not None else "training" for r in resolved))
