"""``affectscope batch``: whole projects/folders, resumable, past bad files, and on a real Dask cluster
(the engine's own ``dask scheduler`` and ``dask worker`` commands) that loses a worker mid-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from affectscope.app.cli.main import main
from affectscope.app.services.project import Project
from affectscope.db.schema import ClipPrediction, TimePrediction
from affectscope.db.uow import unit_of_work
from tests.clipfactory import make_clip


def _clips(folder: Path, n: int, frames: int = 30) -> list[Path]:
    # Different lengths: different content hashes (identical files would share one cache entry).
    return [make_clip(folder / f"c{i}.mp4", n_frames=frames + i, fps=15, audio="speech") for i in range(n)]


def _batch(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    capsys.readouterr()
    assert main(["batch", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_folder_extract_goes_past_bad_files_and_resumes(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "corpus"
    _clips(folder, 3)
    (folder / "renamed.mp4").write_text("a text file someone renamed\n" * 20)
    (folder / "empty.mov").write_bytes(b"")
    first = _batch(capsys, "extract", "--folder", str(folder), "--modalities", "audio")
    assert (first["clips"], first["done"], first["failed"], first["skipped"]) == (5, 3, 2, 0)
    errors = {Path(f["clip"]).name: f["error"] for f in first["failures"]}
    assert "not a video or audio file" in errors["renamed.mp4"] and "empty" in errors["empty.mov"]
    again = _batch(capsys, "extract", "--folder", str(folder), "--modalities", "audio")
    assert (again["done"], again["skipped"], again["failed"]) == (0, 3, 2)  # done clips skipped
    redo = _batch(capsys, "extract", "--folder", str(folder), "--modalities", "audio", "--redo")
    assert redo["done"] == 3 and redo["skipped"] == 0


def test_project_predict_stores_once_resumes_and_evaluates(tmp_path: Path, capsys) -> None:
    clips = _clips(tmp_path / "clips", 2)
    Project.init(tmp_path / "p").close()
    with Project.open(tmp_path / "p") as project:
        project.import_clips(tmp_path / "clips")
    for clip, label in zip(clips, ("positive", "negative"), strict=True):
        assert main(["label", str(clip), label, "--project", str(tmp_path / "p")]) == 0
    first = _batch(capsys, "predict", "--project", str(tmp_path / "p"), "--rate", "2")
    assert first["done"] == 2 and first["failed"] == 0 and first["model"] == "lightweight-streaming"
    assert list(first["model_loads"].values()) == [1]  # one process, one load for two clips
    with Project.open(tmp_path / "p") as project, unit_of_work(project.db) as s:
        assert s.scalar(select(func.count()).select_from(ClipPrediction)) == 2
    again = _batch(capsys, "predict", "--project", str(tmp_path / "p"), "--rate", "2")
    assert again["done"] == 0 and again["skipped"] == 2 and len(again["results"]) == 2
    report = _batch(capsys, "evaluate", "--project", str(tmp_path / "p"), "--rate", "2")
    assert report["skipped"] == 2 and report["metrics"]["n"] == 2
    truth = [1 if r["label"] == "positive" else 0 for r in sorted(report["results"], key=lambda r: r["clip"])]
    assert report["metrics"]["accuracy"] == pytest.approx((truth[0] + (1 - truth[1])) / 2)


def test_unknown_model_and_empty_folder_are_clear_errors(tmp_path: Path, capsys) -> None:
    (tmp_path / "none").mkdir()
    assert main(["batch", "extract", "--folder", str(tmp_path / "none")]) == 2
    assert "no clips" in capsys.readouterr().err
    make_clip(tmp_path / "one" / "a.mp4", n_frames=5)
    assert main(["batch", "predict", "--folder", str(tmp_path / "one"), "--model", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def _wait_for(path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.2)


@pytest.mark.timeout(900)
def test_dask_cluster_survives_a_killed_worker_and_does_every_clip_once(tmp_path: Path) -> None:
    n = 5
    _clips(tmp_path / "clips", n, frames=30)
    Project.init(tmp_path / "p").close()
    with Project.open(tmp_path / "p") as project:
        project.import_clips(tmp_path / "clips")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    sched_file = tmp_path / "scheduler.json"
    procs: list[subprocess.Popen] = []

    def start(*argv: str) -> subprocess.Popen:
        log = open(tmp_path / f"{argv[0]}-{len(procs)}.log", "w")  # noqa: SIM115 (closed with the process)
        # `dask scheduler` / `dask worker`, run by this interpreter (the `dask` script of a light venv
        # may name another Python, without this checkout's affectscope).
        cmd = [sys.executable, "-m", "dask", *argv]
        procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=log))
        return procs[-1]

    try:
        start("scheduler", "--scheduler-file", str(sched_file), "--port", "0", "--no-dashboard")
        _wait_for(sched_file)
        workers = [
            start("worker", "--scheduler-file", str(sched_file), "--nthreads", "1", "--no-nanny", "--name", w)
            for w in ("wa", "wb")
        ]
        address = json.loads(sched_file.read_text())["address"]
        batch = subprocess.Popen(
            [sys.executable, "-m", "affectscope", "batch", "predict", "--project", str(tmp_path / "p"),
             "--rate", "3", "--address", address, "--json"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        # Kill one worker as soon as the first clip's results exist (the batch is mid-way).
        cache = tmp_path / "p" / "cache" / "extract"
        deadline = time.monotonic() + 600
        while not (cache.is_dir() and any(not e.name.startswith(".") for e in cache.iterdir())):
            assert batch.poll() is None, (batch.stdout.read() + batch.stderr.read())[-3000:]
            assert time.monotonic() < deadline, "no clip finished in 10 minutes"
            time.sleep(0.2)
        victim = workers[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
        out, err = batch.communicate(timeout=600)
        assert batch.returncode == 0, err[-3000:]
        summary = json.loads(out)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
    assert summary["clips"] == n and summary["done"] == n and summary["failed"] == 0, summary
    assert summary["engine"] == "dask" and summary["workers"] == 2
    assert all(loads == 1 for loads in summary["model_loads"].values())  # once per worker, not per clip
    assert len({r["clip"] for r in summary["results"]}) == n
    # Exactly once in the project: one whole-clip prediction per clip, no duplicated timeline rows.
    with Project.open(tmp_path / "p") as project, unit_of_work(project.db) as s:
        per_clip = {
            cid: count
            for cid, count in s.execute(
                select(ClipPrediction.clip_id, func.count()).group_by(ClipPrediction.clip_id)
            ).all()
        }
        assert sorted(per_clip.values()) == [1] * n
        windows = s.execute(
            select(
                TimePrediction.clip_id, TimePrediction.modality, TimePrediction.t_start, func.count()
            ).group_by(TimePrediction.clip_id, TimePrediction.modality, TimePrediction.t_start)
        ).all()
        assert windows and all(row[3] == 1 for row in windows)
    entries = [e for e in (tmp_path / "p" / "cache" / "extract").iterdir() if not e.name.startswith(".")]
    assert len(entries) == n  # one extraction cache entry per clip
