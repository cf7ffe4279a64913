"""Decoding a clip's audio track to float32 samples on the clip's time axis. ``load_audio(path)``."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import av
import numpy as np

from affectscope.errors import MediaError
from affectscope.media.container import describe_streams, open_container

log = logging.getLogger(__name__)


class NoAudioError(MediaError):
    """The file has no audio track (a normal case for silent clips: callers may skip audio)."""


@dataclass
class Audio:
    """Samples and where they sit in time.

    ``start_time`` is the time of ``samples[0]`` on the clip's time axis, the same axis as
    ``VideoReader.times`` (0 = the first video frame; for a file without video, 0 = the file's zero).
    Align by it, not by assuming audio starts with the first frame: encoders add priming and padding.
    """

    samples: np.ndarray  # float32, (n,) mono or (channels, n)
    rate: int
    start_time: float

    @property
    def duration(self) -> float:
        return self.samples.shape[-1] / self.rate

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else self.samples.shape[0]


def load_audio(path: str | os.PathLike[str], rate: int | None = None, mono: bool = True) -> Audio:
    """Decode the first audio track, resampled to ``rate`` (default: the file's) and mixed to mono.

    Raises NoAudioError when the file has no audio track, MediaError when it cannot be read.
    """
    if rate is not None and rate <= 0:
        raise ValueError(f"rate must be positive, not {rate}")
    container = open_container(path)
    try:
        if not container.streams.audio:
            raise NoAudioError(f"{path} has no audio track (it holds {describe_streams(container)}).")
        astream = container.streams.audio[0]
        vstream = next(iter(container.streams.video), None)
        return _decode(container, astream, vstream, rate, mono, path)
    finally:
        container.close()


def _decode(
    container: av.container.InputContainer,
    astream: av.AudioStream,
    vstream: av.VideoStream | None,
    rate: int | None,
    mono: bool,
    path: str | os.PathLike[str],
) -> Audio:
    ctx = astream.codec_context
    if ctx is None or not ctx.channels or not ctx.sample_rate:
        what = "has no decoder" if ctx is None else f"reports {ctx.channels} channels at {ctx.sample_rate} Hz"
        raise MediaError(f"{path}: the audio track cannot be decoded (it {what}); the file is damaged.")
    out_rate = rate or ctx.sample_rate
    try:
        resampler = av.AudioResampler(format="fltp", layout=ctx.layout.name, rate=out_rate)
    except (ValueError, av.error.FFmpegError) as exc:
        raise MediaError(f"{path}: the audio track cannot be decoded ({exc}); the file is damaged.") from exc
    chunks: list[np.ndarray] = []
    first_audio: float | None = None
    first_video: int | None = None
    streams = [astream] if vstream is None else [astream, vstream]
    try:
        for packet in container.demux(*streams):
            if packet.stream.type == "video":
                # Only the smallest video timestamp is needed, to put audio on the video's time axis.
                if packet.pts is not None and (first_video is None or packet.pts < first_video):
                    first_video = packet.pts
                continue
            for frame in packet.decode():
                if first_audio is None and frame.time is not None:
                    first_audio = float(frame.time)
                chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
    except (av.error.FFmpegError, OSError) as exc:
        if not chunks:
            raise MediaError(
                f"{path}: the audio track cannot be decoded ({exc}); the file is damaged."
            ) from exc
        log.warning("%s: audio decoding stopped early (%s); keeping what was decoded", path, exc)
    chunks.extend(f.to_ndarray() for f in resampler.resample(None))
    if not chunks:
        raise MediaError(f"{path}: the audio track holds no samples.")
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    if mono:
        samples = samples.mean(axis=0) if samples.shape[0] > 1 else samples[0]
    start = first_audio or 0.0
    if first_video is not None and vstream is not None and vstream.time_base is not None:
        start -= float(first_video * vstream.time_base)
    return Audio(samples=np.ascontiguousarray(samples), rate=int(out_rate), start_time=start)
