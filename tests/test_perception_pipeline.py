"""``extract_clip`` end to end on made and real clips: tracks, reasons for bad input, cache, cancel."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from affectscope.errors import MediaError, UserFacingError
from affectscope.jobs import Cancelled, Job
from affectscope.models.extractors import cache as cache_mod
from affectscope.models.extractors.pipeline import extract_clip, select_frames
from tests.clipfactory import make_clip


def _plain_clip(path: Path, size: tuple[int, int], level: int, n: int = 10, fps: int = 10) -> Path:
    """A clip of uniform grey frames at ``level`` (0 = black), no audio."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(
                np.full((size[1], size[0], 3), level, np.uint8), format="rgb24"
            )
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


@pytest.fixture(scope="module")
def speech_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "speech.mp4", n_frames=50, fps=25, audio="speech")


def test_select_frames_follows_timestamps() -> None:
    times = np.arange(90) / 30.0
    idx = select_frames(times, 10.0)
    np.testing.assert_array_equal(idx, np.arange(0, 90, 3))
    assert len(select_frames(np.arange(20) / 5.0, 10.0)) == 20  # slower than the rate: every frame
    vfr = np.array([0, 0.01, 0.02, 0.15, 0.16, 0.31, 0.5])
    np.testing.assert_array_equal(select_frames(vfr, 10.0), [0, 3, 5, 6])


def test_made_clip_no_face_but_speech(speech_clip: Path) -> None:
    s = extract_clip(speech_clip, rate_hz=5, use_cache=False)
    assert len(s.frame_times) == 10 and s.width == 320
    assert s.track("expression_mean").reason == "no face found" and len(s.track("expression_mean")) == 0
    assert s.track("face_count").values.tolist() == [0.0] * 10
    assert s.track("face_features22").values.shape == (10, 22)
    assert len(s.track("vad")) > 50 and s.track("vad").values.max() > 0.5
    assert len(s.track("laughter")) > 3
    audio = s.track("audio")
    assert audio.values.dtype == np.float32 and abs(len(audio) / 16000 - 2.0) < 0.1
    assert s.faces == [[]] * 10 and len(s.people) == 10


def test_cache_hit_is_fast_and_identical(speech_clip: Path, tmp_path: Path) -> None:
    first = extract_clip(speech_clip, modalities=("faces", "vad", "audio"), rate_hz=5, project_dir=tmp_path)
    assert not first.from_cache and list((tmp_path / "cache" / "extract").iterdir())
    t0 = time.perf_counter()
    again = extract_clip(speech_clip, modalities=("faces", "vad", "audio"), rate_hz=5, project_dir=tmp_path)
    assert time.perf_counter() - t0 < 1.0
    assert again.from_cache
    assert again.tracks.keys() == first.tracks.keys()
    for name, tr in first.tracks.items():
        np.testing.assert_array_equal(again.tracks[name].values, tr.values)
        np.testing.assert_allclose(again.tracks[name].times, tr.times, atol=1e-9)
        assert again.tracks[name].reason == tr.reason
    # other settings are another entry
    other = extract_clip(speech_clip, modalities=("faces", "vad", "audio"), rate_hz=2, project_dir=tmp_path)
    assert not other.from_cache and len(other.frame_times) == 4


def test_cache_round_trip_of_faces_and_people(shared_data: Path, tmp_path: Path) -> None:
    s = extract_clip(
        shared_data / "clips" / "woman2_unlabelled.mp4",
        modalities=("faces", "pose"),
        rate_hz=0.5,
        use_cache=False,
    )
    key = "k"
    cache_mod.save(s, tmp_path, key)
    back = cache_mod.load(tmp_path, key)
    assert back is not None and back.from_cache
    assert len(back.faces) == len(s.faces) and sum(map(len, s.faces)) >= len(s.faces) - 1
    for fa, fb in zip(s.faces, back.faces, strict=True):
        for a, b in zip(fa, fb, strict=True):
            assert a.track_id == b.track_id and a.box == b.box
            np.testing.assert_array_equal(a.landmarks, b.landmarks)
            np.testing.assert_allclose(a.expression, b.expression)
    assert [len(p) for p in back.people] == [len(p) for p in s.people]
    (tmp_path / key / "tracks.npz").write_bytes(b"garbage")
    assert cache_mod.load(tmp_path, key) is None  # damaged entry: recomputed, not a crash


@pytest.mark.slow
def test_real_talking_face(shared_data: Path) -> None:
    s = extract_clip(shared_data / "clips" / "woman2_unlabelled.mp4", rate_hz=1, use_cache=False)
    n = len(s.frame_times)
    assert 14 <= n <= 17
    assert s.track("face_count").values.mean() > 0.9
    assert {o.track_id for f in s.faces for o in f} == {0}  # one person, one track
    mean = s.track("expression_mean").values
    assert mean.shape == (n, 7) and np.allclose(
        np.nansum(mean, 1)[s.track("face_count").values > 0], 1, atol=1e-4
    )
    mouth = s.track("mouth_open").values
    assert np.nanmax(mouth) > 0.5  # she talks: the mouth opens
    assert s.track("pose").values.shape == (n, 33, 4) and s.track("pose_confidence").values.max() > 0.2
    assert s.track("vad").reason == "clip has no audio track" and len(s.track("laughter")) == 0
    assert s.track("face_crop96").values.shape[1:] == (96, 96, 3)
    assert s.track("mouth_crop28").values.shape[1:] == (28, 28, 3)


@pytest.mark.slow
def test_real_group_clip_with_audio(shared_data: Path) -> None:
    s = extract_clip(shared_data / "clips" / "vgaf_val_1_1_negative.mp4", rate_hz=2, use_cache=False)
    assert s.track("vad").reason == "" and len(s.track("vad")) > 100
    assert s.track("audio").times[0] == pytest.approx(0.0, abs=0.1)
    assert s.track("people_count").values.max() >= 1
    assert len(s.track("laughter")) > 10


def test_dark_and_tiny_videos_give_reasons_not_errors(tmp_path: Path) -> None:
    dark = extract_clip(_plain_clip(tmp_path / "dark.mp4", (160, 120), 3), rate_hz=5, use_cache=False)
    assert dark.track("expression_mean").reason == "video too dark to find faces or bodies"
    assert dark.track("pose").reason == "video too dark to find faces or bodies"
    assert dark.track("vad").reason == "clip has no audio track"
    tiny = extract_clip(_plain_clip(tmp_path / "tiny.mp4", (32, 24), 128), rate_hz=5, use_cache=False)
    assert tiny.track("face_count").reason.startswith("video too small (32×24)")


def test_unreadable_file_and_bad_settings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video\n" * 50)
    with pytest.raises(MediaError):
        extract_clip(bad)
    with pytest.raises(UserFacingError):
        extract_clip(bad, modalities=("smell",))


def test_cancel_stops_within_one_frame(speech_clip: Path) -> None:
    seen: list[str] = []

    def on_progress(done: int, total: int, message: str) -> None:
        seen.append(message)
        if message.startswith("frame 2/"):
            job.cancel()

    job = Job(on_progress=on_progress)
    with pytest.raises(Cancelled):
        extract_clip(speech_clip, rate_hz=10, job=job, use_cache=False)
    frames = [m for m in seen if m.startswith("frame")]
    assert frames == ["frame 1/20", "frame 2/20"]
