"""``affectscope screenshot`` renders the real window to a PNG; bad clips exit non-zero with a message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from affectscope.app.cli.main import build_parser
from tests.clipfactory import make_clip, make_corrupt_files
from tests.conftest import REPO


def _cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")} | (env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "affectscope.app.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=180,
    )


def test_parser_knows_open_and_screenshot() -> None:
    parser = build_parser()
    args = parser.parse_args(["screenshot", "x.mp4", "-o", "w.png", "--at", "1.5", "--size", "800x600"])
    assert (args.at, args.size, args.output) == (1.5, (800, 600), "w.png")
    assert parser.parse_args(["open", "folder"]).path == "folder"
    with pytest.raises(SystemExit):
        parser.parse_args(["screenshot", "-o", "w.png", "--size", "huge"])


def test_screenshot_shows_the_frame_at_the_time_asked(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", n_frames=50, fps=25, audio="speech")
    out = tmp_path / "shot.png"
    proc = _cli("screenshot", str(clip), "-o", str(out), "--at", "1.0", "--size", "1200x800", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    facts = json.loads(proc.stdout)
    assert facts["frame_index"] == 25 and facts["time"] == 1.0 and facts["error"] is None
    assert facts["lanes"][:2] == ["Waveform", "Spectrogram"]
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1200, 800)
    # Not a blank window: the frame, the waveform and the spectrogram give many distinct colours.
    ptr = image.convertToFormat(QImage.Format.Format_RGB32).constBits()
    pixels = np.frombuffer(ptr, np.uint32, count=1200 * 800)
    assert len(np.unique(pixels)) > 500


def test_screenshot_of_a_bad_clip_exits_non_zero_with_the_reason(tmp_path: Path) -> None:
    bad = make_corrupt_files(tmp_path)["not_video"]
    out = tmp_path / "bad.png"
    proc = _cli("screenshot", str(bad), "-o", str(out))
    assert proc.returncode == 2
    assert "affectscope: error:" in proc.stderr and bad.name in proc.stderr
    assert "Traceback" not in proc.stderr
    assert out.is_file()  # the window, with the message in it, is still rendered


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    proc = _cli("open", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
