"""Frame-accurate random access to a video: ``VideoReader.frame(i)`` returns exactly frame ``i``.

Frame ``i`` is the ``i``-th presentation timestamp of the stream (see container.FrameTable). An
exact seek is a keyframe seek followed by decoding forward until the decoder outputs the frame whose
timestamp is the target's; the next frame (``i + 1``) continues the running decoder without seeking.
Frames decoded on the way are kept in a small cache so stepping backwards is instant.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np

from affectscope.errors import MediaError
from affectscope.media.container import open_container, scan_frames, video_stream
from affectscope.media.frame_cache import FrameCache, to_rgb
from affectscope.media.probe import ClipInfo, clip_info_from

log = logging.getLogger(__name__)

DEFAULT_CACHE_MB = 192
REWIND_SECONDS = 60.0  # how far before the first frame a rewind aims (see VideoReader._seek)
# MPEG program/transport streams seek by byte position: the seek lands on the keyframe after the target
# and the first frames decoded there can carry their neighbour's timestamp. Seeks in them aim this far
# before the keyframe and trust frames from the second keyframe decoded on (see _decode_packets).
BYTE_SEEK_FORMATS = {"mpeg", "mpegts", "mpegtsraw", "mpegvideo"}
BYTE_SEEK_PREROLL = 3.0
SKIP_MARGIN = 3  # frames before a jump target that are decoded in full (and cached) for steps back


class UndecodableFrameError(MediaError):
    """One frame of an otherwise playable clip cannot be decoded (bytes damaged inside its data).

    Players show such files with glitches; analysis treats the frame as a gap (``index``) and goes on.
    """

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class VideoReader:
    """Decode frames of one clip by index or time. One per thread: not thread-safe.

    ``times[i]`` is frame ``i``'s presentation time in seconds, 0 = first frame. Returned frames are
    read-only HxWx3 uint8 RGB arrays shared with the cache: copy one before drawing on it.
    """

    def __init__(self, path: str | os.PathLike[str], cache_mb: int = DEFAULT_CACHE_MB) -> None:
        self.path = str(path)
        self._container = open_container(path)
        try:
            self._stream = video_stream(self._container, path)
            table = scan_frames(self._container, self._stream, path)
            self.info: ClipInfo = clip_info_from(path, self._container, self._stream, table)
        except BaseException:
            self._container.close()
            raise
        self._pts = table.pts
        self.times: np.ndarray = table.times
        self._index_of_pts = {int(p): i for i, p in enumerate(self._pts)}
        self._keyframes = np.flatnonzero(table.keyframe)
        if len(self._keyframes) == 0 or self._keyframes[0] != 0:
            # The decoder can always start at the beginning of the file.
            self._keyframes = np.concatenate([[0], self._keyframes]).astype(np.int64)
        self._cache = FrameCache(cache_mb * 1024 * 1024)
        frame_yuv = self.info.width * self.info.height * 3 // 2
        # How many frames before a seek target to keep (undecoded): backward steps within a GOP.
        self._keep_before = max(2, (self._cache.max_bytes // 2) // max(1, frame_yuv))
        self._byte_seek = self._container.format.name in BYTE_SEEK_FORMATS
        self._frames: Iterator[av.VideoFrame] | None = None
        self._next = 0  # index the running decoder outputs next (valid while _frames is not None)
        self._last_request = -2
        self.seeks = 0  # number of container seeks, for tests and benchmarks
        self.bad_packets = 0  # video packets the decoder refused (damaged frame data), skipped over
        self._bad: set[int] = set()  # frames known to be undecodable: refused again at once

    def __len__(self) -> int:
        return len(self.times)

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._frames = None
        self._cache.clear()
        self._container.close()

    def index_at(self, t: float) -> int:
        """The frame on screen at time ``t``: the last frame with time <= t, clamped to the clip."""
        # A nanosecond of slack so a time computed from times[i] maps back to i despite float rounding.
        i = int(np.searchsorted(self.times, t + 1e-9, side="right")) - 1
        return min(max(i, 0), len(self.times) - 1)

    def frame_at(self, t: float) -> tuple[int, np.ndarray]:
        """The index and the picture of the frame on screen at time ``t``."""
        i = self.index_at(t)
        return i, self.frame(i)

    def frame(self, i: int) -> np.ndarray:
        """Exactly frame ``i`` (HxWx3 uint8 RGB, read-only). IndexError if out of range."""
        n = len(self.times)
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"frame index must be an integer, not {type(i).__name__}")
        i = int(i)
        if i < 0 or i >= n:
            raise IndexError(f"frame {i} out of range: {self.path} has frames 0..{n - 1}")
        stepping_back = i == self._last_request - 1
        self._last_request = i
        cached = self._cache.get(i)
        if cached is not None:
            return cached
        if i in self._bad:
            raise self._undecodable(i)
        key = int(self._keyframes[np.searchsorted(self._keyframes, i, side="right") - 1])
        # Decoding on is cheaper than seeking when no keyframe lies between the decoder and i.
        if not (self._frames is not None and self._next <= i and key <= self._next):
            # A jump needs only frame i: frames nothing refers to are skipped up to a few before it
            # (about a third less decoding). A step back keeps the whole way for the next steps back.
            skip_below = None if stepping_back else max(key, i - SKIP_MARGIN)
            self._seek(key, skip_below)
        rgb = self._decode_to(i)
        if rgb is None:
            rgb = self._retry_from_earlier(i, key)
        return rgb

    def _seek(self, key_index: int, skip_below: int | None = None, rewind: bool = False) -> None:
        """Seek to keyframe ``key_index``; with ``skip_below``, skip non-reference frames before it.
        ``rewind`` aims well before the first frame: MPEG-PS/TS seek by byte position and land on the
        keyframe after the target, so only a target before the file's start reaches its first frames."""
        self.seeks += 1
        target = int(self._pts[key_index])
        ticks_per_second = 1 / float(self._stream.time_base or Fraction(1, 1000))
        if rewind:
            target -= int(REWIND_SECONDS * ticks_per_second)
        elif self._byte_seek:
            target -= int(BYTE_SEEK_PREROLL * ticks_per_second)
        try:
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        except (av.error.FFmpegError, OSError) as exc:
            raise MediaError(
                f"{self.path}: seeking to frame {key_index} failed ({exc}); the file is damaged."
            ) from exc
        skip_pts = None if skip_below is None or skip_below <= key_index else int(self._pts[skip_below])
        if self._byte_seek:
            skip_pts = None  # frames are counted by keyframes there, not skipped by timestamp
        self._frames = self._decode_packets(skip_pts, settle=self._byte_seek and not rewind)
        self._next = -1  # unknown until the first frame comes out

    def _decode_packets(self, skip_pts: int | None, settle: bool = False) -> Iterator[av.VideoFrame]:
        """Decoded frames from the current position, the decoder skipping non-reference frames
        (h264/hevc B-frames nothing depends on) while packets are before ``skip_pts``; with
        ``settle``, frames before the second keyframe decoded are dropped (their timestamps may be
        wrong after a byte-position seek)."""
        ctx = self._stream.codec_context
        skipping = skip_pts is not None
        keys_to_see = 2 if settle else 0
        ctx.skip_frame = "NONREF" if skipping else "DEFAULT"
        try:
            for packet in self._container.demux(self._stream):
                if skipping and (packet.pts is None or packet.pts >= skip_pts):
                    ctx.skip_frame = "DEFAULT"
                    skipping = False
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError as exc:
                    # Damaged frame data: skip this packet like a player would; the frames that
                    # depend on it come out with glitches or not at all (gaps, see frame()).
                    self.bad_packets += 1
                    log.debug("%s: video packet at pts %s undecodable (%s)", self.path, packet.pts, exc)
                    continue
                for frame in frames:
                    if keys_to_see and frame.key_frame:
                        keys_to_see -= 1
                    if not keys_to_see:
                        yield frame
        finally:
            ctx.skip_frame = "DEFAULT"

    def _decode_to(self, i: int) -> np.ndarray | None:
        """Decode forward until frame ``i``; None if the decoder passed it (landed after it) or ended."""
        assert self._frames is not None
        while True:
            try:
                frame = next(self._frames)
            except StopIteration:
                self._frames = None
                return None
            except (av.error.FFmpegError, OSError) as exc:
                self._frames = None
                raise MediaError(
                    f"{self.path}: frame {i} cannot be decoded ({exc}); the file is damaged or truncated."
                ) from exc
            idx = self._frame_index(frame)
            if idx is None:
                continue
            self._next = idx + 1
            if idx == i:
                rgb = to_rgb(frame)
                self._cache.put(i, rgb)
                return rgb
            if idx > i:
                self._cache.put(idx, frame)
                return None
            if i - idx <= self._keep_before:
                self._cache.put(idx, frame)

    def _frame_index(self, frame: av.VideoFrame) -> int | None:
        pts = frame.pts
        if pts is None:
            return None
        idx = self._index_of_pts.get(int(pts))
        if idx is None:
            # A timestamp not in the packet table (rare muxer quirks): take the nearest frame.
            j = int(np.clip(np.searchsorted(self._pts, pts), 1, len(self._pts) - 1))
            idx = j if abs(self._pts[j] - pts) < abs(self._pts[j - 1] - pts) else j - 1
            log.debug("%s: decoded pts %s not in table; using frame %d", self.path, pts, idx)
        return idx

    def _retry_from_earlier(self, i: int, key: int) -> np.ndarray:
        """The seek landed after frame ``i`` (imprecise container index): start from earlier keyframes.
        When no start brings frame ``i`` out, its data is damaged: UndecodableFrameError."""
        earlier = [int(k) for k in self._keyframes if k < key][::-1]
        for k in [*earlier[:2], 0] if self.bad_packets == 0 else [key]:
            log.debug("%s: frame %d missed from keyframe %d; retrying from %d", self.path, i, key, k)
            self._seek(k, rewind=k == 0)
            rgb = self._decode_to(i)
            if rgb is not None:
                return rgb
        self._bad.add(i)
        raise self._undecodable(i)

    def _undecodable(self, i: int) -> UndecodableFrameError:
        return UndecodableFrameError(
            f"{self.path}: frame {i} of {len(self.times)} cannot be decoded; "
            "the file is damaged or truncated.",
            i,
        )
