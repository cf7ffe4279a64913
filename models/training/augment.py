"""Training-time augmentation suited to each input: speech waveforms, spectrogram images, face images.

Audio (``AudioAugment``, on the waveform, before the spectrogram): random gain (±6 dB), additive
noise at one of several SNRs (white or pink-ish), a circular time shift, and speed/tempo
perturbation (resampling by 0.9–1.1, which shifts pitch too, as Kaldi's speed perturbation does).
``spec_augment`` masks frequency rows and time columns of a spectrogram image (SpecAugment, Park et
al. 2019). Faces (``FaceAugment``, on grey uint8 images): horizontal flip, random crop and resize,
brightness/contrast, small rotations. Each draws from its own seeded generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch


@dataclass
class AudioAugment:
    gain_db: float = 6.0
    snrs_db: Sequence[float] = (5.0, 10.0, 20.0, 30.0)
    p_noise: float = 0.5
    max_shift: float = 0.25  # fraction of the window
    speeds: Sequence[float] = (0.9, 0.95, 1.0, 1.05, 1.1)
    seed: int = 0
    rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def speed(self, x: np.ndarray) -> np.ndarray:
        """Resample to ``len(x) / s`` samples: faster (s > 1) or slower speech."""
        s = float(self.rng.choice(self.speeds))
        if s == 1.0 or len(x) < 2:
            return x
        n = max(2, int(round(len(x) / s)))
        return np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.float32)

    def __call__(self, seg: np.ndarray) -> np.ndarray:
        gain = 10 ** (self.rng.uniform(-self.gain_db, self.gain_db) / 20)
        x = np.asarray(seg, np.float32) * np.float32(gain)
        if self.max_shift > 0 and len(x) > 1:
            x = np.roll(x, int(self.rng.uniform(-self.max_shift, self.max_shift) * len(x)))
        if self.rng.random() < self.p_noise:
            snr = float(self.rng.choice(self.snrs_db))
            noise = self.rng.standard_normal(len(x)).astype(np.float32)
            if self.rng.random() < 0.5:  # pink-ish: integrate white noise a little
                noise = np.cumsum(noise) * 0.02 + noise
                noise -= noise.mean()
            p_sig = float(np.mean(x**2)) + 1e-12
            p_noise = float(np.mean(noise**2)) + 1e-12
            x = x + noise * np.float32(np.sqrt(p_sig / (p_noise * 10 ** (snr / 10))))
        return x


def spec_augment(
    img: torch.Tensor, rng: np.random.Generator, n_freq: int = 2, n_time: int = 2, max_width: float = 0.1
) -> torch.Tensor:
    """Mask ``n_freq`` bands of rows and ``n_time`` bands of columns (up to ``max_width`` each) with
    the image mean, on a (C, H, W) spectrogram image."""
    out = img.clone()
    _, h, w = out.shape
    fill = float(out.mean())
    for _ in range(n_freq):
        width = int(rng.integers(0, int(max_width * h) + 1))
        f0 = int(rng.integers(0, max(1, h - width)))
        out[:, f0 : f0 + width, :] = fill
    for _ in range(n_time):
        width = int(rng.integers(0, int(max_width * w) + 1))
        t0 = int(rng.integers(0, max(1, w - width)))
        out[:, :, t0 : t0 + width] = fill
    return out


@dataclass
class FaceAugment:
    p_flip: float = 0.5
    min_crop: float = 0.85
    brightness: float = 0.2  # ± fraction of full scale
    contrast: float = 0.2  # ± fraction
    max_rotation: float = 10.0  # degrees
    seed: int = 0
    rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def __call__(self, img: np.ndarray) -> np.ndarray:
        a = np.asarray(img)
        h, w = a.shape[:2]
        if self.rng.random() < self.p_flip:
            a = a[:, ::-1]
        angle = self.rng.uniform(-self.max_rotation, self.max_rotation)
        scale = self.rng.uniform(self.min_crop, 1.0)
        # Crop (zoom in by 1/scale around a shifted centre) and rotate in one affine warp.
        cx = w / 2 + self.rng.uniform(-1, 1) * (1 - scale) * w / 2
        cy = h / 2 + self.rng.uniform(-1, 1) * (1 - scale) * h / 2
        m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0 / scale)
        m[:, 2] += (w / 2 - cx, h / 2 - cy)
        a = cv2.warpAffine(np.ascontiguousarray(a), m, (w, h), borderMode=cv2.BORDER_REFLECT)
        c = 1.0 + self.rng.uniform(-self.contrast, self.contrast)
        b = self.rng.uniform(-self.brightness, self.brightness) * 255
        mean = float(a.mean())
        return np.clip((a.astype(np.float32) - mean) * c + mean + b, 0, 255).astype(np.uint8)
