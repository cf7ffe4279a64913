"""Batch throughput: clips per minute with 1 and 2 Dask workers against the single-process command.

The same made clips (speech under frames, 320x240, each a frame longer than the last so that no
two share an extraction cache entry) go through ``affectscope batch predict`` three
ways, each into a fresh project (so nothing is skipped): ``--engine local`` (one process, the
baseline), ``--engine dask --workers 1`` and ``--workers 2``. Wall times include starting the
cluster and loading the model once per worker. Ratios are against the baseline of the same run
(the machine is shared: absolute numbers are noisy).

    python bench/bench_batch.py [--clips 8] [--frames 60] [--model lightweight-streaming]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.clipfactory import make_clip  # noqa: E402


def _run(folder: Path, clips: Path, model: str, *engine: str) -> tuple[float, dict]:
    project = folder / "project"
    subprocess.run(
        [sys.executable, "-m", "affectscope", "project", "init", str(project), "--clips", str(clips)],
        check=True,
        capture_output=True,
    )
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "affectscope", "batch", "predict", "--project", str(project)]
        + ["--model", model, "--json", *engine],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--frames", type=int, default=60, help="frames per clip at 15 fps")
    ap.add_argument("--model", default="lightweight-streaming")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clips = root / "clips"
        for i in range(args.clips):
            # One frame more per clip: identical clips share one content hash, so all but the first
            # would come from the extraction cache and the benchmark would time only startup.
            make_clip(clips / f"c{i:03d}.mp4", n_frames=args.frames + i, fps=15, audio="speech")
        runs = {
            "single process (--engine local)": ("--engine", "local"),
            "dask, 1 worker": ("--engine", "dask", "--workers", "1"),
            "dask, 2 workers": ("--engine", "dask", "--workers", "2"),
        }
        results = {}
        for i, (name, engine) in enumerate(runs.items()):
            wall, summary = _run(root / f"run{i}", clips, args.model, *engine)
            assert summary["done"] == args.clips, summary
            results[name] = (wall, 60.0 * args.clips / wall)
    base = results["single process (--engine local)"][1]
    print(
        f"batch predict ({args.model}), {args.clips} clips of {args.frames / 15:.1f}-"
        f"{(args.frames + args.clips - 1) / 15:.1f} s, wall incl. startup:"
    )
    for name, (wall, cpm) in results.items():
        print(f"  {name:<34} {wall:7.1f} s  {cpm:6.2f} clips/min  x{cpm / base:.2f} vs single process")


if __name__ == "__main__":
    main()
