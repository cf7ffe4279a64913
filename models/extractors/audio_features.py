"""Audio features at the rates the models need, computed with torchaudio (the field's library).

- ``resample``: any rate → any rate (band-limited sinc, torchaudio's default).
- ``laughter_melspec``: the Switchboard laughter detector's input, as its authors computed it with
  librosa: 8 kHz audio, n_fft 2048, hop 186, 128 Slaney mel bands, power spectrum, then
  ``amplitude_to_db(S, ref=max)`` (20·log10 of the *power*, a quirk of the original code that the
  weights were trained with), floored 80 dB under the maximum.
- ``log_mel`` / ``spectrogram``: the usual 25 ms / 10 ms frames for the audio branches of the five
  systems (64 or 128 mel bands at 16 kHz), with frame times in media seconds.
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio

LAUGHTER_RATE = 8000
LAUGHTER_HOP = 186
LAUGHTER_NFFT = 2048
LAUGHTER_MELS = 128
TOP_DB = 80.0


def resample(samples: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """Mono float32 samples at ``new_rate``."""
    x = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    if rate == new_rate:
        return x.numpy()
    return torchaudio.functional.resample(x, rate, new_rate).numpy()


def laughter_melspec(samples_8k: np.ndarray) -> np.ndarray:
    """(T, 128) dB features of 8 kHz mono audio; frame t is centred on sample t·186."""
    x = torch.from_numpy(np.ascontiguousarray(samples_8k, dtype=np.float32))
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=LAUGHTER_RATE,
        n_fft=LAUGHTER_NFFT,
        hop_length=LAUGHTER_HOP,
        n_mels=LAUGHTER_MELS,
        power=2.0,
        center=True,
        pad_mode="constant",
        norm="slaney",
        mel_scale="slaney",
    )(x)
    db = 20.0 * torch.log10(torch.clamp(mel, min=1e-5))
    db = db - db.max()
    return torch.clamp(db, min=-TOP_DB).T.contiguous().numpy()


def log_mel(
    samples: np.ndarray, rate: int, n_mels: int = 64, win_s: float = 0.025, hop_s: float = 0.010
) -> tuple[np.ndarray, np.ndarray]:
    """Log-mel energies (T, n_mels) and their frame-centre times (T,) relative to the first sample."""
    win, hop = int(round(win_s * rate)), int(round(hop_s * rate))
    n_fft = 1 << (win - 1).bit_length()
    x = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=rate, n_fft=n_fft, win_length=win, hop_length=hop, n_mels=n_mels, center=True
    )(x)
    feats = torch.log(mel + 1e-6).T.contiguous().numpy()
    return feats, np.arange(len(feats)) * hop / rate


def spectrogram(
    samples: np.ndarray, rate: int, win_s: float = 0.025, hop_s: float = 0.010
) -> tuple[np.ndarray, np.ndarray]:
    """Log power spectrogram (T, n_fft/2+1) and frame-centre times (T,) relative to the first sample."""
    win, hop = int(round(win_s * rate)), int(round(hop_s * rate))
    n_fft = 1 << (win - 1).bit_length()
    x = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    spec = torchaudio.transforms.Spectrogram(n_fft=n_fft, win_length=win, hop_length=hop, power=2.0)(x)
    feats = torch.log(spec + 1e-10).T.contiguous().numpy()
    return feats, np.arange(len(feats)) * hop / rate
