"""A foreign model's inputs for one window, built from perception by the perception contract's names.

Per-frame contract inputs (face crops, mouth crops, pose, expression, face presence) take the analysed
frames inside the window and resample them to the spec's T by nearest time; frames where nothing was
found are zeros. Audio inputs cut the window from the clip's 16 kHz waveform (zeros past its end). Then
the spec's ``normalise`` is applied: ``x * scale + offset``, then ``(x - mean) / std``.
"""

from __future__ import annotations

import numpy as np

from affectscope.models.exchange.spec import InputSpec
from affectscope.models.signals import ClipSignals

AUDIO_RATE = 16000
_FRAME_TRACKS = {
    "face_crop64": "face_crop64",
    "face_crop96": "face_crop96",
    "mouth_crop28": "mouth_crop28",
    "pose": "pose",
    "expression": "expression_mean",
    "face_present": "face_count",
}


def _frames(signals: ClipSignals, source: str, t0: float, t1: float, shape: tuple[int, ...]) -> np.ndarray:
    """(T, ...) values of a per-frame track at T evenly spaced times of [t0, t1), nearest frame each."""
    t_count, tail = shape[0], shape[1:]
    out = np.zeros(shape, np.float32)
    track = signals.tracks.get(_FRAME_TRACKS[source])
    if track is None or len(track.times) == 0:
        return out
    at = t0 + (np.arange(t_count) + 0.5) * (t1 - t0) / t_count
    idx = np.clip(np.searchsorted(track.times, at), 0, len(track.times) - 1)
    prev = np.clip(idx - 1, 0, len(track.times) - 1)
    idx = np.where(np.abs(track.times[prev] - at) < np.abs(track.times[idx] - at), prev, idx)
    # a frame counts only if it is within one analysed-frame step of the wanted time
    step = float(np.median(np.diff(track.times))) if len(track.times) > 1 else (t1 - t0)
    near = np.abs(track.times[idx] - at) <= step
    values = np.asarray(track.values, np.float32)
    if source == "face_present":
        values = (values > 0).astype(np.float32)
    if source == "face_crop96":
        values = values.transpose(0, 3, 1, 2)  # (F, 96, 96, 3) -> channels first
    elif source == "mouth_crop28" and values.ndim == 4:
        values = values.mean(axis=3)  # RGB mouth crops -> grey
    picked = np.nan_to_num(values[idx].reshape((t_count, *values.shape[1:])), nan=0.0)
    if picked.shape[1:] != tail:
        raise ValueError(f"{source} frames are {picked.shape[1:]}, the spec wants {tail}")
    out[near] = picked[near]
    return out


def _waveform(signals: ClipSignals, t0: float, n: int) -> np.ndarray:
    out = np.zeros(n, np.float32)
    track = signals.tracks.get("audio")
    if track is None or len(track.values) == 0:
        return out
    start = int(round(t0 * signals.audio_rate))
    part = np.asarray(track.values[start : start + n], np.float32)
    out[: len(part)] = part
    return out


def _log_mel(signals: ClipSignals, t0: float, t1: float, bands: int, frames: int) -> np.ndarray:
    import torch
    import torchaudio

    wave = _waveform(signals, t0, int(round((t1 - t0) * AUDIO_RATE)))
    mel = torchaudio.transforms.MelSpectrogram(AUDIO_RATE, n_fft=400, hop_length=160, n_mels=bands)
    spec = torch.log(mel(torch.from_numpy(wave)) + 1e-6).numpy()
    out = np.full((bands, frames), np.log(1e-6), np.float32)
    out[:, : min(frames, spec.shape[1])] = spec[:, :frames]
    return out


def _normalised(spec: InputSpec, x: np.ndarray) -> np.ndarray:
    n = spec.normalise
    x = x * float(n.get("scale", 1.0)) + float(n.get("offset", 0.0))
    if "mean" in n or "std" in n:
        x = (x - np.asarray(n.get("mean", 0.0), np.float32)) / np.asarray(n.get("std", 1.0), np.float32)
    return x.astype(np.float32)[None]


def contract_input(signals: ClipSignals, spec: InputSpec, t0: float, t1: float) -> np.ndarray:
    """The (1, ...) array of ``spec`` for the window [t0, t1), normalised as the spec says."""
    shape = spec.shape[1:]
    if spec.source == "waveform":
        x = _waveform(signals, t0, shape[0]).reshape(shape)
    elif spec.source == "log_mel":
        x = _log_mel(signals, t0, t1, shape[0], shape[1])
    else:
        x = _frames(signals, spec.source, t0, t1, shape)
    return _normalised(spec, x)


def absent_input(spec: InputSpec) -> np.ndarray:
    """What ``contract_input`` gives where the modality is missing (no face, silence), normalised: a
    masked modality reads this (modality Shapley and leave-one-out bars, the clip gate)."""
    raw = np.full(spec.shape[1:], np.log(1e-6) if spec.source == "log_mel" else 0.0, np.float32)
    return _normalised(spec, raw)


def present(signals: ClipSignals, modality: str, t0: float, t1: float) -> float:
    """1.0 when perception found the modality in [t0, t1) (a face, a mouth; sound), else 0.0."""
    if modality in ("face", "mouth"):
        track = signals.tracks.get("face_count")
        if track is None or len(track.times) == 0:
            return 0.0
        inside = (track.times >= t0) & (track.times < t1)
        return float(np.nan_to_num(np.asarray(track.values, np.float32)[inside]).max(initial=0) > 0)
    if modality == "pose":
        track = signals.tracks.get("pose_confidence")
        inside = track is not None and ((track.times >= t0) & (track.times < t1))
        return float(track is not None and np.nan_to_num(track.values[inside]).max(initial=0) > 0)
    wave = _waveform(signals, t0, max(1, int(round((t1 - t0) * AUDIO_RATE))))
    return float(np.abs(wave).max(initial=0) > 0)
