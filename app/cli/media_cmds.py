"""``affectscope probe`` and ``affectscope frame``: what a clip is, and its exact frame N as a PNG.

Contracts other tools call (documented in docs/cli.md). Registration stays light: PyAV, numpy and
OpenCV are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from affectscope import strict_json
from affectscope.errors import UserFacingError

if TYPE_CHECKING:
    import numpy as np


class FrameRequestError(UserFacingError):
    """A frame index or time outside the clip, or an output file that cannot be written."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "probe",
        help="show a clip's duration, frame count and timing, size and codecs",
        description="Read a clip's facts from its packets (frame times are read, not guessed from fps).",
    )
    p.add_argument("clip", type=Path, help="video file")
    p.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    p.set_defaults(handler=run_probe)

    f = subparsers.add_parser(
        "frame",
        help="write exactly frame N (or the frame shown at a time) as an image",
        description="Decode exactly one frame (by index, or the frame on screen at a time) to PNG/JPEG.",
    )
    f.add_argument("clip", type=Path, help="video file")
    which = f.add_mutually_exclusive_group(required=True)
    which.add_argument("--index", type=int, metavar="N", help="frame index, 0 = first frame")
    which.add_argument("--at", type=float, metavar="SECONDS", help="time from the first frame, seconds")
    f.add_argument("-o", "--output", type=Path, required=True, help="image file to write (.png, .jpg)")
    f.add_argument("--json", action="store_true", help="print {index, time, path, width, height} as JSON")
    f.set_defaults(handler=run_frame)


def frame_times_summary(times: np.ndarray, vfr: bool) -> dict:
    """First/last frame time and interval statistics, the ``frame_times`` block of ``probe --json``."""
    import numpy as np  # noqa: F811 - imported here so registering the command stays light

    intervals = np.diff(times)
    has = len(intervals) > 0
    return {
        "first": float(times[0]),
        "last": float(times[-1]),
        "min_interval": float(intervals.min()) if has else None,
        "max_interval": float(intervals.max()) if has else None,
        "mean_interval": float(intervals.mean()) if has else None,
        "constant_rate": not vfr,
    }


def run_probe(args: argparse.Namespace) -> int:
    from affectscope.media import probe_with_times

    info, times = probe_with_times(args.clip)
    if args.json:
        doc = info.to_json()
        doc["frame_times"] = frame_times_summary(times, info.vfr)
        strict_json.dump(doc, sys.stdout)
        sys.stdout.write("\n")
        return 0
    rate = "variable" if info.vfr else "constant"
    print(f"{info.path}")
    print(
        f"  video     {info.codec} {info.width}x{info.height}, {info.n_frames} frames, {info.duration:.3f} s"
    )
    print(
        f"  timing    {info.fps:.3f} fps average, {rate} rate; intervals "
        f"{info.frame_interval_min * 1000:.2f}-{info.frame_interval_max * 1000:.2f} ms "
        f"(mean {info.frame_interval_mean * 1000:.2f}); first frame at {info.start_time:.3f} s"
    )
    if info.has_audio:
        print(f"  audio     {info.audio_codec}, {info.audio_rate} Hz, {info.audio_channels} channel(s)")
    else:
        print("  audio     none")
    return 0


def run_frame(args: argparse.Namespace) -> int:
    import cv2

    from affectscope.media import VideoReader

    out: Path = args.output
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"):
        raise FrameRequestError(f"{out}: choose an image file name ending in .png or .jpg")
    if not out.parent.exists():
        raise FrameRequestError(f"{out}: the folder {out.parent} does not exist")
    with VideoReader(args.clip) as reader:
        n = len(reader)
        if args.index is not None:
            if not 0 <= args.index < n:
                raise FrameRequestError(
                    f"frame {args.index} is outside {args.clip}: it has frames 0..{n - 1}"
                )
            index = args.index
        else:
            end = reader.info.duration
            if not 0.0 <= args.at < end:
                raise FrameRequestError(f"time {args.at} s is outside {args.clip}: it spans 0..{end:.3f} s")
            index = reader.index_at(args.at)
        rgb = reader.frame(index)
        time = float(reader.times[index])
    if not cv2.imwrite(str(out), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise FrameRequestError(f"{out}: the image could not be written (permissions or disk full?)")
    if args.json:
        doc = {"index": index, "time": time, "path": str(out), "width": rgb.shape[1], "height": rgb.shape[0]}
        strict_json.dump(doc, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"frame {index} at {time:.6f} s -> {out}")
    return 0
