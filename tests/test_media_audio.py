"""load_audio: rate, duration, resampling, channel mixing, and alignment with the video by timestamps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectscope.media import Audio, NoAudioError, load_audio
from tests.clipfactory import make_audio_only, make_clip

CLICKS = (0.5, 1.0, 1.6)  # seconds after the first video frame


def _clicks(rate: int, seconds: float) -> np.ndarray:
    x = np.zeros(int(seconds * rate), dtype=np.float32)
    for t in CLICKS:
        i = int(t * rate)
        x[i : i + rate // 1000] = 0.9  # a 1 ms pulse
    return x


def _found_clicks(audio: Audio) -> list[float]:
    """Times (clip axis) of the loudest sample near each expected click."""
    found = []
    for t in CLICKS:
        centre = int((t - audio.start_time) * audio.rate)
        half = int(0.05 * audio.rate)
        window = np.abs(audio.samples[centre - half : centre + half])
        found.append(audio.start_time + (centre - half + int(np.argmax(window))) / audio.rate)
    return found


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".webm", ".mov"])
@pytest.mark.parametrize("rate", [None, 16000])
def test_audio_lines_up_with_video_frames(tmp_path: Path, suffix: str, rate: int | None) -> None:
    codec = "libvpx-vp9" if suffix == ".webm" else "libx264"
    path = make_clip(tmp_path / f"c{suffix}", n_frames=50, audio=_clicks(48000, 2.0), codec=codec)
    audio = load_audio(path, rate=rate)
    assert audio.rate == (rate or 48000)
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    # Encoders pad (AAC adds about 1,000 samples), so the duration is close to, not exactly, 2 s.
    assert audio.duration == pytest.approx(2.0, abs=0.05)
    for want, got in zip(CLICKS, _found_clicks(audio), strict=True):
        assert got == pytest.approx(want, abs=0.002), f"click at {want} s found at {got} s"


def test_resampling_keeps_pitch_and_length(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "tone.mp4", n_frames=50, audio="tone")  # 440 Hz for 2 s
    native = load_audio(path)
    low = load_audio(path, rate=8000)
    assert native.rate == 48000 and low.rate == 8000
    assert low.duration == pytest.approx(native.duration, abs=0.002)
    spectrum = np.abs(np.fft.rfft(low.samples[2000:10000]))
    peak_hz = np.argmax(spectrum) * low.rate / 8000  # 8,000 samples: 1 Hz per bin
    assert peak_hz == pytest.approx(440, abs=2)


def test_mono_false_keeps_channels_and_mono_mixes(shared_data: Path) -> None:
    path = shared_data / "clips" / "vgaf_val_1_1_negative.mp4"  # stereo AAC, 44.1 kHz
    stereo = load_audio(path, mono=False)
    mono = load_audio(path, rate=16000)
    assert stereo.samples.shape[0] == 2 and stereo.channels == 2 and stereo.rate == 44100
    assert mono.samples.ndim == 1 and mono.rate == 16000
    assert stereo.duration == pytest.approx(5.0, abs=0.05)
    assert mono.duration == pytest.approx(stereo.duration, abs=0.002)
    assert np.abs(mono.samples).max() > 0.01  # real sound, not silence


def test_speech_clip_and_audio_only_files(tmp_path: Path) -> None:
    speech = load_audio(make_clip(tmp_path / "s.mov", n_frames=50, audio="speech"), rate=16000)
    assert speech.duration == pytest.approx(2.0, abs=0.05)
    assert np.sqrt(np.mean(speech.samples**2)) > 0.01
    wav = load_audio(make_audio_only(tmp_path / "a.wav", seconds=1.5, rate=22050))
    assert wav.rate == 22050 and wav.duration == pytest.approx(1.5, abs=1e-6) and wav.start_time == 0.0


def test_clip_without_audio_raises_no_audio_error(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "silent.mp4", n_frames=10)
    with pytest.raises(NoAudioError, match="no audio track"):
        load_audio(path)


def test_invalid_rate_is_refused(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "t.mp4", n_frames=10, audio="tone")
    with pytest.raises(ValueError):
        load_audio(path, rate=0)
