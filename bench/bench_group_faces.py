"""Faces found in the real group clip (VGAF val 1_1, ../shared/data/clips): frames with 0, 1, 2, 3+ faces
with dlib's HOG detector alone (the default) and with the second detector (``more_faces``), and the time
per frame of each, as a ratio against HOG alone measured in the same run.

    python bench/bench_group_faces.py [--rate 10] [--clip PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from affectscope.media import VideoReader  # noqa: E402
from affectscope.models.extractors.faces import detect_faces  # noqa: E402
from affectscope.models.extractors.pipeline import select_frames  # noqa: E402

CLIP = ROOT.parent / "shared" / "data" / "clips" / "vgaf_val_1_1_negative.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0, help="analysed frames per second (as the window)")
    parser.add_argument("--clip", type=Path, default=CLIP)
    args = parser.parse_args()
    with VideoReader(args.clip) as reader:
        frames = [np.array(reader.frame(int(i))) for i in select_frames(reader.times, args.rate)]
    h, w = frames[0].shape[:2]
    print(f"{args.clip.name}: {len(frames)} frames at {args.rate:g}/s, {w}×{h}")
    base = None
    for name, more in (("HOG only (default)", False), ("HOG + second detector", True)):
        started = time.perf_counter()
        counts = np.array([len(detect_faces(f, more=more)) for f in frames])
        per_frame = (time.perf_counter() - started) / len(frames)
        base = base or per_frame
        hist = [int((counts == k).sum()) for k in (0, 1)] + [
            int((counts == 2).sum()),
            int((counts >= 3).sum()),
        ]
        print(
            f"{name:24s} frames with 0/1/2/3+ faces: {hist}  ≥2 faces: {(counts >= 2).mean():.0%}  "
            f"any face: {(counts >= 1).mean():.0%}  {per_frame * 1000:.0f} ms/frame ({per_frame / base:.2f}×)"
        )


if __name__ == "__main__":
    main()
