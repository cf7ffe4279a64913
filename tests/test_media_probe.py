"""probe() fields, content_hash, scan_folder, and clear MediaErrors for bad inputs."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from affectscope.errors import MediaError
from affectscope.media import NoAudioError, VideoReader, content_hash, load_audio, probe, scan_folder
from tests.clipfactory import make_audio_only, make_clip, make_corrupt_files, read_index


def test_constant_rate_clip_with_audio(tmp_path: Path) -> None:
    info = probe(make_clip(tmp_path / "c.mp4", n_frames=50, fps=25.0, size=(320, 240), audio="tone"))
    assert info.n_frames == 50
    assert info.fps == pytest.approx(25.0)
    assert info.duration == pytest.approx(2.0)
    assert not info.vfr
    assert info.frame_interval_min == pytest.approx(0.04) and info.frame_interval_max == pytest.approx(0.04)
    assert (info.width, info.height, info.codec) == (320, 240, "h264")
    assert info.start_time == pytest.approx(0.0, abs=1e-6)
    assert info.has_audio and info.audio_rate == 48000 and info.audio_channels == 1
    assert info.audio_codec == "aac"
    assert json.loads(json.dumps(info.to_json())) == info.to_json()
    assert info.to_json()["path"] == str(tmp_path / "c.mp4")


def test_vfr_clip_is_flagged_with_its_real_intervals(tmp_path: Path) -> None:
    info = probe(make_clip(tmp_path / "v.mkv", n_frames=40, fps=25.0, vfr=True))
    assert info.vfr
    assert info.frame_interval_min == pytest.approx(0.02, abs=1e-3)  # 0.5 x 40 ms
    assert info.frame_interval_max == pytest.approx(0.07, abs=1e-3)  # 1.75 x 40 ms
    assert not info.has_audio and info.audio_rate is None and info.audio_codec is None


def test_rounded_clock_at_29_97_fps_is_not_vfr(tmp_path: Path) -> None:
    # Matroska's 1 ms clock stores 33.37 ms intervals as 33 and 34 ms: rounding, not a variable rate.
    info = probe(make_clip(tmp_path / "ntsc.mkv", n_frames=40, fps=30000 / 1001, bframes=False))
    assert info.frame_interval_min != info.frame_interval_max
    assert not info.vfr
    assert info.fps == pytest.approx(29.97, abs=0.05)


def test_real_clips_probe(shared_data: Path) -> None:
    negative = probe(shared_data / "clips" / "vgaf_val_1_1_negative.mp4")
    assert (negative.width, negative.height) == (600, 360)
    assert negative.duration == pytest.approx(5.0, abs=0.1) and negative.n_frames == 150
    assert negative.has_audio and negative.audio_channels == 2
    woman = probe(shared_data / "clips" / "woman2_unlabelled.mp4")
    assert woman.n_frames == 464 and woman.fps == pytest.approx(29.97, abs=0.01) and not woman.vfr


def test_bad_inputs_raise_readable_media_errors(tmp_path: Path) -> None:
    bad = make_corrupt_files(tmp_path)
    expected = {"truncated": "damaged or truncated", "not_video": "not a video", "empty": "empty"}
    for kind, words in expected.items():
        for open_it in (probe, VideoReader, load_audio):
            with pytest.raises(MediaError, match=words) as err:
                open_it(bad[kind])
            assert str(bad[kind]) in str(err.value)
    with pytest.raises(MediaError, match="no such file"):
        probe(tmp_path / "missing.mp4")
    with pytest.raises(MediaError, match="folder"):
        VideoReader(tmp_path)


def test_truncated_streamable_file_yields_the_frames_before_the_cut(tmp_path: Path) -> None:
    path = make_corrupt_files(tmp_path)["truncated_mkv"]
    info = probe(path)
    assert 5 < info.n_frames < 30
    with VideoReader(path) as reader:
        assert [read_index(reader.frame(i)) for i in range(len(reader))] == list(range(len(reader)))


def test_audio_only_file_is_refused_by_probe_but_loads_as_audio(tmp_path: Path) -> None:
    path = make_audio_only(tmp_path / "voice.m4a")
    with pytest.raises(MediaError, match="no video track.*audio \\(aac\\)"):
        probe(path)
    assert load_audio(path).duration == pytest.approx(1.0, abs=0.03)
    silent = make_clip(tmp_path / "silent.mp4", n_frames=5)
    assert not probe(silent).has_audio
    with pytest.raises(NoAudioError):
        load_audio(silent)


def test_content_hash_is_blake2b_of_the_bytes_and_survives_renames(tmp_path: Path) -> None:
    a = make_clip(tmp_path / "a.mp4", n_frames=10)
    assert content_hash(a) == hashlib.blake2b(a.read_bytes()).hexdigest()
    b = tmp_path / "sub" / "renamed.mov"
    b.parent.mkdir()
    shutil.copy(a, b)
    assert content_hash(b) == content_hash(a)
    c = make_clip(tmp_path / "c.mp4", n_frames=11)
    assert content_hash(c) != content_hash(a)
    with pytest.raises(MediaError):
        content_hash(tmp_path / "nope.mp4")


def test_scan_folder_finds_videos_recursively_sorted(tmp_path: Path) -> None:
    for rel in ["b.mp4", "a/x.MKV", "a/y.webm", "notes.txt", "a/.hidden.mp4", ".cache/z.mp4", "c.avi"]:
        f = tmp_path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"")
    found = [p.relative_to(tmp_path).as_posix() for p in scan_folder(tmp_path)]
    assert found == ["a/x.MKV", "a/y.webm", "b.mp4", "c.avi"]
    with pytest.raises(MediaError):
        scan_folder(tmp_path / "b.mp4")
