"""Voice activity with silero-vad (MIT; its TorchScript model ships inside the package).

The model reads 16 kHz audio in chunks of 512 samples (32 ms) and keeps a recurrent state from
chunk to chunk, so the audio is fed in order, one chunk per call; ``job.check()`` runs every
``batch`` chunks so a cancel stops within about a second of audio.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from affectscope.jobs import Job, ensure_job
from affectscope.models.signals import Track

VERSION = "silero-vad/6"
RATE = 16000
CHUNK = 512
_lock = threading.Lock()


def _load():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's deprecation notice
        warnings.simplefilter("ignore", DeprecationWarning)  # importlib.resources.path inside silero
        from silero_vad import load_silero_vad

        return load_silero_vad()


def speech_probability(
    samples: np.ndarray, rate: int = RATE, start_time: float = 0.0, job: Job | None = None, batch: int = 32
) -> Track:
    """Speech probability per 32 ms chunk, timed at the chunk centres (media seconds)."""
    import torch

    job = ensure_job(job)
    if rate != RATE:
        raise ValueError(f"silero-vad needs {RATE} Hz audio, got {rate}")
    n_chunks = len(samples) // CHUNK
    if n_chunks == 0:
        return Track.empty("audio shorter than 32 ms")
    with _lock:  # one model per call: its recurrent state must not be shared between threads
        model = _load()
    x = torch.from_numpy(np.ascontiguousarray(samples[: n_chunks * CHUNK], dtype=np.float32))
    probs = np.zeros(n_chunks, np.float32)
    with torch.inference_mode():
        model.reset_states()
        for start in range(0, n_chunks, batch):
            job.check()
            for i in range(start, min(start + batch, n_chunks)):
                probs[i] = float(model(x[i * CHUNK : (i + 1) * CHUNK], RATE))
            job.progress(min(start + batch, n_chunks), n_chunks, "voice activity")
    times = start_time + (np.arange(n_chunks) * CHUNK + CHUNK / 2) / RATE
    return Track(times, probs, names=("speech",))
