"""The command line against a real PostgreSQL server (issue 14): ``project init --db postgresql://…``,
labelling, undo and export all go through the server, and CI cannot pass without one (``$CI`` set:
a missing server fails instead of skipping)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from tests.clipfactory import make_clip
from tests.conftest import REPO
from tests.db_backends import drop_pg_database, fresh_pg_database, require_postgres


@pytest.fixture
def pg_url() -> str:
    require_postgres()
    url = fresh_pg_database()
    yield url
    drop_pg_database(url)


@pytest.mark.postgres
def test_cli_project_on_postgres_labels_undo_and_export(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    clips = tmp_path / "clips"
    make_clip(clips / "a.mp4", n_frames=20, fps=25)
    make_clip(clips / "b.mp4", n_frames=20, fps=25)
    proj = tmp_path / "proj"
    assert main(["project", "init", str(proj), "--clips", str(clips), "--db", pg_url, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["clips"] == 2 and doc["db"].startswith("postgresql")
    assert not (proj / "project.db").exists()  # nothing went to a SQLite file by mistake

    for clip, value, who in (
        ("a.mp4", "negative", "ann"),
        ("b.mp4", "positive", "ann"),
        ("a.mp4", "neutral", "bo"),
    ):
        assert main(["label", clip, value, "--project", str(proj), "--annotator", who, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["new"] == value
    assert main(["undo", "--project", str(proj), "--annotator", "bo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "undo"

    out = tmp_path / "labels.csv"
    assert main(["export", "labels", "--project", str(proj), "--format", "csv", "-o", str(out)]) == 0
    capsys.readouterr()
    rows = {(Path(r["path"]).name, r["annotator"]): r["label"] for r in csv.DictReader(out.open())}
    assert rows == {("a.mp4", "ann"): "negative", ("b.mp4", "ann"): "positive"}

    # The rows are on the server: a fresh connection by URL sees them.
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from labels")).scalar() == 4  # 3 sets and 1 undo
    engine.dispose()


def test_ci_fails_rather_than_skips_without_postgres(tmp_path: Path) -> None:
    """With ``CI`` set and no server, a PostgreSQL test fails (and without CI it is skipped)."""
    test = tmp_path / "test_needs_pg.py"
    test.write_text(
        "from tests.db_backends import require_postgres\n\ndef test_pg():\n    require_postgres()\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("AFFECTSCOPE_PG_URL", "CI")}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(test)]
    skipped = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout, skipped.stdout[-2000:]
    failed = subprocess.run(
        cmd, capture_output=True, text=True, cwd=REPO, env={**env, "CI": "true"}, timeout=300
    )
    assert failed.returncode == 1 and "1 failed" in failed.stdout, failed.stdout[-2000:]
    assert "CI is set" in failed.stdout
