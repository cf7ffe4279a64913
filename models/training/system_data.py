"""Real labelled data as the perception signals the four fusion systems (seeds 000–003) read.

No labelled audio-visual set exists here, so each system is trained on what does: speech files
(EmoDB; RAVDESS for tests) and face images (FER-2013). A speech file becomes the ``ClipSignals``
``signals_for_file`` gives an audio file (the 16 kHz waveform; here also the shipped laughter
detector's track, as perception adds it for video); a face image becomes a one-frame clip whose
face perception has already classified (mini-Xception's 7 expression probabilities, the face
crops, the 22 per-frame face features). Label-matched pairs of the two (a speech file and a face
of the same class) are *synthetic* audio-visual clips: they only teach a fusion to combine two
modalities that each carry the label. Each system then cuts its own inputs with its own
``batch_from_signals``, so training sees exactly what inference feeds it.

Decoding, laughter detection and face classification run once per file and are cached as npz
under ``AFFECTSCOPE_TRAIN_CACHE`` (default: the temp folder), because two CPU cores are shared.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from affectscope.jobs import Job, ensure_job
from affectscope.models.signals import ClipSignals, FaceObservation, Track
from affectscope.models.systems.base import Batch, EmotionSystem

AUDIO_RATE = 16000


def cache_dir() -> Path:
    d = Path(os.environ.get("AFFECTSCOPE_TRAIN_CACHE", Path(tempfile.gettempdir()) / "affectscope_train"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def _key(path: Path, what: str) -> Path:
    st = path.stat()
    h = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{what}".encode()).hexdigest()[:20]
    return cache_dir() / f"{what}_{h}.npz"


def speech_arrays(path: Path, laughter: bool = True) -> dict[str, np.ndarray]:
    """16 kHz mono waveform (and the laughter detector's times/probabilities), cached."""
    f = _key(path, "speech_l44" if laughter else "speech")
    if f.exists():
        with np.load(f) as z:
            return dict(z)
    from affectscope.models.inputs import load_audio

    wave = load_audio(path).astype(np.float32)
    out = {"wave": wave}
    if laughter:
        from affectscope.models.extractors.laughter import laughter_probability

        # windows 1 s apart (44 frames), not perception's 8-frame hop: the systems resample the
        # track to a few steps per window anyway, and two shared CPU cores cannot afford more
        tr = laughter_probability(wave, AUDIO_RATE, hop_frames=44)
        out["laugh_t"], out["laugh_p"] = np.asarray(tr.times, np.float64), np.asarray(tr.values, np.float32)
    np.savez(f, **out)
    return out


def speech_signals(path: Path, laughter: bool = True) -> ClipSignals:
    """An audio file as perception gives it (waveform track; laughter track when asked)."""
    a = speech_arrays(path, laughter)
    wave = a["wave"]
    tracks = {"audio": Track(np.arange(len(wave)) / AUDIO_RATE, wave)}
    if laughter and "laugh_t" in a and len(a["laugh_t"]):
        tracks["laughter"] = Track(a["laugh_t"], a["laugh_p"], names=("laughter",))
    return ClipSignals(path.name, len(wave) / AUDIO_RATE, 0, 0, np.zeros(0), [], tracks)


def face_arrays(paths: Sequence[Path], job: Job | None = None) -> list[dict[str, np.ndarray]]:
    """Per image: the 48×48 grey face and mini-Xception's 7 probabilities (batched, cached)."""
    import cv2

    from affectscope.models.extractors.expression import classify_faces
    from affectscope.models.inputs import load_face_image

    job = ensure_job(job)
    out: list[dict[str, np.ndarray] | None] = [None] * len(paths)
    todo = []
    for i, p in enumerate(paths):
        f = _key(Path(p), "face")
        if f.exists():
            with np.load(f) as z:
                out[i] = dict(z)
        else:
            todo.append(i)
    for b0 in range(0, len(todo), 256):
        job.check()
        idx = todo[b0 : b0 + 256]
        greys = [load_face_image(paths[i]) for i in idx]
        g64 = np.stack([cv2.resize(g, (64, 64), interpolation=cv2.INTER_LINEAR) for g in greys])
        probs = classify_faces(g64)
        for i, g, pr in zip(idx, greys, probs, strict=True):
            out[i] = {"grey": g, "probs": pr.astype(np.float32)}
            np.savez(_key(Path(paths[i]), "face"), **out[i])
        job.progress(min(b0 + 256, len(todo)), len(todo), "faces: mini-Xception")
    return [o for o in out if o is not None]


def face_tracks(grey: np.ndarray, probs: np.ndarray, t: np.ndarray) -> dict[str, Track]:
    """What perception records for one frame in which the whole image is the face."""
    import cv2

    from affectscope.models.extractors.expression import face_features22

    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    return {
        "face_crop96": Track(t, cv2.resize(rgb, (96, 96), interpolation=cv2.INTER_LINEAR)[None]),
        "face_crop64": Track(t, cv2.resize(grey, (64, 64), interpolation=cv2.INTER_LINEAR)[None]),
        "face_count": Track(t, np.ones(1, np.float32)),
        "expression_mean": Track(t, probs[None].astype(np.float32)),
        "face_features22": Track(t, face_features22([probs])[None]),
    }


def face_signals(grey: np.ndarray, probs: np.ndarray, name: str = "face") -> ClipSignals:
    """A face image as a one-frame clip of 1 s whose face perception classified (static face)."""
    h, w = grey.shape
    t = np.zeros(1)
    face = FaceObservation(0, (0.0, 0.0, float(w), float(h)), None, probs.astype(np.float32), None)
    return ClipSignals(name, 1.0, w, h, t, [[face]], face_tracks(grey, probs, t))


def paired_signals(speech: ClipSignals, face: ClipSignals) -> ClipSignals:
    """A synthetic audio-visual clip: the face seen from t = 0 while the speech plays."""
    tracks = {**face.tracks, **speech.tracks}
    return ClipSignals(
        f"{speech.clip_hash}+{face.clip_hash}",
        max(speech.duration, face.duration),
        face.width,
        face.height,
        face.frame_times,
        face.faces,
        tracks,
    )


@dataclass
class Split:
    """One set of windows for a system: collated inputs, labels, and which file each window is from."""

    batch: Batch
    labels: np.ndarray  # (W,) per window
    file_index: np.ndarray  # (W,)
    file_labels: np.ndarray  # (F,)
    kind: str = ""

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx: np.ndarray) -> Batch:
        t = torch.from_numpy(np.asarray(idx))
        return {k: v[t] for k, v in self.batch.items()}


