"""Real test clips whose frames say which frame they are.

``make_clip`` writes a genuine video file with PyAV. Every frame carries its own index twice: as two
rows of big black/white blocks (the index in binary, then its complement, so a misread or a blended
frame is detected rather than silently mis-numbered) that survive lossy compression, and as text
for humans. ``read_index`` reads the blocks back from a decoded RGB frame. Tests across the project
use this to prove that "frame N" really is frame N after seeks, steps and container changes.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

N_BITS = 16  # up to 65,535 frames: enough for long-GOP clips
_DEFAULT_AUDIO_CODECS = {
    ".mp4": "aac", ".m4v": "aac", ".mov": "aac", ".mkv": "aac", ".webm": "libopus", ".flv": "aac",
    ".mpg": "mp2", ".ts": "mp2", ".3gp": "aac",
}  # fmt: skip
_FRAME_CLOCK_CODECS = ("mpeg1video", "mpeg2video")  # MPEG-1/2 accept only standard frame clocks
_AVI_AUDIO = "pcm_s16le"
DEMO_SPEECH = Path(__file__).resolve().parents[1] / "resources" / "demo"


def _layout(width: int, height: int) -> tuple[int, int, int]:
    """Block width, block height and the top of the first block row for a frame size."""
    bw = width // N_BITS
    bh = max(8, height // 10)
    return bw, bh, 0


def draw_frame(index: int, width: int, height: int) -> np.ndarray:
    """An RGB frame showing ``index`` as binary blocks (two rows) and as text over a moving gradient."""
    if width < N_BITS * 4 or height < 48:
        raise ValueError(f"frame size {width}x{height} too small to draw the index (min {N_BITS * 4}x48)")
    bw, bh, top = _layout(width, height)
    # A moving background gives the encoder real motion to code (so frames differ beyond the blocks).
    ys, xs = np.mgrid[0:height, 0:width]
    g = ((xs + 3 * index) % 256 * 0.5 + (ys * 0.25)).astype(np.uint8) + 40
    img = np.stack([g, (g // 2 + 60).astype(np.uint8), (255 - g).astype(np.uint8)], axis=-1)
    for bit in range(N_BITS):
        on = (index >> (N_BITS - 1 - bit)) & 1
        x0 = bit * bw
        img[top : top + bh, x0 : x0 + bw] = 255 if on else 0
        img[top + bh : top + 2 * bh, x0 : x0 + bw] = 0 if on else 255
    scale = max(0.6, height / 240)
    org = (max(4, width // 40), min(height - 8, top + 2 * bh + int(40 * scale)))
    cv2.putText(img, f"#{index}", org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 0), max(1, int(2 * scale)))
    return img


def read_index(rgb: np.ndarray) -> int:
    """The index drawn into a decoded frame; ValueError if the two block rows disagree."""
    height, width = rgb.shape[:2]
    bw, bh, top = _layout(width, height)
    grey = rgb.mean(axis=2) if rgb.ndim == 3 else rgb
    value = 0
    for bit in range(N_BITS):
        # Sample the block's centre only: block edges bleed under chroma subsampling and DCT.
        x0, x1 = bit * bw + bw // 4, bit * bw + 3 * bw // 4
        a = grey[top + bh // 4 : top + 3 * bh // 4, x0:x1].mean()
        b = grey[top + bh + bh // 4 : top + bh + 3 * bh // 4, x0:x1].mean()
        if abs(a - b) < 64:
            raise ValueError(f"bit {bit} unreadable (rows {a:.0f} vs {b:.0f}): not a clipfactory frame")
        value = (value << 1) | int(a > b)
    return value


def vfr_times(n_frames: int, fps: float) -> np.ndarray:
    """Irregular presentation times (seconds) around ``fps``: intervals cycle through 0.5x..1.75x."""
    pattern = np.array([1.0, 0.5, 1.75, 1.0, 0.75, 1.5, 0.5])
    intervals = pattern[np.arange(n_frames) % len(pattern)] / fps
    return np.concatenate([[0.0], np.cumsum(intervals[:-1])])


def _tone(n: int, rate: int) -> np.ndarray:
    t = np.arange(n) / rate
    return (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def _speech(n: int, rate: int) -> np.ndarray:
    """Real EmoDB speech (CC0) shipped in resources/demo, looped to length: needs no research data."""
    wavs = sorted(DEMO_SPEECH.glob("*.wav"))
    with av.open(str(wavs[0])) as src:
        res = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [f.to_ndarray().reshape(-1) for fr in src.decode(audio=0) for f in res.resample(fr)]
        chunks += [f.to_ndarray().reshape(-1) for f in res.resample(None)]
    speech = np.concatenate(chunks).astype(np.float32)
    return np.resize(speech, n)


def _audio_samples(audio: str | np.ndarray, duration: float, rate: int) -> np.ndarray:
    if isinstance(audio, np.ndarray):
        return np.asarray(audio, dtype=np.float32)
    n = int(round(duration * rate))
    if audio == "tone":
        return _tone(n, rate)
    if audio == "speech":
        return _speech(n, rate)
    raise ValueError(f"audio must be None, 'tone', 'speech' or an array, not {audio!r}")


def _video_stream(
    container: av.container.OutputContainer,
    codec: str,
    fps: float,
    size: tuple[int, int],
    gop: int,
    bframes: bool,
    time_base: Fraction,
) -> av.VideoStream:
    stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.time_base = time_base
    stream.codec_context.time_base = time_base
    stream.codec_context.gop_size = gop
    if codec == "libx264":
        stream.options = {
            "preset": "veryfast",
            "crf": "20",
            # A fixed GOP (no scene-cut keyframes) so tests control where keyframes are.
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={3 if bframes else 0}",
        }
    elif codec in ("libvpx", "libvpx-vp9"):
        stream.options = {
            "deadline": "realtime",
            "cpu-used": "8",
            "crf": "20",
            "b": "1M",
            "auto-alt-ref": "0",
        }
        stream.codec_context.options = {"lag-in-frames": "0"}
    elif codec in ("mpeg4", "mpeg1video", "mpeg2video"):
        stream.options = {"qscale": "3"}
        stream.codec_context.max_b_frames = 2 if bframes else 0
    return stream


def make_clip(
    path: str | Path,
    n_frames: int = 60,
    fps: float = 25.0,
    size: tuple[int, int] = (320, 240),
    vfr: bool = False,
    gop: int = 12,
    audio: None | str | np.ndarray = None,
    audio_rate: int = 48000,
    codec: str = "libx264",
    bframes: bool = True,
) -> Path:
    """Write a real clip whose frame i shows index i (see ``read_index``); return its path.

    The container follows the suffix (.mp4 .mov .mkv .webm .avi .m4v .flv .mpg .ts .3gp .wmv; .mpg
    wants codec mpeg1video/mpeg2video, constant rate). ``vfr`` gives irregular frame
    times (``vfr_times``). ``audio`` is "tone" (440 Hz), "speech" (EmoDB speech from resources/demo),
    or a mono float32 array at ``audio_rate`` laid from t=0. webm needs codec libvpx/libvpx-vp9; avi is
    constant-rate only.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".webm" and codec not in ("libvpx", "libvpx-vp9"):
        raise ValueError("webm holds VP8/VP9 only: pass codec='libvpx' or 'libvpx-vp9'")
    if suffix == ".avi" and vfr:
        raise ValueError("AVI cannot hold variable frame rate")
    width, height = size
    times = vfr_times(n_frames, fps) if vfr else np.arange(n_frames) / fps
    # AVI stores one tick per frame; everything else gets a fine clock so irregular times are exact.
    frame_clock = suffix == ".avi" or codec in _FRAME_CLOCK_CODECS
    if frame_clock and vfr:
        raise ValueError(f"{suffix} with {codec} is constant-rate only")
    time_base = Fraction(1) / Fraction(fps).limit_denominator(1001) if frame_clock else Fraction(1, 90000)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        vstream = _video_stream(container, codec, fps, size, gop, bframes, time_base)
        astream = None
        if audio is not None:
            samples = _audio_samples(audio, n_frames / fps, audio_rate)
            acodec = _AVI_AUDIO if suffix == ".avi" else _DEFAULT_AUDIO_CODECS.get(suffix, "aac")
            arate = 48000 if acodec == "libopus" else audio_rate
            if arate != audio_rate:
                raise ValueError(f"{suffix} audio ({acodec}) needs audio_rate=48000")
            astream = container.add_stream(acodec, rate=arate, layout="mono")
        last_pts = -1
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(draw_frame(i, width, height), format="rgb24")
            pts = int(round(times[i] / time_base))
            frame.pts = max(pts, last_pts + 1)
            last_pts = frame.pts
            frame.time_base = time_base
            for packet in vstream.encode(frame):
                container.mux(packet)
        for packet in vstream.encode(None):
            container.mux(packet)
        if astream is not None:
            _encode_audio(container, astream, samples)
    return path


