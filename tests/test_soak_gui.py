"""The window's soak test, short version: a few hundred random actions (fixed seed) on the real window
with a labelling project over small made clips — no exception escapes a slot, Qt warns about no
thread or QObject misuse, every heavy job ends within its bound, and memory after warm-up stays bounded.
The full 20,000-action run is ``affectscope soak --actions 20000 --out DIR`` (docs/cli.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.qt.soak import WEIGHTS, SoakDriver, rss_bytes
from affectscope.app.services.settings import Settings
from tests.clipfactory import make_clip

N_ACTIONS = 300
RSS_GROWTH_MB = 120  # after warm-up: a leak of a frame or a model per action would blow far past this


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_clip(tmp_path / "a.mp4", n_frames=40, fps=20, audio="speech")
    make_clip(tmp_path / "b.mkv", n_frames=25, fps=25, size=(256, 192))
    make_clip(tmp_path / "c.mp4", n_frames=30, fps=15, vfr=True, audio="tone")
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(200))  # fails to open
    return tmp_path


@pytest.fixture
def window(qtbot, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "soak")
    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    w.perception.rate_hz = 2.0  # heavy actions stay short on CI's two cores
    yield w
    w.workers.cancel_all()
    w.shutdown()


@pytest.mark.slow  # 45-100 s on 2 shared cores: warm-up analyses and model runs on 3 clips, 300 actions
def test_random_actions_leave_the_window_healthy(qtbot, window: MainWindow, folder: Path) -> None:
    clips = sorted(folder.glob("*.mp4")) + sorted(folder.glob("*.mkv"))
    driver = SoakDriver(window, clips, seed=13, project=folder, heavy_timeout_ms=45000)
    # Warm-up: every clip analysed and run through the model once loads what stays loaded.
    driver.warm_up()
    assert not driver.report.exceptions, driver.report.exceptions[0]
    baseline = rss_bytes()

    report = driver.run(N_ACTIONS, sample_every=20)
    assert report.actions == N_ACTIONS
    assert not report.exceptions, report.exceptions[0]
    assert report.thread_warnings == [], report.thread_warnings
    assert report.timeouts == []
    # The draw covered every kind of action, the heavy ones included but rarely.
    assert set(report.counts) == set(WEIGHTS)
    assert sum(report.counts[n] for n in ("analyse", "model")) <= 0.05 * N_ACTIONS
    # Real work happened: the project the window created holds the labels the keys committed.
    assert window.session.project is not None and window.session.project.labels()
    growth = (report.rss[-1][2] - baseline) / 2**20
    assert growth < RSS_GROWTH_MB, f"RSS grew {growth:.0f} MiB over {N_ACTIONS} actions"


@pytest.mark.slow  # a window in its own process: ~30 s on 2 shared cores
def test_soak_command_writes_the_curve_and_its_json(folder: Path, tmp_path: Path) -> None:
    """``affectscope soak`` as other tools call it: the JSON contract of docs/cli.md, an RSS row per
    ``--sample-every`` actions in rss.csv, the plot, and exit code 0 on a healthy run."""
    import csv
    import json
    import os
    import subprocess
    import sys

    out = tmp_path / "out"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "AFFECTSCOPE_ANNOTATOR": "soak"}
    cmd = [sys.executable, "-m", "affectscope", "soak", str(folder), "--out", str(out)]
    args = ["--actions", "30", "--seed", "3", "--sample-every", "5", "--rate", "2", "--json"]
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    keys = {"actions", "seconds", "rss_start_mb", "rss_end_mb", "rss_max_mb", "exceptions"}
    keys |= {"thread_warnings", "qt_messages", "timeouts", "counts", "seed", "csv", "png", "messages"}
    assert keys <= set(doc) and doc["actions"] == 30 and doc["seed"] == 3
    assert doc["exceptions"] == doc["thread_warnings"] == doc["timeouts"] == 0
    assert sum(doc["counts"].values()) == 30
    with open(doc["csv"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["action"]) for r in rows] == [0, 5, 10, 15, 20, 25, 30]
    assert all(float(r["rss_mb"]) > 50 for r in rows)
    assert Path(doc["png"]).stat().st_size > 1000
