"""A lost database is reported, never quietly recreated (issue 23 item 5).

Deleting or truncating ``project.db`` and running ``history --project P --json`` used to print ``[]``,
exit 0 and create an empty database: the loss was hidden. Now every way of opening an existing
project (the CLI, the window) refuses with a message; only ``project init`` starts an empty one.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.app.services.commands import LabelCommand
from affectscope.app.services.project import DB_FILE, Project
from tests.clipfactory import make_clip
from tests.db_backends import drop_pg_database, fresh_pg_database, require_postgres


def _project(folder: Path, db_url: str | None = None) -> Path:
    make_clip(folder / "a.mp4", n_frames=10, fps=25)
    with Project.init(folder, db_url=db_url) as project:
        project.import_clips(folder)
        LabelCommand(project.db, project.clip("a.mp4").id, "sentiment3", "positive", "ann").do()
    return folder


def _damage(db: Path, how: str) -> None:
    for side in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        side.unlink(missing_ok=True)  # closed cleanly: everything is in the main file
    data = db.read_bytes()
    assert len(data) >= 3 * 4096  # a real project: several pages
    if how == "deleted":
        db.unlink()
    elif how == "empty":
        db.write_bytes(b"")
    elif how == "cut mid-page":
        db.write_bytes(data[: len(data) // 2 + 100])
    elif how == "cut at a page":
        db.write_bytes(data[:4096])
    elif how == "not sqlite":
        db.write_bytes(b"\x00" * len(data))
    elif how == "no schema":
        db.unlink()
        sqlite3.connect(db).execute("create table other (x)").connection.close()


def _history(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["history", "--project", str(folder), "--json"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("deleted", "is missing; nothing was created"),
        ("empty", "is empty (0 bytes)"),
        ("cut mid-page", "is truncated"),
        ("cut at a page", "is truncated"),
        ("not sqlite", "is not a SQLite database"),
        ("no schema", "holds no Affectscope project"),
    ],
)
def test_a_lost_sqlite_database_is_reported_and_not_recreated(
    how: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _project(tmp_path / "p")
    db = folder / DB_FILE
    code, out, _ = _history(folder, capsys)
    assert code == 0 and len(json.loads(out)) == 1  # the label is there before the damage
    _damage(db, how)
    before = db.read_bytes() if db.exists() else None
    code, out, err = _history(folder, capsys)
    assert code == 2 and out == ""
    assert says in err and err.startswith("affectscope: error:") and err.count("\n") == 1, err
    if how == "no schema":  # opening sets WAL mode in its header, but no table was made in it
        with sqlite3.connect(db) as conn:
            assert [r[0] for r in conn.execute("select name from sqlite_master")] == ["other"]
    else:
        assert (db.read_bytes() if db.exists() else None) == before  # nothing created, nothing written


def test_project_init_is_the_one_way_to_start_an_empty_database_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _project(tmp_path / "p")
    _damage(folder / DB_FILE, "deleted")
    assert _history(folder, capsys)[0] == 2
    assert main(["project", "init", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["label_rows"] == 0
    code, out, _ = _history(folder, capsys)
    assert code == 0 and json.loads(out) == []


@pytest.mark.postgres
def test_an_emptied_postgres_database_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_postgres()
    url = fresh_pg_database()
    try:
        folder = _project(tmp_path / "p", db_url=url)
        from sqlalchemy import create_engine

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        code, out, err = _history(folder, capsys)
        assert code == 2 and out == "" and "holds no Affectscope project (empty)" in err, err
        with engine.connect() as conn:  # and no schema was created in it
            tables = conn.exec_driver_sql(
                "select count(*) from pg_tables where schemaname = 'public'"
            ).scalar()
        assert tables == 0
        engine.dispose()
        drop_pg_database(url)  # and a database that is gone altogether: one line, no traceback
        code, out, err = _history(folder, capsys)
        assert code == 2 and out == "" and "does not exist" in err and err.count("\n") == 1, err
    finally:
        drop_pg_database(url)


def test_the_window_says_the_database_is_missing(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.settings import Settings

    folder = _project(tmp_path / "p")
    _damage(folder / DB_FILE, "deleted")
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "ann")
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.error_shown, timeout=30000) as shown:
            window.project_menu.open_project(str(folder))
        title, message = shown.args
        assert title == "Cannot open the project" and "is missing; nothing was created" in message
        assert window.last_error == (title, message)  # the status bar and the log have it too
        assert window.session.project is None and not (folder / DB_FILE).exists()
    finally:
        window.workers.cancel_all()
        window.shutdown()
