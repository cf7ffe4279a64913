"""What a model reads from a file: which kind of file it is, its waveform, a face image.

Inference, evaluation and training read files through here, so inference no longer borrows training's
corpus readers (``training/datasets``, ``training/loaders``) and the two packages do not import each
other. File kinds reuse ``media/files.py`` (one list of extensions, content probing for the rest).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import soundfile as sf
import torch

from affectscope.errors import MediaError
from affectscope.media.files import AUDIO_EXTENSIONS, media_kind

AUDIO_RATE = 16000


def kind_of(path: str | Path) -> str:
    """ "audio", "image" or "video": images and common audio files by extension (fast over a corpus),
    anything else by probing its content (any container FFmpeg decodes: .flv, .mpg, .ts, ...)."""
    ext = Path(path).suffix.lower()
    if ext in AUDIO_EXTENSIONS:
        return "audio"
    return media_kind(path)


@lru_cache(maxsize=4096)
def load_audio(path: str | Path, rate: int = AUDIO_RATE) -> np.ndarray:
    """Mono float32 waveform at ``rate`` (cached)."""
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise MediaError(f"cannot read audio {path}: {exc}") from None
    x = data.mean(axis=1)
    if sr != rate:
        import torchaudio.functional as AF

        x = AF.resample(torch.from_numpy(x), sr, rate).numpy()
    return np.ascontiguousarray(x, dtype=np.float32)


def load_face_image(path: str | Path) -> np.ndarray:
    """A face image file as grey uint8 (FER-2013 jpgs are 48×48 grey)."""
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise MediaError(f"cannot read image {path}")
    return img
