"""Frame stepping and exact seeking: VideoReader against plain PyAV on the same frames, in one run.

Generates 720p clips (keyframe every 30 and every 250 frames) with the test clip factory, then
measures, per clip:
  step    VideoReader.frame(i + 1)  vs  next frame from an open PyAV decoder + to_ndarray("rgb24")
  seek    VideoReader.frame(random i) (default cache, and with the cache off)
          vs  PyAV seek(backward) to i's timestamp + decode forward to it + to_ndarray("rgb24")
and checks every returned frame's drawn index against the one asked for.

    python bench/bench_media.py [--frames 300] [--seeks 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.clipfactory

from affectscope.media import VideoReader  # noqa: E402
from tests.clipfactory import make_clip, read_index  # noqa: E402


def _stats(ms: list[float]) -> str:
    a = np.asarray(ms)
    return f"mean {a.mean():7.2f}  median {np.median(a):7.2f}  p95 {np.percentile(a, 95):7.2f} ms"


def _timed(fn: Callable[[int], np.ndarray], indices: list[int]) -> tuple[list[float], int]:
    """Milliseconds per call and how many returned frames showed a different index than asked."""
    times, wrong = [], 0
    for i in indices:
        t0 = time.perf_counter()
        rgb = fn(i)
        times.append((time.perf_counter() - t0) * 1000)
        wrong += read_index(rgb) != i
    return times, wrong


class PlainPyAV:
    """The straightforward PyAV way: seek to the frame's timestamp, decode forward, convert to RGB."""

    def __init__(self, path: Path) -> None:
        self.container = av.open(str(path))
        self.stream = self.container.streams.video[0]
        self.tick = 1 / (float(self.stream.average_rate) * float(self.stream.time_base))
        self.decoder = self.container.decode(self.stream)

    def next_frame(self, _i: int) -> np.ndarray:
        return next(self.decoder).to_ndarray(format="rgb24")

    def seek_frame(self, i: int) -> np.ndarray:
        target = round(i * self.tick)
        self.container.seek(target, stream=self.stream, backward=True)
        for frame in self.container.decode(self.stream):
            if frame.pts >= target:
                return frame.to_ndarray(format="rgb24")
        raise RuntimeError(f"frame {i} not reached")


def bench_clip(path: Path, n_seeks: int, rng: np.random.Generator) -> None:
    n = len(VideoReader(path))
    steps = list(range(1, n))
    seeks = [int(i) for i in rng.integers(0, n, size=n_seeks)]

    plain = PlainPyAV(path)
    plain.next_frame(0)
    base_step, base_step_wrong = _timed(plain.next_frame, steps)
    base_seek, base_seek_wrong = _timed(plain.seek_frame, seeks)

    with VideoReader(path) as reader:
        reader.frame(0)
        our_step, our_step_wrong = _timed(reader.frame, steps)
    with VideoReader(path) as reader:
        our_seek, our_seek_wrong = _timed(reader.frame, seeks)
    with VideoReader(path, cache_mb=0) as reader:
        cold_seek, cold_seek_wrong = _timed(reader.frame, seeks)
    with VideoReader(path) as reader:  # ← pressed repeatedly from the middle of the clip
        reader.frame(n // 2)
        back = list(range(n // 2 - 1, max(0, n // 2 - 60), -1))
        our_back, our_back_wrong = _timed(reader.frame, back)

    print(f"  next-frame step ({len(steps)} steps)")
    print(f"    PyAV next()+rgb24        {_stats(base_step)}   wrong frames {base_step_wrong}")
    print(f"    VideoReader.frame(i+1)   {_stats(our_step)}   wrong frames {our_step_wrong}")
    print(f"    ratio PyAV/ours (mean)   {np.mean(base_step) / np.mean(our_step):.2f}x")
    print(f"  random exact seek ({len(seeks)} seeks)")
    print(f"    PyAV seek+decode+rgb24   {_stats(base_seek)}   wrong frames {base_seek_wrong}")
    print(f"    VideoReader (cache)      {_stats(our_seek)}   wrong frames {our_seek_wrong}")
    print(f"    VideoReader (no cache)   {_stats(cold_seek)}   wrong frames {cold_seek_wrong}")
    print(
        f"    ratio PyAV/ours (mean)   {np.mean(base_seek) / np.mean(our_seek):.2f}x cached, "
        f"{np.mean(base_seek) / np.mean(cold_seek):.2f}x uncached"
    )
    print(f"  backward step from frame {n // 2} ({len(back)} steps)")
    print(f"    VideoReader.frame(i-1)   {_stats(our_back)}   wrong frames {our_back_wrong}")
    print(f"    ratio PyAV seek/ours     {np.mean(base_seek) / np.mean(our_back):.2f}x")


def bench_conversion(path: Path) -> None:
    """YUV->RGB: PyAV's to_ndarray("rgb24") against OpenCV's I420 conversion (STACK.md's advice)."""
    import cv2

    with av.open(str(path)) as container:
        frames = [f for _, f in zip(range(30), container.decode(video=0), strict=False)]
    ways = {
        'PyAV to_ndarray("rgb24")': lambda f: f.to_ndarray(format="rgb24"),
        "cv2.cvtColor(YUV2RGB_I420)": lambda f: cv2.cvtColor(
            f.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2RGB_I420
        ),
    }
    means = {}
    for name, fn in ways.items():
        ms = []
        for f in frames * 3:
            t0 = time.perf_counter()
            fn(f)
            ms.append((time.perf_counter() - t0) * 1000)
        means[name] = np.mean(ms)
        print(f"    {name:28s} {_stats(ms)}")
    a, b = means.values()
    print(f"    ratio OpenCV/PyAV (mean)   {b / a:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--seeks", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        from affectscope.app.services.demo import build_demo_project

        t0 = time.perf_counter()
        build_demo_project(Path(tmp) / "demo")
        print(f"demo build (4 clips, 5 s, 480x360): {time.perf_counter() - t0:.2f} s (goal < 5 s)")
        for gop in (30, 250):
            t0 = time.perf_counter()
            path = make_clip(Path(tmp) / f"gop{gop}.mp4", n_frames=args.frames, size=(1280, 720), gop=gop)
            print(
                f"720p h264 (B-frames), {args.frames} frames, keyframe every {gop} "
                f"(generated in {time.perf_counter() - t0:.1f} s)"
            )
            bench_clip(path, args.seeks, rng)
            if gop == 30:
                print("  YUV->RGB conversion, 720p")
                bench_conversion(path)


if __name__ == "__main__":
    main()
