"""Racing undos and redos (issue 23 item 2): N processes that undo (or redo) the same annotator's one
label at the same moment undo (redo) it exactly once, on SQLite and on PostgreSQL.

The old ``db/labels.undo`` chose its target before locking the clip and never re-checked it: on
PostgreSQL two simultaneous undos undid the same row 30 times out of 30, each reporting a change.
Children stay alive across rounds and wait on stdin, so every round's N requests leave together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from affectscope.app.services.commands import LabelCommand
from affectscope.db import clips as clip_rows
from affectscope.db.engine import open_database
from affectscope.db.schema import Label
from affectscope.db.uow import unit_of_work
from tests.conftest import REPO

pytest_plugins = ["tests.db_backends"]

N_PROCESSES = 6
ROUNDS = int(os.environ.get("AFFECTSCOPE_RACE_ROUNDS", "8"))

# One racer: opens the database, says "ready", then per stdin line "undo|redo ANNOTATOR" acts once.
RACER = """
import json, sys
from affectscope.app.services.commands import AnnotatorHistory
from affectscope.db.engine import open_database
db = open_database(sys.argv[1])
print("ready", flush=True)
for line in sys.stdin:
    action, who = line.split()
    try:
        change = getattr(AnnotatorHistory(db, who), action)()
        print(json.dumps({"changed": change is not None}), flush=True)
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
"""


def _setup(url: str) -> None:
    db = open_database(url)
    with unit_of_work(db, write=True) as s:
        clip_rows.add_clip(
            s,
            path="/c/0.mp4",
            content_hash="0",
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


def _rows(db, action: str, target: int) -> int:  # noqa: ANN001
    with unit_of_work(db) as s:
        return s.scalar(select(func.count()).where(Label.action == action, Label.target_id == target))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_concurrent_undos_and_redos_act_exactly_once(backend_url: str) -> None:
    _setup(backend_url)
    db = open_database(backend_url)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, backend_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        for _ in range(N_PROCESSES)
    ]
    try:
        assert all(r.stdout.readline().strip() == "ready" for r in racers)
        doubles = {"undo": 0, "redo": 0}
        for round_ in range(ROUNDS):
            who = f"annotator{round_}"  # a fresh annotator: exactly one label to undo, then to redo
            label = LabelCommand(db, 1, "sentiment3", "positive", who).do().label_id
            for action in ("undo", "redo"):
                for r in racers:
                    r.stdin.write(f"{action} {who}\n")
                for r in racers:
                    r.stdin.flush()
                answers = [json.loads(r.stdout.readline()) for r in racers]
                assert not [a for a in answers if "error" in a], answers
                rows = _rows(db, action, label)
                doubles[action] += rows - 1
                assert rows == 1, (
                    f"round {round_}: {N_PROCESSES} concurrent {action}s wrote {rows} {action} rows"
                )
                assert sum(a["changed"] for a in answers) == 1, answers
        print(
            f"\n{ROUNDS} rounds x {N_PROCESSES} racing processes: double undos {doubles['undo']}, "
            f"double redos {doubles['redo']}"
        )
    finally:
        for r in racers:
            r.stdin.close()
            r.wait(timeout=60)
        db.dispose()
