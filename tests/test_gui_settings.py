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
