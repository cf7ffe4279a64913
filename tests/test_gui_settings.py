"""Settings: one typed, versioned object, never written on import or load, redirected in tests."""

from __future__ import annotations

import json
import subprocess
import sys

from affectscope.app.services import settings as settings_mod
from affectscope.app.services.settings import SCHEMA_VERSION, Settings, load_settings, save_settings
from tests.conftest import REPO


def test_round_trip_in_the_redirected_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AFFECTSCOPE_CONFIG_DIR", str(tmp_path / "cfg"))
    assert load_settings() == Settings()
    assert not (tmp_path / "cfg").exists(), "loading must not write"
    s = Settings(playback_rate=2.0)
    for i in range(15):
        s.add_recent(tmp_path / f"clip{i}.mp4")
    path = save_settings(s)
    assert path.parent == tmp_path / "cfg"
    again = load_settings()
    assert again == s and len(again.recent_paths) == settings_mod.MAX_RECENT
    assert again.recent_paths[0].endswith("clip14.mp4")


def test_newer_or_broken_files_fall_back_to_defaults_and_are_kept(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AFFECTSCOPE_CONFIG_DIR", str(tmp_path))
    f = tmp_path / settings_mod.FILE_NAME
    f.write_text(json.dumps({"version": SCHEMA_VERSION + 1, "playback_rate": 4.0}))
    assert load_settings() == Settings()
    assert json.loads(f.read_text())["version"] == SCHEMA_VERSION + 1
    f.write_text("{not json")
    assert load_settings() == Settings()
    f.write_text(json.dumps({"version": 1, "playback_rate": 0.5, "unknown_key": 1}))
    assert load_settings().playback_rate == 0.5


def test_importing_writes_nothing(tmp_path) -> None:
    code = "import affectscope.app.services.settings, affectscope.app.qt.main_window"
    env = {"AFFECTSCOPE_CONFIG_DIR": str(tmp_path / "cfg"), "QT_QPA_PLATFORM": "offscreen", "PATH": ""}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env, timeout=120)
    assert not (tmp_path / "cfg").exists()


def test_two_instances_sharing_the_file_keep_each_others_changes(tmp_path, monkeypatch) -> None:
    """Issue 22 item 6: another instance's save used to overwrite Open recent and the annotators."""
    monkeypatch.setenv("AFFECTSCOPE_CONFIG_DIR", str(tmp_path / "cfg"))
    seed = Settings(annotators={"/p/old": "ann"})
    seed.add_recent(tmp_path / "old")
    save_settings(seed)
    first, second = load_settings(), load_settings()
    first.add_recent(tmp_path / "mine")
    first.annotators["/p/mine"] = "ann"
    first.playback_rate = 2.0
    save_settings(first)
    second.add_recent(tmp_path / "theirs")
    second.annotators["/p/theirs"] = "bo"
    save_settings(second)  # changed nothing of first's: all of it survives
    again = load_settings()
    names = [p.rsplit("/", 1)[-1] for p in again.recent_paths]
    assert names == ["theirs", "mine", "old"]
    assert again.annotators == {"/p/old": "ann", "/p/mine": "ann", "/p/theirs": "bo"}
    assert again.playback_rate == 2.0
    assert second.recent_paths == again.recent_paths  # the saving instance sees the merged list too
    assert [p.name for p in (tmp_path / "cfg").iterdir() if p.suffix == ".tmp"] == []


def test_a_data_folder_alone_isolates_the_settings(tmp_path, monkeypatch) -> None:
    """Issue 22 item 6: with only $AFFECTSCOPE_DATA_DIR set, settings went to the shared user folder."""
    monkeypatch.delenv("AFFECTSCOPE_CONFIG_DIR")
    monkeypatch.setenv("AFFECTSCOPE_DATA_DIR", str(tmp_path / "data"))
    path = save_settings(Settings(playback_rate=0.5))
    assert path == tmp_path / "data" / "config" / settings_mod.FILE_NAME
    monkeypatch.setenv("AFFECTSCOPE_CONFIG_DIR", str(tmp_path / "cfg"))  # the explicit folder wins
    assert settings_mod.settings_path() == tmp_path / "cfg" / settings_mod.FILE_NAME


def test_open_recent_lists_only_readable_paths(tmp_path) -> None:
    (tmp_path / "here").mkdir()
    gone = str(tmp_path / "gone")
    assert settings_mod.readable_recent([str(tmp_path / "here"), gone]) == [str(tmp_path / "here")]
