"""A fuzz corpus of bad (and odd but valid) media files, made from real clips by the tests.

Sources are clipfactory clips carrying real EmoDB speech (resources/demo). ``make_corpus(dir, n,
seed)`` writes ``n`` files cycling through the kinds below, each with its own random choices;
file names say the kind. Kinds: truncations at random byte offsets, flipped bytes in headers and in
frame data, zero length, huge dimensions (patched sample-entry and track-header sizes), absurd and
variable frame rates (patched media timescale, 1000 fps, irregular times), audio only, video only,
silent audio, one frame, long duration, wrong extensions, unreadable permissions.
"""

from __future__ import annotations

import random
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.clipfactory import make_audio_only, make_clip


class Sources:
    """Clips the mutations start from, made once per corpus folder."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.mp4 = make_clip(folder / "src.mp4", n_frames=30, fps=15, gop=10, audio="speech")
        self.mkv = make_clip(folder / "src.mkv", n_frames=30, fps=15, gop=10, audio="speech")
        self.data = {p: p.read_bytes() for p in (self.mp4, self.mkv)}


def _box(data: bytes, name: bytes) -> int:
    return data.find(name)


def _truncate(rng: random.Random, src: Sources, out: Path) -> Path:
    path = rng.choice([src.mp4, src.mkv])
    data = src.data[path]
    out = out.with_suffix(path.suffix)
    out.write_bytes(data[: rng.randrange(1, len(data))])
    return out


def _flip(rng: random.Random, data: bytes, lo: int, hi: int, n: int) -> bytes:
    b = bytearray(data)
    for _ in range(n):
        b[rng.randrange(lo, max(lo + 1, hi))] ^= rng.randrange(1, 256)
    return bytes(b)


def _flip_header(rng: random.Random, src: Sources, out: Path) -> Path:
    path = rng.choice([src.mp4, src.mkv])
    data = src.data[path]
    if path.suffix == ".mp4":  # moov (the index) sits at the end of our mp4s; flip bytes there
        lo = max(0, _box(data, b"moov") - 4)
        hi = len(data)
    else:
        lo, hi = 0, min(len(data), 4096)
    out = out.with_suffix(path.suffix)
    out.write_bytes(_flip(rng, data, lo, hi, rng.randrange(1, 12)))
    return out


def _flip_frames(rng: random.Random, src: Sources, out: Path) -> Path:
    data = src.data[src.mp4]
    lo = _box(data, b"mdat") + 8
    hi = _box(data, b"moov") - 4 if _box(data, b"moov") > lo else len(data)
    out = out.with_suffix(".mp4")
    out.write_bytes(_flip(rng, data, lo, hi, rng.randrange(1, 40)))
    return out


def _zero(rng: random.Random, src: Sources, out: Path) -> Path:
    out = out.with_suffix(rng.choice([".mp4", ".mkv", ".avi"]))
    out.write_bytes(b"")
    return out


def _huge(rng: random.Random, src: Sources, out: Path) -> Path:
    """Sample entry and track header claim a picture of up to 65535x65535."""
    b = bytearray(src.data[src.mp4])
    w, h = rng.choice([(65535, 65535), (1, 65535), (32768, 2), (0, 0)])
    i = _box(b, b"avc1")
    if i > 0:
        struct.pack_into(">HH", b, i + 4 + 24, w, h)
    t = _box(b, b"tkhd")
    if t > 0:
        size = struct.unpack_from(">I", b, t - 4)[0]
        struct.pack_into(">II", b, t - 4 + size - 8, w << 16, h << 16)
    out = out.with_suffix(".mp4")
    out.write_bytes(bytes(b))
    return out


def _absurd_rate(rng: random.Random, src: Sources, out: Path) -> Path:
    choice = rng.randrange(3)
    out = out.with_suffix(".mp4" if choice else ".mkv")
    if choice == 0:
        return make_clip(out, n_frames=rng.randrange(5, 40), fps=15, vfr=True, audio="speech")
    if choice == 1:
        return make_clip(out, n_frames=rng.randrange(5, 60), fps=1000, size=(128, 96))
    b = bytearray(src.data[src.mp4])  # the video track's media timescale set to 1 tick/s (or 2^31)
    m = _box(b, b"mdhd")
    version = b[m + 4]
    struct.pack_into(">I", b, m + 4 + (20 if version == 1 else 12), rng.choice([1, 2**31 - 1]))
    out.write_bytes(bytes(b))
    return out


def _audio_only(rng: random.Random, src: Sources, out: Path) -> Path:
    return make_audio_only(out.with_suffix(rng.choice([".m4a", ".mp4", ".wav"])), seconds=rng.uniform(0.2, 2))


def _video_only(rng: random.Random, src: Sources, out: Path) -> Path:
    return make_clip(out.with_suffix(".mp4"), n_frames=rng.randrange(2, 30), fps=15)


def _silent(rng: random.Random, src: Sources, out: Path) -> Path:
    n = rng.randrange(5, 30)
    return make_clip(
        out.with_suffix(".mp4"), n_frames=n, fps=15, audio=np.zeros(int(48000 * n / 15), np.float32)
    )


def _one_frame(rng: random.Random, src: Sources, out: Path) -> Path:
    return make_clip(out.with_suffix(rng.choice([".mp4", ".mkv"])), n_frames=1, fps=25, audio="speech")


def _long(rng: random.Random, src: Sources, out: Path) -> Path:
    """Long for its size (20-40 s at 1 fps, small): the per-file budget must still hold."""
    return make_clip(out.with_suffix(".mkv"), n_frames=rng.randrange(20, 40), fps=1, size=(64, 48), gop=30)


def _wrong_extension(rng: random.Random, src: Sources, out: Path) -> Path:
    choice = rng.randrange(3)
    if choice == 0:
        out = out.with_suffix(".avi")
        shutil.copyfile(src.mp4, out)
    elif choice == 1:
        out = out.with_suffix(".mp4")
        shutil.copyfile(src.mkv, out)
    else:
        out = out.with_suffix(".mov")
        out.write_text("a text file someone renamed to .mov\n" * rng.randrange(1, 50))
    return out


def _unreadable(rng: random.Random, src: Sources, out: Path) -> Path:
    out = out.with_suffix(".mp4")
    shutil.copyfile(src.mp4, out)
    out.chmod(0)  # root still reads it; everyone else gets "permission denied"
    return out


KINDS: dict[str, Callable[[random.Random, Sources, Path], Path]] = {
    "truncated": _truncate,
    "flipped-header": _flip_header,
    "flipped-frames": _flip_frames,
    "zero-length": _zero,
    "huge-dimensions": _huge,
    "absurd-rate": _absurd_rate,
    "audio-only": _audio_only,
    "video-only": _video_only,
    "silent-audio": _silent,
    "one-frame": _one_frame,
    "long": _long,
    "wrong-extension": _wrong_extension,
    "unreadable": _unreadable,
}


def make_corpus(folder: str | Path, n: int, seed: int = 0, kinds: list[str] | None = None) -> list[Path]:
    """``n`` files under ``folder/corpus`` (sources under ``folder/src``); returns their paths."""
    return corpus_files(folder, list(range(n)), seed, kinds)


def corpus_files(
    folder: str | Path, indices: list[int], seed: int = 0, kinds: list[str] | None = None
) -> list[Path]:
    """Files ``indices`` of ``make_corpus(folder, n, seed, kinds)``, byte for byte (the same random
    stream), in index order: a finding of the 1,000-file run is kept as a fast regression test."""
    folder = Path(folder)
    src = Sources(folder / "src")
    out_dir = folder / "corpus"
    out_dir.mkdir(parents=True, exist_ok=True)
    chosen = kinds or list(KINDS)
    rng = random.Random(seed)
    draws = [rng.random() for _ in range(max(indices, default=-1) + 1)]
    paths = []
    for i in sorted(indices):
        kind = chosen[i % len(chosen)]
        paths.append(KINDS[kind](random.Random(draws[i]), src, out_dir / f"{i:04d}-{kind}.bin"))
    return paths


def kind_of(path: Path) -> str:
    return path.stem.split("-", 1)[1]
