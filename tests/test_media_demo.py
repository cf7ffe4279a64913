"""The embedded demo project: real clips with audio, built fast and once, with a face dlib finds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from affectscope.app.services.demo import build_demo_project, demo_clips, demo_project_dir
from affectscope.media import VideoReader, load_audio, probe


def _rms(samples: np.ndarray, rate: int, t0: float, t1: float) -> float:
    return float(np.sqrt(np.mean(samples[int(t0 * rate) : int(t1 * rate)] ** 2)))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_project(tmp_path_factory.mktemp("demo") / "project")


def test_demo_clips_are_real_5s_clips_with_speech(demo: Path) -> None:
    clips = demo_clips()
    assert len(clips) == 4 and len({c.emotion for c in clips}) == 4
    manifest = json.loads((demo / "demo.json").read_text())
    assert [c["file"] for c in manifest["clips"]] == [c.file for c in clips]
    for clip in clips:
        info = probe(demo / clip.file)
        assert info.n_frames == 125 and info.fps == pytest.approx(25.0) and not info.vfr
        assert (info.width, info.height) == (480, 360) and info.has_audio
        audio = load_audio(demo / clip.file, rate=16000)
        # Silence before the utterance, speech during it.
        assert _rms(audio.samples, 16000, 0.0, 0.9) < 1e-3
        assert _rms(audio.samples, 16000, clip.speech_start, clip.speech_end) > 0.01


def test_dlib_finds_the_face_throughout(demo: Path) -> None:
    import dlib

    detector = dlib.get_frontal_face_detector()
    for clip in demo_clips():
        with VideoReader(demo / clip.file) as reader:
            for i in (0, 31, 62, 93, 124):
                faces = detector(np.ascontiguousarray(reader.frame(i)), 0)
                assert len(faces) == 1, (clip.file, i)
                assert faces[0].width() >= 70  # large enough for the 68-point landmark model


def test_frames_move_over_time(demo: Path) -> None:
    with VideoReader(demo / demo_clips()[0].file) as reader:
        first, last = reader.frame(0).astype(int), reader.frame(124).astype(int)
    assert np.abs(first - last).mean() > 10


def test_build_is_idempotent_and_repairs_missing_clips(demo: Path) -> None:
    clip = demo / demo_clips()[1].file
    before = clip.stat().st_mtime_ns
    assert build_demo_project(demo) == demo
    assert clip.stat().st_mtime_ns == before  # nothing rewritten
    clip.unlink()
    build_demo_project(demo)
    assert clip.is_file() and probe(clip).n_frames == 125
    assert not list(demo.rglob("*.partial*"))


def test_demo_project_dir_lives_in_the_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AFFECTSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    folder = demo_project_dir()  # build time is measured by bench/bench_media.py, not asserted here
    assert folder.parent == tmp_path / "cache"
    assert all((folder / c.file).is_file() for c in demo_clips())
