"""Laughter probability over time with the Switchboard ResNet (``laughter_net``).

The clip's audio is resampled to 8 kHz, turned into the detector's log-mel frames (23.25 ms hop),
and cut into windows of 44 frames (about 1 s) every ``hop_frames`` frames; each window's
probability is timed at its centre. Windows run in batches with ``job.check()`` in between.
"""

from __future__ import annotations

import threading

import numpy as np

from affectscope.jobs import Job, ensure_job
from affectscope.models.extractors import audio_features as af
from affectscope.models.signals import Track

VERSION = "laughter-resnet-switchboard/1"
WINDOW = 44
_lock = threading.Lock()
_model = None


def model():
    global _model
    with _lock:
        if _model is None:
            from affectscope.models.extractors import laughter_net
            from affectscope.models.extractors.device import pick_device

            _model = laughter_net.load(device=pick_device())
        return _model


def windows(features: np.ndarray, hop_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(W, 44, 128) windows and their centre frame positions; short audio is padded with silence."""
    if len(features) < WINDOW:
        pad = np.full((WINDOW - len(features), features.shape[1]), -af.TOP_DB, np.float32)
        features = np.concatenate([features, pad])
    starts = np.arange(0, len(features) - WINDOW + 1, hop_frames)
    idx = starts[:, None] + np.arange(WINDOW)[None, :]
    return features[idx].astype(np.float32), starts + WINDOW / 2


def laughter_probability(
    samples: np.ndarray,
    rate: int,
    start_time: float = 0.0,
    job: Job | None = None,
    hop_frames: int = 8,
    batch: int = 64,
    net=None,
) -> Track:
    """Laughter probability per ~1 s window every ``hop_frames`` × 23.25 ms; ``net`` overrides the model."""
    import torch

    job = ensure_job(job)
    if len(samples) < rate // 10:
        return Track.empty("audio shorter than 0.1 s")
    feats = af.laughter_melspec(af.resample(samples, rate, af.LAUGHTER_RATE))
    wins, centres = windows(feats, hop_frames)
    net = net if net is not None else model()
    device = next(net.parameters()).device
    probs = np.zeros(len(wins), np.float32)
    with torch.inference_mode():
        for start in range(0, len(wins), batch):
            job.check()
            x = torch.from_numpy(wins[start : start + batch]).to(device)
            probs[start : start + batch] = net(x).float().cpu().numpy()
            job.progress(min(start + batch, len(wins)), len(wins), "laughter")
    times = start_time + centres * af.LAUGHTER_HOP / af.LAUGHTER_RATE
    return Track(times, probs, names=("laughter",))
