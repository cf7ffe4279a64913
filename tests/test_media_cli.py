"""`affectscope probe` and `affectscope frame` through the real entry point (and once as a process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from affectscope.app.cli.main import main
from affectscope.media import VideoReader
from tests.clipfactory import make_clip, make_corrupt_files, read_index
from tests.conftest import REPO


@pytest.fixture(scope="module")
def vfr_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("cli") / "vfr.mkv", n_frames=40, vfr=True, audio="tone")


def test_probe_json_has_clip_info_and_frame_times(vfr_clip: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["probe", str(vfr_clip), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_frames"] == 40 and doc["vfr"] is True and doc["has_audio"] is True
    assert doc["width"] == 320 and doc["audio_codec"] == "aac"
    times = doc["frame_times"]
    assert times["first"] == 0.0 and times["constant_rate"] is False
    assert times["min_interval"] == pytest.approx(0.02, abs=1e-3)
    assert times["max_interval"] == pytest.approx(0.07, abs=1e-3)
    assert times["last"] == pytest.approx(doc["duration"] - doc["frame_interval_mean"])


def test_probe_text_is_for_people(vfr_clip: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["probe", str(vfr_clip)]) == 0
    out = capsys.readouterr().out
    assert "40 frames" in out and "variable rate" in out and "48000 Hz" in out


def test_frame_by_index_and_by_time_writes_the_exact_frame(
    vfr_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "f.png"
    assert main(["frame", str(vfr_clip), "--index", "23", "-o", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["index"] == 23 and (doc["width"], doc["height"]) == (320, 240)
    assert read_index(cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)) == 23
    with VideoReader(vfr_clip) as reader:
        assert doc["time"] == pytest.approx(reader.times[23])
        # Halfway between frames 10 and 11, frame 10 is on screen.
        mid = float(reader.times[10] + reader.times[11]) / 2
    assert main(["frame", str(vfr_clip), "--at", str(mid), "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith("frame 10 at ")
    assert read_index(cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)) == 10


def test_frame_refuses_bad_requests(vfr_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "f.png"
    assert main(["frame", str(vfr_clip), "--index", "40", "-o", str(out)]) == 2
    assert "frames 0..39" in capsys.readouterr().err
    assert main(["frame", str(vfr_clip), "--at", "99", "-o", str(out)]) == 2
    assert "outside" in capsys.readouterr().err
    assert main(["frame", str(vfr_clip), "--index", "1", "-o", str(tmp_path / "f.txt")]) == 2
    assert ".png" in capsys.readouterr().err
    bad = make_corrupt_files(tmp_path / "bad")
    assert main(["frame", str(bad["not_video"]), "--index", "0", "-o", str(out)]) == 2
    assert "not a video" in capsys.readouterr().err
    assert main(["probe", str(bad["empty"]), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "empty" in captured.err
    assert not out.exists()


def test_commands_run_as_a_process(vfr_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.png"
    cmd = [
        sys.executable,
        "-m",
        "affectscope.app.cli.main",
        "frame",
        str(vfr_clip),
        "--index",
        "5",
        "-o",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("frame 5 at ")
    assert read_index(cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)) == 5
    proc = subprocess.run(
        [sys.executable, "-m", "affectscope.app.cli.main", "probe", str(tmp_path / "missing.mp4")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2 and "no such file" in proc.stderr and "Traceback" not in proc.stderr
