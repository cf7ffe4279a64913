"""Utterance-level audio functionals, computed with torch/numpy (seed 001's stand-in for openSMILE).

The paper feeds openSMILE's emobase2010 set (1582 values) to its audio MLP. audEERING's
``opensmile`` package would pull numpy 2 and pandas 3 into an environment that must keep numpy<2
(mediapipe), so it is not a dependency; instead the same recipe — frame-level low-level
descriptors (LLDs) and their deltas, summarised by statistical functionals — is computed here:
20 LLDs (MFCC 0–12, log energy, zero-crossing rate, spectral centroid, roll-off 85 %, flux, and an
autocorrelation pitch proxy with its voicing strength) + 20 deltas = 40 contours × 17 functionals
(mean, std, min, max, range, skewness, kurtosis, quartiles 1–3, IQR, 1st/99th percentile, linear
slope and offset, relative positions of max and min) = 680 values. 25 ms frames, 10 ms hop.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

N_LLD = 20
N_FUNCTIONALS = 17
DIM = 2 * N_LLD * N_FUNCTIONALS  # 680


@lru_cache(maxsize=4)
def _mfcc(rate: int) -> torch.nn.Module:
    import torchaudio

    return torchaudio.transforms.MFCC(
        sample_rate=rate,
        n_mfcc=13,
        melkwargs={
            "n_fft": 512,
            "win_length": int(0.025 * rate),
            "hop_length": int(0.01 * rate),
            "n_mels": 40,
        },
    )


def _frames(wave: np.ndarray, win: int, hop: int) -> np.ndarray:
    if len(wave) < win:
        wave = np.pad(wave, (0, win - len(wave)))
    n = 1 + (len(wave) - win) // hop
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    return wave[idx]


def low_level_descriptors(wave: np.ndarray, rate: int = 16000) -> np.ndarray:
    """(frames, 20) LLD contours of a mono waveform."""
    wave = np.asarray(wave, np.float32)
    win, hop = int(0.025 * rate), int(0.01 * rate)
    frames = _frames(wave, win, hop) * np.hanning(win).astype(np.float32)
    with torch.no_grad():
        mfcc = _mfcc(rate)(torch.from_numpy(wave)).T.numpy()  # (frames', 13)
    n = min(len(frames), len(mfcc))
    frames, mfcc = frames[:n], mfcc[:n]
    energy = np.log(np.sum(frames**2, axis=1) + 1e-10)
    zcr = np.mean(np.abs(np.diff(np.sign(frames), axis=1)) > 0, axis=1)
    spec = np.abs(np.fft.rfft(frames, n=512, axis=1))
    freqs = np.fft.rfftfreq(512, 1.0 / rate)
    power = spec.sum(1) + 1e-10
    centroid = (spec * freqs).sum(1) / power / (rate / 2)
    rolloff = np.argmax(np.cumsum(spec, axis=1) >= 0.85 * power[:, None], axis=1) / spec.shape[1]
    flux = np.r_[0.0, np.sqrt((np.diff(spec / power[:, None], axis=0) ** 2).sum(1))]
    # Pitch proxy: the autocorrelation peak between 60 and 400 Hz, and how strong it is (voicing).
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames, n=2 * win, axis=1)) ** 2, axis=1)[:, :win]
    lo, hi = int(rate / 400), min(int(rate / 60), win - 1)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    voicing = ac[np.arange(n), lag] / (ac[:, 0] + 1e-10)
    f0 = np.where(voicing > 0.3, rate / lag, 0.0) / 400.0
    cols = [mfcc, energy, zcr, centroid, rolloff, flux, f0, voicing]
    return np.column_stack(cols).astype(np.float32)


def functionals(contours: np.ndarray) -> np.ndarray:
    """(contours.shape[1] · 17,) statistics of each column of a (frames, k) array."""
    x = np.asarray(contours, np.float64)
    n = len(x)
    mean, std = x.mean(0), x.std(0)
    z = (x - mean) / np.where(std > 0, std, 1.0)
    skew, kurt = (z**3).mean(0), (z**4).mean(0) - 3.0
    q1, q2, q3, p1, p99 = np.percentile(x, [25, 50, 75, 1, 99], axis=0)
    t = np.arange(n, dtype=np.float64)
    tc = t - t.mean()
    slope = (tc[:, None] * (x - mean)).sum(0) / max(float((tc**2).sum()), 1e-10)
    offset = mean - slope * t.mean()
    pos = max(n - 1, 1)
    stats = [
        mean,
        std,
        x.min(0),
        x.max(0),
        np.ptp(x, 0),
        skew,
        kurt,
        q1,
        q2,
        q3,
        q3 - q1,
        p1,
        p99,
        slope,
        offset,
        x.argmax(0) / pos,
        x.argmin(0) / pos,
    ]
    return np.stack(stats, 1).reshape(-1).astype(np.float32)


def audio_functionals(wave: np.ndarray, rate: int = 16000) -> np.ndarray:
    """The 680-value descriptor of one utterance: functionals of the 20 LLDs and their deltas."""
    lld = low_level_descriptors(wave, rate)
    delta = np.diff(lld, axis=0, prepend=lld[:1])
    return np.nan_to_num(functionals(np.concatenate([lld, delta], axis=1)))
