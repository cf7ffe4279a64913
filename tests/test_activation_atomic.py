"""Activating a model version is atomic (issue 23 item 3): kill -9 at any moment of
``retrain.activate`` leaves the old version active with all its predictions, or the new version
active with all of its own. The old code committed the active flag first and then predicted clip by
clip, so a kill left the new version active with a few predictions and nothing to repair it.

A real subprocess runs the real service on a real project (SQLite file) and is killed with SIGKILL
at chosen progress points (mid-prediction, after the last prediction: around the write) and, for
``AFFECTSCOPE_ACTIVATION_KILLS`` more trials, at random moments.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import delete

from affectscope.app.services import retrain as rt
from affectscope.db import lineage as lineage_rows
from affectscope.db.schema import ClipPrediction, TimePrediction
from affectscope.db.uow import unit_of_work
from tests.conftest import REPO
from tests.queue_project import make_project

pytestmark = pytest.mark.slow

ACTIVATE = """
import sys
from affectscope.app.services import retrain as rt
from affectscope.app.services.project import Project
from affectscope.jobs import Job
def show(done, total, message):
    print(done, total, message, flush=True)
with Project.open(sys.argv[1]) as project:
    rt.activate(project, int(sys.argv[2]), job=Job(on_progress=show))
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory, shared_data: Path):
    project = make_project(tmp_path_factory.mktemp("activate"), shared_data, per_class=4)
    old = rt.retrain(project, label_source="latest", epochs=3).model_version_id
    new = rt.retrain(project, label_source="latest", epochs=4).model_version_id
    rt.activate(project, old)
    yield project, old, new
    project.close()


def _activate_and_kill(folder: Path, version: int, kill_when=None, after: float | None = None) -> list[str]:  # noqa: ANN001
    """Run the activation in a subprocess; SIGKILL it once ``kill_when(line)`` holds or ``after``
    seconds have passed. Returns its output lines."""
    env = {**os.environ, "AFFECTSCOPE_SRC": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", ACTIVATE, str(folder), str(version)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env=env,
    )
    timer = threading.Timer(after, proc.send_signal, (signal.SIGKILL,)) if after is not None else None
    if timer:
        timer.start()
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.strip())
        if kill_when is not None and kill_when(line):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    if timer:
        timer.cancel()
    return lines


def _state(project, old: int, new: int) -> str:  # noqa: ANN001
    """'old' or 'new' (which version is active), asserting that version's predictions are complete."""
    n_clips = len(project.clips())
    with unit_of_work(project.db) as s:
        active = lineage_rows.active_version(s, "sentiment3")
        probs = lineage_rows.version_clip_probs(s, active)
        lanes = lineage_rows.version_timelines(s, active)
    assert active in (old, new)
    assert len(probs) == n_clips, f"version {active} is active with {len(probs)} of {n_clips} predictions"
    assert len(lanes) == n_clips and all(lane.get("fused") for lane in lanes.values())
    return "old" if active == old else "new"


def _reset(project, old: int, new: int) -> None:  # noqa: ANN001
    """The old version active again and the new one without predictions, as before a trial."""
    with unit_of_work(project.db) as s:
        active = lineage_rows.active_version(s, "sentiment3")
    if active == new:
        assert rt.rollback(project) == old
    with unit_of_work(project.db, write=True) as s:
        s.execute(delete(ClipPrediction).where(ClipPrediction.model_version_id == new))
        s.execute(delete(TimePrediction).where(TimePrediction.model_version_id == new))


def test_kill_mid_prediction_keeps_the_old_version_active_and_complete(versions) -> None:
    project, old, new = versions
    _reset(project, old, new)
    lines = _activate_and_kill(project.folder, new, lambda line: line.startswith("3 "))
    assert lines[-1].startswith("3 ") and "predicting" in lines[-1]
    assert _state(project, old, new) == "old"


def test_kill_after_the_last_prediction_leaves_one_complete_version(versions) -> None:
    project, old, new = versions
    _reset(project, old, new)
    lines = _activate_and_kill(project.folder, new, lambda line: "predictions up to date" in line)
    assert "predictions up to date" in lines[-1]
    assert _state(project, old, new) in ("old", "new")
    # And an activation after the kill completes and switches.
    lines = _activate_and_kill(project.folder, new)
    assert lines[-1] == "finished" and _state(project, old, new) == "new"


def test_kills_at_random_moments_never_leave_a_half_activated_version(versions) -> None:
    project, old, new = versions
    _reset(project, old, new)
    start = time.monotonic()
    assert _activate_and_kill(project.folder, new)[-1] == "finished"
    full = time.monotonic() - start  # kills are spread over a whole activation's time
    n = int(os.environ.get("AFFECTSCOPE_ACTIVATION_KILLS", "4"))
    rng = random.Random(23)
    outcomes = {"old": 0, "new": 0}
    for _ in range(n):
        _reset(project, old, new)
        _activate_and_kill(project.folder, new, after=rng.uniform(0.3, 1.05) * full)
        outcomes[_state(project, old, new)] += 1  # asserts the active version is complete
    print(f"\n{n} kills over a {full:.1f} s activation: old active and complete {outcomes['old']}, ", end="")
    print(f"new active and complete {outcomes['new']}, half-activated 0")
