"""Opening media files with clear errors, and reading every video frame's timestamp without decoding.

The frame table is the foundation of frame accuracy: frame ``i`` is the ``i``-th smallest
presentation timestamp among the video packets (demuxed, not decoded: fast), never ``i / fps``.
This holds for variable frame rates and for B-frames, whose packets arrive out of display order.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from affectscope.errors import MediaError

log = logging.getLogger(__name__)


def open_container(path: str | os.PathLike[str]) -> av.container.InputContainer:
    """Open ``path`` for reading; every failure becomes a MediaError that says what to do."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p}: no such file. Check the path (or whether the drive is mounted).")
    if p.is_dir():
        raise MediaError(f"{p} is a folder, not a media file.")
    if p.stat().st_size == 0:
        raise MediaError(f"{p} is empty (0 bytes): the copy or download probably failed; copy it again.")
    try:
        return av.open(str(p), mode="r")
    except PermissionError as exc:
        raise MediaError(f"{p}: permission denied ({exc.strerror}).") from exc
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        kind = _sniff(p)
        if kind is None:
            raise MediaError(
                f"{p} is not a video or audio file FFmpeg can read (its first bytes match no media "
                f"format; was it renamed?). FFmpeg said: {_ffmpeg_reason(exc)}"
            ) from exc
        raise MediaError(
            f"{p} looks like {kind} file but cannot be opened: it is damaged or truncated (an incomplete "
            f"download or copy); copy it again. FFmpeg said: {_ffmpeg_reason(exc)}"
        ) from exc


_SIGNATURES = [
    (4, b"ftyp", "an MP4/MOV"),
    (4, b"moov", "a MOV"),
    (4, b"mdat", "a MOV"),
    (4, b"wide", "a MOV"),
    (0, b"\x1a\x45\xdf\xa3", "a Matroska/WebM"),
    (0, b"RIFF", "a RIFF (AVI/WAV)"),
    (0, b"OggS", "an Ogg"),
    (0, b"ID3", "an MP3"),
    (0, b"fLaC", "a FLAC"),
    (0, b"\x00\x00\x01\xba", "an MPEG-PS"),
]


def _sniff(path: Path) -> str | None:
    """Which media format the file's first bytes announce, to tell "damaged" from "not media"."""
    with open(path, "rb") as f:
        head = f.read(16)
    for offset, magic, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return None


def _ffmpeg_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def describe_streams(container: av.container.InputContainer) -> str:
    """A short human list of a container's streams, for error messages."""
    parts = []
    for s in container.streams:
        name = s.codec_context.name if s.codec_context is not None else "?"
        parts.append(f"{s.type} ({name})")
    return ", ".join(parts) or "no streams"


def video_stream(container: av.container.InputContainer, path: str | os.PathLike[str]) -> av.VideoStream:
    """The first video stream, or a MediaError naming what the file holds instead."""
    for s in container.streams.video:
        # Cover art in audio files shows up as a one-picture "video" stream; it is not a clip.
        if s.disposition & av.stream.Disposition.attached_pic:
            continue
        return s
    raise MediaError(
        f"{path} has no video track (it holds {describe_streams(container)}). "
        "Affectscope analyses video clips; for audio alone use load_audio."
    )


@dataclass(frozen=True)
class FrameTable:
    """Every frame's presentation timestamp (in stream ticks, display order) and keyframe flags."""

    pts: np.ndarray  # int64 (n,), strictly increasing
    keyframe: np.ndarray  # bool (n,)
    time_base: Fraction
    truncated: bool  # demuxing stopped on a read error: the file's tail is damaged

    @property
    def times(self) -> np.ndarray:
        """Seconds from the first frame (float64)."""
        return (self.pts - self.pts[0]).astype(np.float64) * float(self.time_base)

    @property
    def start_time(self) -> float:
        return float(self.pts[0] * self.time_base)


def scan_frames(
    container: av.container.InputContainer, stream: av.VideoStream, path: str | os.PathLike[str]
) -> FrameTable:
    """Demux (without decoding) all packets of ``stream`` and build the frame table.

    Falls back to decoding once when the container gives packets without timestamps (some AVI
    files). Raises MediaError when no frame can be found at all.
    """
    pts: list[int] = []
    keys: list[bool] = []
    missing = 0
    truncated = False
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:
                continue
            if packet.pts is None:
                missing += 1
                continue
            pts.append(packet.pts)
            keys.append(packet.is_keyframe)
    except (av.error.FFmpegError, OSError) as exc:
        truncated = True
        log.warning("%s: demuxing stopped early (%s); using the %d frames before it", path, exc, len(pts))
    if missing:
        log.info("%s: %d packets without timestamps; decoding once to time the frames", path, missing)
        pts, keys, truncated = _decode_times(container, stream, path)
    if not pts:
        raise MediaError(
            f"{path} has a video track but no readable frames: the file is damaged or truncated "
            "(an incomplete download or copy)."
        )
    order = np.argsort(np.asarray(pts, dtype=np.int64), kind="stable")
    sorted_pts = np.asarray(pts, dtype=np.int64)[order]
    sorted_keys = np.asarray(keys, dtype=bool)[order]
    # Broken muxers can repeat a timestamp; a duplicate is one frame on screen, not two.
    uniq, first = np.unique(sorted_pts, return_index=True)
    time_base = stream.time_base or Fraction(1, 1000)
    _rewind(container, stream)
    return FrameTable(pts=uniq, keyframe=sorted_keys[first], time_base=time_base, truncated=truncated)


def _decode_times(
    container: av.container.InputContainer, stream: av.VideoStream, path: str | os.PathLike[str]
) -> tuple[list[int], list[bool], bool]:
    _rewind(container, stream)
    pts: list[int] = []
    keys: list[bool] = []
    truncated = False
    try:
        for frame in container.decode(stream):
            t = frame.pts
            if t is None:
                continue
            pts.append(t)
            keys.append(bool(frame.key_frame))
    except (av.error.FFmpegError, OSError) as exc:
        truncated = True
        log.warning("%s: decoding stopped early (%s)", path, exc)
    return pts, keys, truncated


def _rewind(container: av.container.InputContainer, stream: av.VideoStream) -> None:
    """Back to the start of the file so the container can be decoded after a scan."""
    try:
        container.seek(0, backward=True, any_frame=False)
    except (av.error.FFmpegError, OSError):
        log.debug("rewind failed; the reader will reopen on first seek", exc_info=True)
