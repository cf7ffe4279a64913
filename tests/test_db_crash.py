"""Crash safety and teamwork on real databases: writer processes killed with SIGKILL at random moments lose
nothing they reported saved; several writer processes at once lose and duplicate nothing and see each
other's labels."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from affectscope.db import clips as clip_rows
from affectscope.db import engine as db_engine
from affectscope.db import labels as label_rows
from affectscope.db.engine import open_database
from affectscope.db.schema import AnnotatorCurrent, ClipCurrent, Label
from affectscope.db.uow import unit_of_work
from tests.conftest import REPO

pytest_plugins = ["tests.db_backends"]

# A labelling loop: after each commit it prints the row id; "saved" in the window means exactly this.
LABEL_LOOP = """
import random, sys
from affectscope.app.services.commands import AnnotatorHistory, LabelCommand
from affectscope.db import engine as db_engine
from affectscope.db.engine import open_database
url, who, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
db = open_database(url)
rng = random.Random(seed)
values = ["positive", "neutral", "negative"]
for i in range(n):
    if i % 7 == 6:
        change = AnnotatorHistory(db, who).undo()
    else:
        clip = rng.randint(1, 5)
        span = (rng.randint(0, 3), rng.randint(4, 5)) if rng.random() < 0.3 else None
        change = LabelCommand(db, clip, "sentiment3", rng.choice(values), who, span=span).do()
    if change is not None:
        print(change.label_id, flush=True)
"""

# Teamwork: label, then wait until every other writer's labels are visible here.
TEAM_WRITER = """
import json, sys, time
from sqlalchemy import select
from affectscope.app.services.commands import LabelCommand
from affectscope.db import engine as db_engine
from affectscope.db.engine import open_database
from affectscope.db.schema import Annotator, Label
from affectscope.db.uow import unit_of_work
url, who, n, others = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(",")
db = open_database(url)
values = ["positive", "neutral", "negative"]
ids = [LabelCommand(db, 1 + i % 5, "sentiment3", values[i % 3], who).do().label_id for i in range(n)]
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    with unit_of_work(db) as s:
        seen = set(s.scalars(select(Annotator.name).join(Label, Label.annotator_id == Annotator.id)))
    if set(others) <= seen:
        break
    time.sleep(0.05)
print(json.dumps({"ids": ids, "saw_others": set(others) <= seen}))
"""


def _setup(url: str) -> None:
    db = open_database(url)
    with unit_of_work(db, write=True) as s:
        for i in range(5):
            clip_rows.add_clip(
                s,
                path=f"/c/{i}.mp4",
                content_hash=str(i),
                duration=5.0,
                fps=25.0,
                width=64,
                height=48,
                n_frames=125,
                has_audio=False,
                size_bytes=1,
                mtime=0.0,
            )
    db.dispose()


def _caches(db) -> tuple[set, set]:  # noqa: ANN001
    with unit_of_work(db) as s:
        a = {(r.clip_id, r.label_set, r.annotator_id, r.label_id) for r in s.query(AnnotatorCurrent)}
        c = {(r.clip_id, r.label_id, r.n_annotators, r.agreement) for r in s.query(ClipCurrent)}
    return a, c


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


# The trial kills 100 writers per backend (AFFECTSCOPE_CRASH_KILLS overrides), one at a time: four at
# once starved SQLite's lock past its then 15 s wait on a loaded machine (a contention test, not this one).
# About 1-3 s a kill (the child's start-up dominates), so a few minutes per backend.
KILLS = int(os.environ.get("AFFECTSCOPE_CRASH_KILLS", "100"))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_kill_9_loses_nothing_reported_saved(backend_url: str) -> None:
    _setup(backend_url)
    rng = random.Random(11)
    reported: list[int] = []
    kills = KILLS
    for round_ in range(kills):
        proc = subprocess.Popen(
            [sys.executable, "-c", LABEL_LOOP, backend_url, f"w{round_ % 3}", "100000", str(round_)],
            stdout=subprocess.PIPE,
            text=True,
            env=_env(),
            cwd=REPO,
        )
        first = proc.stdout.readline()  # started and committed once
        assert first.strip().isdigit(), "the labelling child did not start"
        reported.append(int(first))
        time.sleep(rng.uniform(0.02, 0.4))  # then die at a random moment, mid-transaction or not
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        reported += [int(line) for line in out.split() if line.strip().isdigit()]
    assert len(reported) > kills  # the children wrote on after their first commit
    db = open_database(backend_url)
    assert db.integrity_check() == "ok"
    with unit_of_work(db) as s:
        stored = set(s.scalars(s.query(Label.id).statement))
    missing = set(reported) - stored
    assert not missing, f"{len(missing)} labels reported saved are gone: {sorted(missing)[:10]}"
    before = _caches(db)  # the caches were committed with the rows: equal to a rebuild from history
    with unit_of_work(db, write=True) as s:
        label_rows.rebuild_current(s)
    assert _caches(db) == before
    db.dispose()


@pytest.mark.slow
def test_concurrent_writers_lose_and_duplicate_nothing(backend_url: str) -> None:
    _setup(backend_url)
    writers, n = ["ann", "bob", "cy", "dee"], 30
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                TEAM_WRITER,
                backend_url,
                who,
                str(n),
                ",".join(w for w in writers if w != who),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            cwd=REPO,
        )
        for who in writers
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["saw_others"] for r in results), "a writer never saw the others' labels"
    ids = [i for r in results for i in r["ids"]]
    assert len(ids) == len(set(ids)) == len(writers) * n
    db = open_database(backend_url)
    with unit_of_work(db) as s:
        assert sorted(s.scalars(s.query(Label.id).statement)) == sorted(ids)
        per_clip = clip_rows.list_clips(s, clip_rows.ClipQuery())
    assert all(c.n_annotators == len(writers) for c in per_clip)
    before = _caches(db)
    with unit_of_work(db, write=True) as s:
        label_rows.rebuild_current(s)
    assert _caches(db) == before
    assert db.integrity_check() == "ok"
    db.dispose()


# Eight writers at once, each timing its own commits (seconds from the command's start to "saved").
TIMED_WRITER = """
import json, random, sys, time
from affectscope.app.services.commands import LabelCommand
from affectscope.db import engine as db_engine
from affectscope.db.engine import open_database
url, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = open_database(url)
rng = random.Random(who)
waits = []
for i in range(n):
    t0 = time.monotonic()
    value = rng.choice(["positive", "neutral", "negative"])
    LabelCommand(db, rng.randint(1, 5), "sentiment3", value, who).do()
    waits.append(time.monotonic() - t0)
print(json.dumps(waits))
"""


@pytest.mark.slow
def test_eight_sqlite_writers_wait_well_under_the_lock_timeout(tmp_path: Path) -> None:
    """Issue 23: the worst wait (13.9 s) sat just under the 15 s busy timeout, so one slower moment
    would have turned a save into "database is locked". The margin is now asserted: the slowest of
    8 x 20 commits waits less than half the timeout."""
    url = str(tmp_path / "project.db")
    _setup(url)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TIMED_WRITER, url, f"w{i}", "20"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            cwd=REPO,
        )  # fmt: skip
        for i in range(8)
    ]
    waits = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
        waits += json.loads(out.strip().splitlines()[-1])
    assert len(waits) == 160
    print(f"8 writers: slowest commit {max(waits):.2f} s, timeout {db_engine.BUSY_TIMEOUT_S:.0f} s")
    assert max(waits) < db_engine.BUSY_TIMEOUT_S / 2
