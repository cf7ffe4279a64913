"""Projects on real clip files: create, re-import (new, moved, changed, missing, not media), bad folders and
databases, and the ``project``/``label`` CLI contracts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.app.services.commands import LabelCommand
from affectscope.app.services.project import Project
from affectscope.db import engine as db_engine
from affectscope.db.uow import unit_of_work
from affectscope.errors import MediaError, StorageError
from tests.clipfactory import make_clip
from tests.conftest import skip_or_fail


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    make_clip(folder / "a.mp4", n_frames=20, fps=25, audio="speech")
    make_clip(folder / "nested" / "b.mkv", n_frames=12, fps=30)
    return folder


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_init_records_each_clip_once_and_reimport_notices_changes(clip_dir: Path, tmp_path: Path) -> None:
    clips = _copy(clip_dir, tmp_path / "clips")
    project = Project.init(tmp_path / "proj")
    scan = project.import_clips(clips)
    assert sorted(Path(p).name for p in scan.added) == ["a.mp4", "b.mkv"]
    a = project.clip("a.mp4")
    assert (a.n_frames, a.has_audio, a.width, a.height) == (20, True, 320, 240)
    assert a.duration == pytest.approx(0.8, abs=0.01) and a.fps == pytest.approx(25, abs=0.1)
    assert len(a.content_hash) == 128
    assert project.clip("b.mkv").has_audio is False

    again = project.import_clips(clips)
    assert (again.added, again.moved, again.changed, len(again.unchanged)) == ((), (), (), 2)

    LabelCommand(project.db, a.id, "sentiment3", "positive", "ann").do()
    (clips / "moved").mkdir()
    os.replace(clips / "a.mp4", clips / "moved" / "a_renamed.mp4")
    make_clip(clips / "nested" / "b.mkv", n_frames=14, fps=30)  # same path, new content
    make_clip(clips / "c.mov", n_frames=10)
    (clips / "broken.mp4").write_bytes(b"not a video at all")
    scan = project.import_clips(clips)
    assert [Path(p).name for p in scan.added] == ["c.mov"]
    assert [(Path(a_).name, Path(b_).name) for a_, b_ in scan.moved] == [("a.mp4", "a_renamed.mp4")]
    assert [Path(p).name for p in scan.changed] == ["b.mkv"]
    assert [Path(p).name for p, _ in scan.failed] == ["broken.mp4"]
    moved = project.clip("a_renamed.mp4")
    assert moved.id == a.id and moved.label == "positive"  # the label followed the clip
    assert project.clip("b.mkv").n_frames == 14 and project.clip("b.mkv").status == "changed"

    os.remove(clips / "c.mov")
    scan = project.import_clips(clips)
    assert [Path(p).name for p in scan.missing] == ["c.mov"]
    with pytest.raises(MediaError, match="no longer at"):
        project.clip_file(project.clip("c.mov").id)
    project.close()

    reopened = Project.open(tmp_path / "proj")
    assert sorted(c.status for c in reopened.clips()) == ["changed", "missing", "ok"]
    reopened.close()


def test_bad_folders_and_databases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StorageError, match="not an Affectscope project"):
        Project.open(tmp_path)
    project = Project.init(tmp_path / "p")
    with pytest.raises(StorageError, match="already a project on database"):
        Project.init(tmp_path / "p", db_url="postgresql://nobody@127.0.0.1:1/x")
    # A database locked by another program: a clear error after the busy timeout, and nothing lost.
    monkeypatch.setattr(db_engine, "BUSY_TIMEOUT_S", 0.3)
    project.close()
    project = Project.open(tmp_path / "p")
    import sqlite3

    holder = sqlite3.connect(tmp_path / "p" / "project.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StorageError, match="locked by another program"):
        project.choose_annotator("ann")
    holder.execute("ROLLBACK")
    holder.close()
    assert project.choose_annotator("ann") == "ann"
    assert project.annotators() == ["ann"]
    project.close()
    # An unreachable server: a message, not a traceback.
    with pytest.raises(StorageError, match="cannot reach the database server"):
        db_engine.open_database("postgresql://nobody@127.0.0.1:1/none")


def test_read_only_folder_gives_a_clear_message() -> None:
    """Run as an unprivileged user (root ignores permissions): a read-only project folder is refused."""
    if not shutil.which("setpriv"):
        skip_or_fail("needs setpriv (util-linux) to drop root privileges")
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(prefix="affectscope-ro-"))  # outside pytest's root-only tree
    os.chmod(tmp_path, 0o755)
    folder = tmp_path / "ro"
    Project.init(folder).close()
    os.chmod(folder, 0o555)
    code = (
        "from affectscope.app.services.project import Project\n"
        "from affectscope.errors import StorageError\n"
        f"try:\n    Project.open({str(folder)!r})\nexcept StorageError as e:\n    print('ERR', e)\n"
    )
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    env = {**os.environ, "HOME": str(tmp_path)}
    try:
        proc = subprocess.run(
            [*drop, sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
        )
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(tmp_path)
    assert "ERR" in proc.stdout and "read-only" in proc.stdout, proc.stdout + proc.stderr


def test_cli_project_init_label_and_history(
    clip_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    proj = tmp_path / "proj"
    assert main(["project", "init", str(proj), "--clips", str(clip_dir), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["clips"] == 2 and len(doc["scan"]["added"]) == 2 and doc["db"].endswith("project.db")
    assert main(["label", "a.mp4", "negative", "--project", str(proj), "--annotator", "ann", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["old"], doc["new"], doc["annotator"], doc["action"]) == (None, "negative", "ann", "set")
    args = [
        "label",
        "b.mkv",
        "sad",
        "--label-set",
        "emotion7",
        "--span",
        "0.1",
        "0.3",
        "--project",
        str(proj),
    ]
    assert main([*args, "--annotator", "ann", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["start"] == 0.1
    assert main(["undo", "--project", str(proj), "--annotator", "ann", "--json"]) == 0
    undo = json.loads(capsys.readouterr().out)
    assert undo["changed"] and undo["action"] == "undo" and undo["start"] == 0.1
    assert main(["history", "--project", str(proj), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["action"] for r in rows] == ["undo", "set", "set"] and rows[1]["undone"] is True
    # Bad input: exit code 2 and a message, no traceback.
    assert main(["label", "a.mp4", "joy", "--project", str(proj)]) == 2
    assert "not a label of 'sentiment3'" in capsys.readouterr().err
    assert main(["label", "nope.mp4", "positive", "--project", str(proj)]) == 2
    assert "not a clip of this project" in capsys.readouterr().err
    assert main(["project", "info", str(tmp_path / "nothing"), "--json"]) == 2
    with unit_of_work(Project.open(proj).db) as s:
        assert s.execute(__import__("sqlalchemy").text("PRAGMA journal_mode")).scalar() == "wal"
