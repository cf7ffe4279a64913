"""A log-power spectrogram for the timeline's overview lane (Qt-free, numpy only).

Computed once per clip, off the GUI thread, with a bounded number of columns so that a two-hour
clip costs the same as a short one: the hop grows with the clip's length (a column then samples
one window every hop, which is what an overview at that zoom can show anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from affectscope.jobs import Job, ensure_job


@dataclass(frozen=True)
class Spectrogram:
    """``db[column, freq_bin]`` in dB relative to the loudest bin; columns centred on ``times``."""

    times: np.ndarray  # media seconds, one per column
    freqs: np.ndarray  # Hz, one per row
    db: np.ndarray  # float32 (n_columns, n_freqs), <= 0, floored at -floor_db
    hop_seconds: float

    @property
    def max_freq(self) -> float:
        return float(self.freqs[-1]) if len(self.freqs) else 0.0


def log_spectrogram(
    samples: np.ndarray,
    rate: float,
    start_time: float = 0.0,
    window_seconds: float = 0.032,
    max_columns: int = 4000,
    max_freq: float = 8000.0,
    floor_db: float = 80.0,
    job: Job | None = None,
) -> Spectrogram:
    """Hann-windowed STFT power in dB of a mono signal, at most ``max_columns`` columns.

    Frequencies above ``max_freq`` (speech lives below 8 kHz) are dropped to keep the image small.
    """
    job = ensure_job(job)
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    n_fft = int(2 ** np.ceil(np.log2(max(16, window_seconds * rate))))
    if len(x) < n_fft:
        x = np.pad(x, (0, n_fft - len(x)))
    n_cols_dense = 1 + (len(x) - n_fft) // (n_fft // 4)
    hop = n_fft // 4 if n_cols_dense <= max_columns else int(np.ceil((len(x) - n_fft) / (max_columns - 1)))
    hop = max(1, hop)
    n_cols = 1 + (len(x) - n_fft) // hop
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)
    n_freq = max(2, int(np.searchsorted(freqs, max_freq, side="right")))
    freqs = freqs[:n_freq]
    window = np.hanning(n_fft).astype(np.float32)
    power = np.empty((n_cols, n_freq), dtype=np.float32)
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n_cols, n_fft), strides=(hop * x.strides[0], x.strides[0])
    )
    chunk = 512
    for c0 in range(0, n_cols, chunk):
        job.check()
        spec = np.fft.rfft(frames[c0 : c0 + chunk] * window, axis=1)[:, :n_freq]
        power[c0 : c0 + chunk] = spec.real**2 + spec.imag**2
        job.progress(min(n_cols, c0 + chunk), n_cols, "spectrogram")
    db = 10.0 * np.log10(np.maximum(power, 1e-12))
    db -= db.max()
    np.maximum(db, -floor_db, out=db)
    times = start_time + (np.arange(n_cols) * hop + n_fft / 2) / rate
    return Spectrogram(times=times, freqs=freqs, db=db.astype(np.float32), hop_seconds=hop / rate)
