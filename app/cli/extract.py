"""``affectscope extract``: run perception over a clip (faces, pose, voice activity, laughter, audio).

A contract other tools call (documented in docs/cli.md). Results go to the extraction cache, so a
second run (and every later analysis) reads them back in well under a second. Progress goes to
stderr; ``--json`` prints one JSON document to stdout. Torch, dlib and mediapipe are imported
inside the handler.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from affectscope import strict_json
from affectscope.errors import UserFacingError

MODALITIES = ("faces", "pose", "vad", "laughter", "audio")  # kept in step with extractors.pipeline


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "extract",
        help="extract faces, landmarks, expression, pose, voice activity and laughter from a clip",
        description="Run the perception extractors over a clip and cache the results.",
    )
    p.add_argument("clip", type=Path, help="video file")
    p.add_argument(
        "--modalities",
        default=",".join(MODALITIES),
        help=f"comma-separated subset of {','.join(MODALITIES)} (default: all)",
    )
    p.add_argument("--rate", type=float, default=10.0, metavar="HZ", help="frames analysed per second (10)")
    p.add_argument(
        "--more-faces",
        action="store_true",
        help="add a second face detector for group shots (about 2x slower; its own cache entry)",
    )
    p.add_argument("--no-cache", action="store_true", help="recompute even when cached (and do not store)")
    p.add_argument("--project", type=Path, default=None, help="project folder whose cache/ to use")
    p.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    p.set_defaults(handler=run_extract)


def parse_modalities(text: str) -> tuple[str, ...]:
    chosen = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in chosen if m not in MODALITIES]
    if unknown or not chosen:
        raise UserFacingError(
            f"unknown modalities {', '.join(unknown) or '(none given)'}; choose from {', '.join(MODALITIES)}"
        )
    return chosen


def summary(signals, path: Path, seconds: float) -> dict:
    """The ``extract --json`` document: per-track sample counts, rates, reasons and means."""
    import numpy as np

    tracks = {}
    for name, tr in sorted(signals.tracks.items()):
        entry: dict = {"n": len(tr), "rate_hz": None, "reason": tr.reason}
        if len(tr) > 1:
            span = float(tr.times[-1] - tr.times[0])
            entry["rate_hz"] = round((len(tr) - 1) / span, 3) if span > 0 else None
        if len(tr) and tr.values.ndim == 1:
            vals = tr.values.astype(np.float64)
            entry["mean"] = float(np.nanmean(vals)) if np.isfinite(vals).any() else None
        tracks[name] = entry
    counts = [len(f) for f in signals.faces]
    ids = {o.track_id for frame in signals.faces for o in frame}
    return {
        "clip": str(path),
        "clip_hash": signals.clip_hash,
        "duration": signals.duration,
        "width": signals.width,
        "height": signals.height,
        "frames_analysed": len(signals.frame_times),
        # Analysed frames whose data is damaged: gaps in the tracks, not a refused clip.
        "undecodable_frames": signals.undecodable_frames,
        "cache_hit": bool(signals.from_cache),
        "seconds": round(seconds, 3),
        "modalities": signals.settings.get("modalities", []),
        "rate_hz": signals.settings.get("rate_hz"),
        "more_faces": bool(signals.settings.get("more_faces", False)),
        "faces_per_frame_max": max(counts, default=0),
        "face_tracks": len(ids),
        "people_per_frame_max": max((len(p) for p in signals.people), default=0),
        "extractor_versions": signals.extractor_versions,
        "tracks": tracks,
    }


def run_extract(args: argparse.Namespace) -> int:
    from affectscope.jobs import Cancelled, Job
    from affectscope.models.extractors.pipeline import extract_clip

    modalities = parse_modalities(args.modalities)
    if not args.clip.exists():
        raise UserFacingError(f"{args.clip}: no such file.")
    last = [-1]

    def on_progress(done: int, total: int, message: str) -> None:
        pct = int(100 * done / max(total, 1))
        if pct != last[0]:
            last[0] = pct
            print(f"\r{pct:3d}% {message[:60]:<60}", end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    try:
        signals = extract_clip(
            args.clip,
            modalities=modalities,
            rate_hz=args.rate,
            job=Job(on_progress=on_progress),
            use_cache=not args.no_cache,
            project_dir=args.project,
            more_faces=args.more_faces,
        )
    except Cancelled:
        print("", file=sys.stderr)
        return 130
    print("", file=sys.stderr)
    doc = summary(signals, args.clip, time.perf_counter() - started)
    if args.json:
        strict_json.dump(doc, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(
        f"{doc['clip']}: {doc['frames_analysed']} frames analysed in {doc['seconds']} s"
        f"{' (from cache)' if doc['cache_hit'] else ''}"
    )
    if doc["undecodable_frames"]:
        print(f"  {doc['undecodable_frames']} frames could not be decoded (damaged data): gaps in the tracks")
    for name, t in doc["tracks"].items():
        mean = f" mean {t['mean']:.3f}" if t.get("mean") is not None else ""
        reason = f"  ({t['reason']})" if t["reason"] else ""
        print(f"  {name:<16} {t['n']:>7} samples{mean}{reason}")
    return 0
