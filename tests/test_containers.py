"""Any container FFmpeg decodes is a clip (issue 20, item 5): .flv, .mpg and .ts clips made here are
listed, played frame-exactly and predicted; what a file is comes from its content, not its extension."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
import torch

from affectscope.app.cli.main import main
from affectscope.app.services.project import Project
from affectscope.errors import MediaError
from affectscope.media import VideoReader, media_kind, probe, scan_folder
from affectscope.models.inputs import kind_of
from tests.clipfactory import make_audio_only, make_clip, read_index

# (file, encoder): CREMA-D's .flv, an MPEG-2 program stream, an H.264 transport stream
CLIPS = [("a.flv", "libx264"), ("b.mpg", "mpeg2video"), ("c.ts", "libx264")]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("containers")
    for name, codec in CLIPS:
        make_clip(folder / name, n_frames=120, gop=12, codec=codec, audio="speech", audio_rate=48000)
    (folder / "notes.txt").write_text("not a clip\n")
    return folder


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from affectscope.models.registry import get
    from affectscope.models.weights import save_state

    torch.manual_seed(5)
    path = tmp_path_factory.mktemp("w") / "random.safetensors"
    save_state(get("lightweight-streaming").build(), path)
    return path


def test_listed_by_folder_scans_and_projects(clip_dir: Path, tmp_path: Path) -> None:
    assert [p.name for p in scan_folder(clip_dir)] == ["a.flv", "b.mpg", "c.ts"]
    project = Project.init(tmp_path / "proj")
    scan = project.import_clips(clip_dir)
    assert sorted(Path(p).name for p in scan.added) == ["a.flv", "b.mpg", "c.ts"] and not scan.failed
    for name, _ in CLIPS:
        clip = project.clip(name)
        assert (clip.n_frames, clip.has_audio) == (120, True)
        assert clip.fps == pytest.approx(25, abs=0.1)


@pytest.mark.parametrize("name", [n for n, _ in CLIPS])
def test_played_frame_exactly_in_any_order(clip_dir: Path, name: str) -> None:
    """MPEG-PS/TS seek by byte position and land a keyframe late (frame 0 was 'undecodable', frame
    218 of a 300-frame .mpg showed 217): random jumps and steps back must still give frame i."""
    with VideoReader(clip_dir / name, cache_mb=1) as reader:  # a tiny cache: every jump seeks
        n = len(reader)
        order = random.Random(3).sample(range(n), n)
        assert [read_index(reader.frame(i)) for i in order] == order
        back = list(range(n - 1, n - 30, -1))
        assert [read_index(reader.frame(i)) for i in back] == back
        assert [read_index(reader.frame(i)) for i in range(n)] == list(range(n))
        assert reader.seeks > 10


def test_kind_comes_from_content_not_extension(clip_dir: Path, tmp_path: Path) -> None:
    renamed = shutil.copy(clip_dir / "a.flv", tmp_path / "a.clip")
    assert media_kind(renamed) == kind_of(renamed) == "video"
    assert kind_of(clip_dir / "b.mpg") == "video"
    sound = shutil.copy(make_audio_only(tmp_path / "voice.m4a"), tmp_path / "voice.bin")
    assert media_kind(sound) == "audio"
    with pytest.raises(MediaError, match="notes.txt"):
        media_kind(clip_dir / "notes.txt")


def test_predicted_by_the_cli(
    clip_dir: Path, random_weights: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flv = clip_dir / "a.flv"
    args = ["predict", str(flv), "--weights", str(random_weights), "--json"]
    assert main(args) == 0, capsys.readouterr().err
    doc = json.loads(capsys.readouterr().out)
    assert doc["clip"].endswith("a.flv") and len(doc["times"]) >= 3
    assert doc["times"][-1] <= probe(flv).duration
    assert set(doc["per_modality"]) >= {"face", "audio"}
    assert doc["whole_clip"]["label"] in doc["labels"]


def test_window_lists_and_plays_them(clip_dir: Path, qtbot) -> None:  # noqa: ANN001
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.settings import Settings

    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.ready, timeout=30000):
            window.open_path(clip_dir / "c.ts")
        assert window.player.view.frame_index == 0 and read_index(window.player.view.frame) == 0
        with qtbot.waitSignal(window.ready, timeout=30000):
            window.open_path(clip_dir)  # the folder: every container listed, the first one loaded
        assert window.browser.model.rowCount() == 3
        for target in (37, 5, 119):
            with qtbot.waitSignal(window.player.frame_shown, timeout=10000):
                window.player.step(target - window.player.current_index)
            assert window.player.view.frame_index == target
            assert read_index(window.player.view.frame) == target
    finally:
        window.workers.cancel_all()
        window.shutdown()
