"""What a clip is: duration, frame count and real frame timing, size, codecs, audio. ``probe(path)``."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np

from affectscope.errors import MediaError
from affectscope.media.container import FrameTable, open_container, scan_frames, video_stream

# Intervals may differ by container rounding (e.g. 33 vs 34 ms at 30 fps in a 1/1000 time base); only
# differences beyond both this share of the mean and two clock ticks make a clip variable-rate.
VFR_TOLERANCE = 0.01


@dataclass(frozen=True)
class ClipInfo:
    """A clip's facts as read from its packets (frame times), never from header frame-rate fields."""

    path: str
    duration: float  # seconds from the first frame to the end of the last frame
    n_frames: int
    fps: float  # average rate over the clip
    vfr: bool  # variable frame rate: frame intervals differ by more than 1 % (and two clock ticks)
    frame_interval_min: float
    frame_interval_max: float
    frame_interval_mean: float
    width: int
    height: int
    codec: str
    start_time: float  # the first frame's presentation time in the file, seconds
    has_audio: bool
    audio_rate: int | None
    audio_channels: int | None
    audio_codec: str | None

    def to_json(self) -> dict:
        """A JSON-ready dict of every field (plain Python numbers and strings)."""
        return asdict(self)


def clip_info_from(
    path: str | os.PathLike[str],
    container: av.container.InputContainer,
    stream: av.VideoStream,
    table: FrameTable,
) -> ClipInfo:
    """Assemble a ClipInfo from an open container and its frame table (shared with VideoReader)."""
    times = table.times
    n = len(times)
    intervals = np.diff(times)
    if n > 1:
        i_min, i_max, i_mean = float(intervals.min()), float(intervals.max()), float(intervals.mean())
    else:
        rate = stream.average_rate or stream.guessed_rate or 25
        i_min = i_max = i_mean = 1.0 / float(rate)
    tick = float(table.time_base)
    vfr = n > 2 and (i_max - i_min) > max(VFR_TOLERANCE * i_mean, 2 * tick)
    audio = next(iter(container.streams.audio), None)
    # A damaged header can leave an audio stream without a decoder (no codec context): the clip
    # still has a track, whose details are unknown; loading it then says it cannot be decoded.
    actx = audio.codec_context if audio is not None else None
    ctx = stream.codec_context
    return ClipInfo(
        path=str(Path(path)),
        duration=float(times[-1] + i_mean),
        n_frames=n,
        fps=1.0 / i_mean if i_mean > 0 else 0.0,
        vfr=bool(vfr),
        frame_interval_min=i_min,
        frame_interval_max=i_max,
        frame_interval_mean=i_mean,
        width=int(ctx.width),
        height=int(ctx.height),
        codec=ctx.name,
        start_time=table.start_time,
        has_audio=audio is not None,
        audio_rate=int(actx.sample_rate) if actx is not None else None,
        audio_channels=int(actx.channels) if actx is not None else None,
        audio_codec=actx.name if actx is not None else None,
    )


def probe_with_times(path: str | os.PathLike[str]) -> tuple[ClipInfo, np.ndarray]:
    """``probe`` plus every frame's time in seconds from the first frame."""
    container = open_container(path)
    try:
        stream = video_stream(container, path)
        if not stream.codec_context.width:
            raise MediaError(f"{path}: the video track has no picture size; the file is damaged.")
        table = scan_frames(container, stream, path)
        return clip_info_from(path, container, stream, table), table.times
    finally:
        container.close()


def probe(path: str | os.PathLike[str]) -> ClipInfo:
    """Read a clip's facts (one pass over its packets, no decoding). Raises MediaError on bad input."""
    return probe_with_times(path)[0]
