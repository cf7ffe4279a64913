"""Turning corpus files into network inputs: waveforms → 1 s spectrogram windows, face images → 96×96.

Waveforms are read with soundfile (wav, flac), mixed to mono and resampled to 16 kHz once, and
kept in memory (EmoDB ≈ 90 MB as float32) so epochs after the first cost only the network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from affectscope.models.clip_gate import speech_span
from affectscope.models.inputs import AUDIO_RATE, load_audio, load_face_image
from affectscope.models.systems.lightweight_inputs import SPEC_SIZE, face_tensor, spectrogram_image
from affectscope.models.training.augment import AudioAugment, FaceAugment, spec_augment
from affectscope.models.training.datasets import Sample


def start_range(n_samples: int, window: int, lo: int, hi: int) -> tuple[int, int]:
    """Lowest and highest start of a window inside the span [lo, hi) or, when the span is shorter
    than the window, of a window covering it; clipped to the file."""
    a, b = sorted((lo, hi - window))
    top = max(0, n_samples - window)
    return int(np.clip(a, 0, top)), int(np.clip(b, 0, top))


def spread_starts(lo: int, hi: int, hop: int, max_windows: int | None = None) -> list[int]:
    """Window starts spread evenly from ``lo`` to ``hi`` at most ``hop`` apart (at most
    ``max_windows``), so the windows cover the span end to end; one window sits in its middle."""
    k = 1 if hi <= lo else int(np.ceil((hi - lo) / max(hop, 1))) + 1
    if max_windows is not None:
        k = min(k, max_windows)
    if k == 1:
        return [(lo + hi) // 2]
    return [int(v) for v in np.linspace(lo, hi, k).round()]


class AudioWindows(Dataset):
    """(spectrogram image (3, 400, 400), label) per 1 s window; ``file_index`` maps windows to files.

    With ``speech_only`` (the default) windows are cut from the file's speech span only: RAVDESS
    files open and close with about a second of silence, and a window of silence labelled "angry"
    teaches nothing (the first second of a RAVDESS file, which training once read, holds no speech at
    all). ``jitter`` draws each window uniformly from its own share of that span, so one window per
    file per epoch sees the whole utterance over the epochs.
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        window_s: float = 1.0,
        hop_s: float = 1.0,
        max_windows: int | None = None,
        jitter: bool = False,
        seed: int = 0,
        augment: AudioAugment | None = None,
        spec_size: int = SPEC_SIZE,
        spec_mask: bool = False,
        speech_only: bool = True,
        standardise: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.samples = list(samples)
        self.window = int(window_s * AUDIO_RATE)
        self.jitter = jitter
        self.augment = augment
        self.spec_size = spec_size
        self.spec_mask = spec_mask
        #: (sample index, image) -> image: speaker standardisation (``speaker_windows.standardiser``)
        self.standardise = standardise
        self.rng = np.random.default_rng(seed)
        self.items: list[tuple[int, int, int, int]] = []  # file, start, jitter range [lo, hi]
        for i, s in enumerate(self.samples):
            x = load_audio(s.path)
            span = speech_span(x) if speech_only else (0, len(x))
            lo, hi = start_range(len(x), self.window, *span)
            starts = spread_starts(lo, hi, int(hop_s * AUDIO_RATE), max_windows)
            edges = np.linspace(lo, hi, len(starts) + 1).round().astype(int)
            for k, st in enumerate(starts):
                self.items.append((i, st, int(edges[k]), int(edges[k + 1])))
        self.file_index = np.array([it[0] for it in self.items])
        self.labels = np.array([self.samples[it[0]].label for it in self.items])

    def __len__(self) -> int:
        return len(self.items)

    def start(self, k: int) -> int:
        """Where item ``k``'s window starts this time: drawn from its jitter range with ``jitter``."""
        _, st, lo, hi = self.items[k]
        return int(self.rng.integers(lo, hi + 1)) if self.jitter and hi > lo else st

    def __getitem__(self, k: int) -> tuple[torch.Tensor, int]:
        i = self.items[k][0]
        x = load_audio(self.samples[i].path)
        st = self.start(k)
        if self.augment is not None:  # speed perturbation reads a little more or less than a window
            span = int(self.window * max(self.augment.speeds))
            seg = self.augment.speed(x[st : st + span])[: self.window]
        else:
            seg = x[st : st + self.window]
        if len(seg) < self.window:
            seg = np.pad(seg, (0, self.window - len(seg)))
        if self.augment is not None:
            seg = self.augment(seg)
        img = spectrogram_image(seg, AUDIO_RATE, self.spec_size)
        if self.standardise is not None:
            img = self.standardise(i, img)
        if self.spec_mask:
            img = spec_augment(img, self.rng, n_freq=1, n_time=1)
        return img, self.samples[i].label


@torch.no_grad()
def fit_input_norm(net: torch.nn.Module, dataset: Any, max_items: int = 512, batch: int = 64) -> None:
    """Fit a network's ``input_norm`` on (un-augmented) training inputs."""
    n = min(len(dataset), max_items)
    idx = np.linspace(0, len(dataset) - 1, n).round().astype(int)

    def batches():  # noqa: ANN202
        for b0 in range(0, n, batch):
            yield torch.stack([dataset[int(i)][0] for i in idx[b0 : b0 + batch]])

    net.input_norm.fit(batches())


class FaceImages(Dataset):
    """(face (3, 96, 96) in [0, 1], label): grey images upsampled and repeated over 3 channels."""

    def __init__(
        self, samples: Sequence[Sample], flip: bool = False, seed: int = 0, augment: FaceAugment | None = None
    ) -> None:
        self.samples = list(samples)
        self.flip = flip
        self.augment = augment
        self.rng = np.random.default_rng(seed)
        # FER images are tiny (48×48): keep them all in memory as uint8.
        self.images = [load_face_image(s.path) for s in self.samples]
        self.labels = np.array([s.label for s in self.samples])
        self.file_index = np.arange(len(self.samples))

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, int]:
        img = self.images[k]
        if self.augment is not None:
            img = self.augment(img)
        elif self.flip and self.rng.random() < 0.5:
            img = img[:, ::-1]
        return face_tensor(img), int(self.labels[k])
