"""The relabel queue on real speech with simulated annotators (issue 12's proof).

Data: EmoDB (10 speakers) and RAVDESS speech actors 1-20, emotions mapped into ``emotion7`` (calm and
boredom count as neutral; RAVDESS "surprised" is kept as surprise). Features: openSMILE eGeMAPSv02
functionals (88 per file, cached once), standardised; model: scikit-learn logistic regression — a cheap
stand-in for a project's model, so the whole benchmark runs in minutes on two loaded cores.

(a) Label-issue finding: 20 % of labels flipped at random to another class. Each ordering of the queue
    (cleanlab label quality on out-of-fold probabilities, uncertainty, combined, random) is scored by
    the share of flipped labels found in the first 20 % of the queue; random order finds ~20 %.
(b) Active learning: start from 10 % of the training speakers' labels, add labels in rounds in queue
    order (uncertainty = lowest margin first, or random), retrain, and measure UAR on held-out speakers.

    python bench/bench_queue.py [--out bench/results/queue] [--seeds 3]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from affectscope.models.training.datasets import EMODB_EMOTIONS, RAVDESS_EMOTIONS, map_label, speaker_of

LABEL_SET = "emotion7"
DATA = Path(
    os.environ.get("AFFECTSCOPE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
CACHE = Path(os.environ.get("AFFECTSCOPE_CACHE_DIR", Path.home() / ".cache" / "affectscope")) / "bench_queue"


def corpus_files() -> list[tuple[Path, str, str]]:
    """(file, emotion7 label, speaker) for EmoDB and RAVDESS actors 1-20."""
    out = []
    for f in sorted((DATA / "emodb").glob("*.wav")):
        lab = map_label(EMODB_EMOTIONS[f.stem[5]], LABEL_SET)
        if lab is not None:
            out.append((f, lab, speaker_of(f)))
    for f in sorted((DATA / "ravdess_speech").glob("Actor_*/*.flac")):
        lab = map_label(RAVDESS_EMOTIONS[f.stem.split("-")[2]], LABEL_SET)
        if lab is not None and int(f.stem.split("-")[6]) <= 20:
            out.append((f, lab, speaker_of(f)))
    return out


_MEL = None


def logmel_stats(path: Path) -> np.ndarray:
    """Mean, std, 10th and 90th percentile of 40 log-mel bands and of their deltas at 16 kHz (320 values)."""
    import soundfile
    import torch
    import torchaudio
    from scipy.signal import resample_poly

    y, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if rate != 16000:
        y = resample_poly(y, 16000, rate).astype(np.float32)
    global _MEL
    if _MEL is None:
        _MEL = torchaudio.transforms.MelSpectrogram(16000, n_fft=512, hop_length=160, n_mels=40)
    with torch.no_grad():
        m = torch.log(_MEL(torch.from_numpy(y)) + 1e-6).numpy()  # (40, frames)
    d = np.diff(m, axis=1)
    parts = []
    for a in (m, d):
        parts += [a.mean(1), a.std(1), np.percentile(a, 10, axis=1), np.percentile(a, 90, axis=1)]
    return np.concatenate(parts)


def features(files: list[Path]) -> np.ndarray:
    """Log-mel statistics per file, cached by file list (reading audio is the slow part)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"logmel_{len(files)}.npz"
    if path.exists():
        cached = np.load(path, allow_pickle=False)
        if [str(f) for f in files] == cached["files"].tolist():
            return cached["x"]
    rows = []
    for i, f in enumerate(files):
        rows.append(logmel_stats(f))
        if i % 200 == 0:
            print(f"features {i}/{len(files)}", file=sys.stderr)
    x = np.asarray(rows, dtype=np.float32)
    np.savez(path, x=x, files=np.array([str(f) for f in files]))
    return x


if __name__ == "__main__" and "--features-only" in sys.argv:
    import torch

    torch.set_num_threads(1)
    t = time.time()
    items = corpus_files()
    print(len(items), features([f for f, _, _ in items]).shape, time.time() - t)
    raise SystemExit(0)
