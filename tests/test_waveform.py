"""The min/max envelope pyramid and the spectrogram give what a full scan of the samples gives."""

from __future__ import annotations

import numpy as np
import pytest

from affectscope.jobs import Cancelled, Job
from affectscope.media.spectrogram import log_spectrogram
from affectscope.media.waveform import WaveformEnvelope


def _naive(samples: np.ndarray, rate: float, t0: float, t1: float, n_bins: int):
    s0, s1 = int(np.floor(t0 * rate)), int(np.ceil(t1 * rate))
    edges = np.linspace(s0, s1, n_bins + 1).astype(int)
    return (
        np.array([samples[a:b].min() for a, b in zip(edges[:-1], edges[1:], strict=True)]),
        np.array([samples[a:b].max() for a, b in zip(edges[:-1], edges[1:], strict=True)]),
    )


@pytest.fixture(scope="module")
def noise() -> tuple[np.ndarray, int]:
    rng = np.random.default_rng(0)
    rate = 16000
    x = (rng.standard_normal(rate * 60) * np.linspace(0.01, 1, rate * 60)).astype(np.float32)
    return x, rate


def test_whole_signal_extremes_are_exact(noise) -> None:
    x, rate = noise
    env = WaveformEnvelope(x, rate)
    _, lo, hi = env.minmax(0, 60, 800)
    assert lo.min() == x.min() and hi.max() == x.max()
    assert len(env.levels) > 3


@pytest.mark.parametrize("span", [(0.0, 60.0), (12.3, 13.1), (30.0, 30.05)])
def test_bins_match_a_full_scan(noise, span) -> None:
    """A coarse entry may straddle two bins, so a bin's value lies within its neighbours' true range."""
    x, rate = noise
    env = WaveformEnvelope(x, rate)
    times, lo, hi = env.minmax(*span, 400)
    true_lo, true_hi = _naive(x, rate, *span, len(times))
    pad_lo = np.minimum(np.minimum(true_lo, np.roll(true_lo, 1)), np.roll(true_lo, -1))
    pad_hi = np.maximum(np.maximum(true_hi, np.roll(true_hi, 1)), np.roll(true_hi, -1))
    assert np.all(lo >= pad_lo - 1e-7) and np.all(hi <= pad_hi + 1e-7)
    assert np.all(lo <= hi)
    assert np.mean(np.isclose(lo, true_lo)) > 0.8 and np.mean(np.isclose(hi, true_hi)) > 0.8
    assert lo.min() == pytest.approx(true_lo.min(), abs=0.2 * np.ptp(true_lo))
    assert times[0] >= span[0] and times[-1] <= span[1]


def test_deep_zoom_returns_samples(noise) -> None:
    x, rate = noise
    env = WaveformEnvelope(x, rate, start_time=2.0)
    times, lo, hi = env.minmax(3.0, 3.0 + 50 / rate, 800)
    assert len(times) == 50
    assert np.array_equal(lo, x[rate : rate + 50]) and np.array_equal(lo, hi)
    assert times[0] == pytest.approx(3.0)


def test_outside_the_signal_is_empty(noise) -> None:
    x, rate = noise
    times, lo, _ = WaveformEnvelope(x, rate).minmax(100, 200, 100)
    assert len(times) == len(lo) == 0


def test_short_signal_has_no_levels_but_answers() -> None:
    env = WaveformEnvelope(np.array([0.1, -0.5, 0.2], dtype=np.float32), 10)
    times, lo, hi = env.minmax(0, 1, 100)
    assert list(lo) == pytest.approx([0.1, -0.5, 0.2])


def test_spectrogram_finds_the_tone_and_bounds_columns() -> None:
    rate = 48000
    t = np.arange(rate * 20) / rate
    x = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    spec = log_spectrogram(x, rate, max_columns=500)
    assert spec.db.shape[0] <= 500 and spec.db.shape[1] == len(spec.freqs)
    assert spec.max_freq <= 8000 + rate / 1024
    peak = spec.freqs[np.argmax(spec.db.mean(axis=0))]
    assert abs(peak - 1000) < rate / 1024
    assert spec.times[0] > 0 and spec.times[-1] < 20


def test_spectrogram_can_be_cancelled() -> None:
    job = Job()
    job.cancel()
    with pytest.raises(Cancelled):
        log_spectrogram(np.zeros(48000 * 60, dtype=np.float32), 48000, job=job)