def windows_of(model: EmotionSystem, signals: ClipSignals) -> list[tuple[float, float]]:
    """The windows inference would cut from this clip (one per clip for whole-clip systems)."""
    from affectscope.models.inference import window_starts

    if getattr(model, "whole_clip", False):
        return [(0.0, max(signals.duration, 1e-3))]
    win, hop = float(model.window_seconds), float(model.hop_seconds)
    return [(float(t), float(t) + win) for t in window_starts(max(signals.duration, 1e-3), win, hop)]


def face_split(
    model: EmotionSystem,
    faces: Sequence[Any],
    arrays: Sequence[dict[str, np.ndarray]],
    kind: str = "faces",
    job: Job | None = None,
    **options: Any,
) -> Split:
    """``build_split`` of face images (samples with ``.path``, ``.label``) from their ``face_arrays``."""
    return build_split(
        model,
        [
            lambda a=a, f=f: face_signals(a["grey"], a["probs"], f.path.name)
            for a, f in zip(arrays, faces, strict=True)
        ],
        [f.label for f in faces],
        kind,
        job,
        **options,
    )


def build_split(
    model: EmotionSystem,
    clips: Sequence[Callable[[], ClipSignals]],
    labels: Sequence[int],
    kind: str,
    job: Job | None = None,
    max_windows: int | None = 3,
    squeeze_static: bool = False,
) -> Split:
    """Run ``model.batch_from_signals`` over every window of every clip (clips are made lazily).

    ``squeeze_static``: a static face gives identical frames; keep one (the CNN mean over identical
    frames is the same), which seed 003 training needs to fit two CPU cores.
    """
    from affectscope.models.systems.base import collate

    job = ensure_job(job)
    parts, ys, fidx = [], [], []
    for i, (make, y) in enumerate(zip(clips, labels, strict=True)):
        job.check()
        sig = make()
        wins = windows_of(model, sig)
        if max_windows is not None:
            wins = wins[:max_windows]
        for t0, t1 in wins:
            b = model.batch_from_signals(sig, t0, t1)
            if squeeze_static and b.get("visual") is not None and b["visual"].ndim == 5:
                b["visual"] = b["visual"][:, :1]
            parts.append(b)
            ys.append(y)
            fidx.append(i)
        job.progress(i + 1, len(clips), f"{kind}: inputs")
    return Split(collate(parts), np.asarray(ys), np.asarray(fidx), np.asarray(labels), kind)


def concat(splits: Sequence[Split], kind: str = "mixed") -> Split:
    """One split from several (file indices renumbered so files stay apart)."""
    offset, fidx = 0, []
    for s in splits:
        fidx.append(s.file_index + offset)
        offset += len(s.file_labels)
    keys = splits[0].batch.keys()
    return Split(
        {k: torch.cat([s.batch[k] for s in splits]) for k in keys},
        np.concatenate([s.labels for s in splits]),
        np.concatenate(fidx),
        np.concatenate([s.file_labels for s in splits]),
        kind,
    )


class DiskMemo:
    """Memoise an expensive per-window feature (openSMILE IS10) on disk, keyed by the samples' hash,
    while a recipe runs: reruns and the four recipes share it."""

    def __init__(self, fn: Callable[[np.ndarray, int], np.ndarray], what: str) -> None:
        self.fn, self.what = fn, what

    def __call__(self, wave: np.ndarray, rate: int = AUDIO_RATE) -> np.ndarray:
        w = np.ascontiguousarray(wave, np.float32)
        h = hashlib.sha1(w.tobytes() + str(rate).encode()).hexdigest()[:24]
        f = cache_dir() / f"{self.what}_{h}.npy"
        if f.exists():
            return np.load(f)
        out = self.fn(w, rate)
        np.save(f, out)
        return out