def _encode_audio(
    container: av.container.OutputContainer, stream: av.AudioStream, samples: np.ndarray
) -> None:
    codec_ctx = stream.codec_context
    chunk = codec_ctx.frame_size or 1024
    fmt = codec_ctx.format.name
    rate = codec_ctx.sample_rate
    for start in range(0, len(samples), chunk):
        part = samples[start : start + chunk]
        if fmt.startswith("s16"):
            data = (np.clip(part, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        else:
            data = part.astype(np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def make_audio_only(path: str | Path, seconds: float = 1.0, rate: int = 48000) -> Path:
    """An audio-only file (AAC in .m4a / .mp4, or PCM in .wav): what ``probe`` must refuse clearly."""
    path = Path(path)
    codec = "pcm_s16le" if path.suffix.lower() == ".wav" else "aac"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        _encode_audio(container, stream, _tone(int(seconds * rate), rate))
    return path


def make_corrupt_files(directory: str | Path) -> dict[str, Path]:
    """Bad inputs: truncated, not-video and empty must raise a clear MediaError; truncated_mkv (a
    streamable file cut short) opens and yields the frames before the cut."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    good = make_clip(directory / "good-source.mp4", n_frames=30)
    data = good.read_bytes()
    truncated = directory / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    not_video = directory / "not-video.mp4"
    not_video.write_text("This is a text file that someone renamed to .mp4\n" * 40)
    empty = directory / "empty.mp4"
    empty.write_bytes(b"")
    good.unlink()
    # Matroska is streamable: a cut-off .mkv still opens and its first frames decode.
    source = make_clip(directory / "good-source.mkv", n_frames=30, gop=5)
    data = source.read_bytes()
    truncated_mkv = directory / "truncated.mkv"
    truncated_mkv.write_bytes(data[: len(data) * 2 // 3])
    source.unlink()
    return {"truncated": truncated, "not_video": not_video, "empty": empty, "truncated_mkv": truncated_mkv}


def damage_frames(source: str | Path, out: str | Path, frames: list[int]) -> Path:
    """Copy ``source`` with the first bytes of the given frames' packets flipped (decode order =
    display order for clips made with ``bframes=False``): the decoder refuses exactly those frames,
    as players show such files with a glitch there."""
    with av.open(str(source)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    data = bytearray(Path(source).read_bytes())
    for k in frames:
        pos, _size = packets[k]
        for off in range(pos, pos + 6):  # the NAL length prefix and header: undecodable, not glitched
            data[off] ^= 0xFF
    out = Path(out)
    out.write_bytes(bytes(data))
    return out
