"""Perception speed: milliseconds per frame for each extractor, and the whole extraction of a 5 s clip
as a ratio to decoding the same clip (both measured here, in this run, on this machine).

    python bench/bench_extract.py [CLIP] [--rate 10]

CLIP defaults to the real 5 s group clip with audio in ../shared/data/clips. Single-threaded torch,
as on our shared 2-core machines; the numbers are for comparing changes, not absolute promises.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = REPO.parent / "shared" / "data" / "clips" / "vgaf_val_1_1_negative.mp4"


def _time(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clip", nargs="?", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--rate", type=float, default=10.0)
    args = parser.parse_args()
    os.environ["AFFECTSCOPE_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-extract-")
    import torch

    torch.set_num_threads(1)
    from affectscope.media import VideoReader, load_audio
    from affectscope.models.extractors import expression, laughter, pose, vad
    from affectscope.models.extractors.faces import detect_faces, face_crop
    from affectscope.models.extractors.pipeline import extract_clip, select_frames

    with VideoReader(args.clip) as r:
        n_all = len(r)
        duration = r.info.duration
        decode_s = _time(lambda: [r.frame(i) for i in range(n_all)])
        idx = select_frames(r.times, args.rate)
        frames = [np.array(r.frame(int(i))) for i in idx]
    audio = load_audio(args.clip, rate=16000)
    seconds_audio = len(audio.samples) / 16000
    print(
        f"clip: {args.clip.name}, {n_all} frames, {len(idx)} analysed at {args.rate:g} Hz, "
        f"{seconds_audio:.1f} s audio"
    )
    print(f"decode all frames (baseline): {decode_s * 1000:.0f} ms = {decode_s / n_all * 1000:.1f} ms/frame")

    expression.model(), laughter.model()  # load once, outside the timings
    detect_faces(frames[0])
    faces_s = _time(lambda: [detect_faces(f) for f in frames])
    found = [(f, d) for f in frames for d in detect_faces(f)]
    crops = (
        np.stack([face_crop(f, d.box, 64, grey=True) for f, d in found])
        if found
        else np.zeros((1, 64, 64), np.uint8)
    )
    expr_s = _time(lambda: expression.classify_faces(crops), repeat=3)
    with pose.PoseEstimator() as est:
        est.estimate(frames[0])
        pose_s = _time(lambda: [est.estimate(f) for f in frames])
    vad_s = _time(lambda: vad.speech_probability(audio.samples, 16000))
    laugh_s = _time(lambda: laughter.laughter_probability(audio.samples, 16000))
    per = len(frames)
    print(
        f"faces + 68 landmarks (dlib HOG): {faces_s / per * 1000:7.1f} ms/frame "
        f"({len(found)} faces in {per} frames)"
    )
    print(f"expression (mini-Xception):      {expr_s / max(len(crops), 1) * 1000:7.2f} ms/face")
    print(f"pose (BlazePose, whole frame):   {pose_s / per * 1000:7.1f} ms/frame")
    print(
        f"voice activity (silero):         {vad_s / seconds_audio * 1000:7.1f} ms per s of audio "
        f"= {vad_s / per * 1000:.1f} ms/analysed frame"
    )
    print(
        f"laughter (ResNet):               {laugh_s / seconds_audio * 1000:7.1f} ms per s of audio "
        f"= {laugh_s / per * 1000:.1f} ms/analysed frame"
    )

    whole_s = _time(lambda: extract_clip(args.clip, rate_hz=args.rate, use_cache=False))
    extract_clip(args.clip, rate_hz=args.rate)  # fill the cache
    cached_s = _time(lambda: extract_clip(args.clip, rate_hz=args.rate), repeat=3)
    print(
        f"whole extraction ({args.rate:g} Hz, all modalities): {whole_s:.2f} s = "
        f"{whole_s / decode_s:.1f}x decoding the clip; {whole_s / duration:.2f}x real time"
    )
    print(f"from the cache: {cached_s * 1000:.0f} ms = {cached_s / decode_s:.2f}x decoding the clip")


if __name__ == "__main__":
    main()
