"""Evaluation speed: ``affectscope evaluate``'s fast path against the old file-by-file path, same run.

Audio: the seed 004 model (shipped weights) over a folder of EmoDB speech; reports the real-time
factor (seconds of speech per second of wall time; goal ≥ 30× on 2 cores) of both paths and their
ratio. Faces: the seed 004 model and the mini-Xception over FER-2013 test images (images per
second; goal ≥ 500/s), both paths. Timing on a shared machine is noisy: compare the ratios.
Usage: python bench/bench_evaluate.py [--files 60] [--images 400] [--threads 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

import soundfile as sf
import torch

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("AFFECTSCOPE_SHARED_DATA", REPO.parent / "shared" / "data"))


def _manifest(rows: list[tuple[Path, str]], folder: Path) -> Path:
    path = folder / "manifest.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([("path", "label"), *[(str(p), lab) for p, lab in rows]])
    return path


def _run(model: str, manifest: Path, fast: bool, workers: int) -> tuple[float, dict]:
    from affectscope.models.evaluation import evaluate_manifest
    from affectscope.models.training import loaders

    loaders.load_audio.cache_clear()  # both paths decode from disk
    t = time.perf_counter()
    rep = evaluate_manifest(model, str(manifest), fast=fast, workers=workers)
    return time.perf_counter() - t, rep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from affectscope.models.training import datasets as ds

    with tempfile.TemporaryDirectory() as tmp:
        speech = ds.emodb(DATA / "emodb")[:: max(1, 535 // args.files)][: args.files]
        seconds = sum(sf.info(str(s.path)).duration for s in speech)
        m = _manifest([(s.path, s.emotion) for s in speech], Path(tmp))
        _run("lightweight-streaming", m, True, args.workers)  # warm-up: imports, model load
        slow, _ = _run("lightweight-streaming", m, False, 1)
        fast, rep = _run("lightweight-streaming", m, True, args.workers)
        print(f"audio, seed 004, {len(speech)} EmoDB files, {seconds:.0f} s of speech:")
        print(f"  file by file {seconds / slow:6.1f}x real time ({slow:.1f} s)")
        print(f"  fast         {seconds / fast:6.1f}x real time ({fast:.1f} s); speed-up {slow / fast:.1f}x")
        print(f"  (UAR {rep['uar']:.3f}; goal >= 30x real time)")

        faces = ds.fer(DATA / "fer2013" / "test_sample")[:: max(1, 1029 // args.images)][: args.images]
        m = _manifest([(s.path, s.emotion) for s in faces], Path(tmp))
        for model in ("lightweight-streaming", "fer-mini-xception"):
            _run(model, m, True, args.workers)
            slow, _ = _run(model, m, False, 1)
            fast, rep = _run(model, m, True, args.workers)
            print(f"faces, {model}, {len(faces)} FER-2013 test images:")
            print(f"  file by file {len(faces) / slow:7.0f} images/s")
            print(
                f"  fast         {len(faces) / fast:7.0f} images/s; speed-up {slow / fast:.1f}x "
                f"(UAR {rep['uar']:.3f}; goal >= 500/s)"
            )


if __name__ == "__main__":
    main()
