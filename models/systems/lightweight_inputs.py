"""Inputs of the lightweight streaming system (seed 004): spectrogram images, face and mouth crops.

Spectrogram (paper §2.4, eq. 4): STFT with a Hann window of W samples, hop W − overlap, DFT size
W, magnitude in decibels, shown as an image. The paper used W = 1,400 and 250 samples overlap at
48 kHz; our audio is 16 kHz, so the same durations are kept (29.2 ms window, 24 ms hop: W = 467,
hop = 383) and the image spans 0–8 kHz. The dB image (80 dB below its maximum → 0, maximum → 1)
is resized to 400×400 and repeated over 3 channels (the paper fed RGB renderings).

Crops come from perception (``face_crop96``, ``mouth_crop28`` tracks; ``models/extractors``). Faces
are converted to grey × 3 channels, because the shipped face network is trained on FER-2013's grey
faces; mouths stay RGB.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import torch
import torch.nn.functional as F

PAPER_STFT_RATE = 48000
PAPER_STFT_WINDOW = 1400
PAPER_STFT_OVERLAP = 250
TOP_DB = 80.0

FACE_SIZE = 96
MOUTH_SIZE = 28
SPEC_SIZE = 400


def stft_params(
    audio_rate: int,
    window: int = PAPER_STFT_WINDOW,
    overlap: int = PAPER_STFT_OVERLAP,
    paper_rate: int = PAPER_STFT_RATE,
) -> tuple[int, int]:
    """(W, hop) in samples at ``audio_rate`` keeping the paper's window and hop durations."""
    w = max(16, round(window * audio_rate / paper_rate))
    hop = max(1, round((window - overlap) * audio_rate / paper_rate))
    return w, hop


@lru_cache(maxsize=8)
def _hann(w: int) -> torch.Tensor:
    return torch.hann_window(w, periodic=True)


def spectrogram_db(audio: np.ndarray | torch.Tensor, audio_rate: int) -> torch.Tensor:
    """|STFT| in dB, (freq, time), Hann window, DFT size W (eq. 4); a (B, N) batch of equal-length
    signals gives (B, freq, time)."""
    x = torch.as_tensor(np.asarray(audio, dtype=np.float32))
    w, hop = stft_params(audio_rate)
    if x.shape[-1] < w:
        x = F.pad(x, (0, w - x.shape[-1]))
    spec = torch.stft(
        x, n_fft=w, hop_length=hop, win_length=w, window=_hann(w), center=False, return_complex=True
    )
    return 20.0 * torch.log10(spec.abs() + 1e-10)


def spectrogram_image(
    audio: np.ndarray | torch.Tensor, audio_rate: int, size: int = SPEC_SIZE
) -> torch.Tensor:
    """The audio CNN's input: (3, size, size) in [0, 1], low frequencies at the bottom."""
    return spectrogram_images(torch.as_tensor(np.asarray(audio, dtype=np.float32))[None], audio_rate, size)[0]


def spectrogram_images(audio: torch.Tensor, audio_rate: int, size: int = SPEC_SIZE) -> torch.Tensor:
    """``spectrogram_image`` of a (B, N) batch of equal-length signals at once: (B, 3, size, size).

    One STFT and one resize for the batch instead of B small ones: per-call overhead (and thread
    synchronisation on a busy 2-core machine) dominated evaluation when done window by window.
    """
    db = spectrogram_db(audio, audio_rate)  # (B, F, T)
    db = torch.clamp(db - db.amax(dim=(-2, -1), keepdim=True), min=-TOP_DB) / TOP_DB + 1.0
    img = F.interpolate(db.flip(-2)[:, None], size=(size, size), mode="bilinear", align_corners=False)
    return img.expand(-1, 3, size, size).contiguous()


def spectrogram_columns(n_samples: int, audio_rate: int, size: int = SPEC_SIZE) -> np.ndarray:
    """Seconds from the window's start at which each of the image's ``size`` columns is centred: the
    STFT frames (centres k·hop + W/2) stretched to ``size`` columns (bilinear, align_corners=False),
    so a saliency map can be laid on the clip's time axis exactly where its sound was."""
    w, hop = stft_params(audio_rate)
    n_frames = 1 + (max(int(n_samples), w) - w) // hop
    pos = (np.arange(size) + 0.5) * n_frames / size - 0.5
    return (pos * hop + w / 2) / audio_rate


def face_tensor(crop: np.ndarray) -> torch.Tensor:
    """uint8 RGB (H, W, 3) or grey (H, W) → grey repeated over 3 channels, float (3, 96, 96) in [0, 1]."""
    a = np.asarray(crop)
    if a.ndim == 3:
        a = cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.shape[:2] != (FACE_SIZE, FACE_SIZE):
        a = cv2.resize(a, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_LINEAR)
    return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).float() / 255.0


def mouth_tensor(crop: np.ndarray) -> torch.Tensor:
    """uint8 (28, 28, 3) → float (3, 28, 28) in [0, 1]."""
    a = np.asarray(crop)
    if a.shape[:2] != (MOUTH_SIZE, MOUTH_SIZE):
        a = cv2.resize(a, (MOUTH_SIZE, MOUTH_SIZE), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).float() / 255.0
