"""Labelling in the real window, offscreen: create a project from the window, label with keys 1–9, mark a
span with I/O, undo/redo with Ctrl+Z / Ctrl+Shift+Z, see who labelled in the browser, and find it all
again after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.project import Project
from affectscope.app.services.settings import Settings
from tests.clipfactory import make_clip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_clip(tmp_path / "a.mp4", n_frames=50, fps=25, audio="speech")
    make_clip(tmp_path / "b.mp4", n_frames=30, fps=25)
    return tmp_path


@pytest.fixture
def window(qtbot, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "ann")
    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    yield w
    w.shutdown()
    w.close()


def _open_and_activate(window: MainWindow, qtbot, path: Path) -> None:
    with qtbot.waitSignal(window.ready, timeout=30000):
        window.open_path(path)
    window.show()
    with qtbot.waitActive(window):
        window.activateWindow()
    window.player.view.setFocus()


def _row(window: MainWindow, name: str) -> dict:
    row = window.browser.model.row_for(window.loaded.path.parent / name)
    return row.extra


def test_label_keys_spans_undo_redo_and_restart(window: MainWindow, qtbot, folder: Path) -> None:
    panel = window.labelling
    _open_and_activate(window, qtbot, folder / "a.mp4")
    assert panel.project is None and not panel.label_buttons[:1]
    with qtbot.waitSignal(panel.session.project_opened, timeout=30000):
        panel.create_button.click()
    assert (folder / "affectscope.json").is_file()
    assert [b.text() for b in panel.label_buttons] == ["1 positive", "2 neutral", "3 negative"]
    qtbot.waitUntil(lambda: panel.state is not None, timeout=10000)

    with qtbot.waitSignal(panel.state_changed, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_3)
    assert panel.current_label.text().startswith("negative — by ann")
    assert _row(window, "a.mp4")["label"] == "negative" and _row(window, "a.mp4")["label_by"] == "ann"

    # A span: I at 0.4 s, O at 1.2 s, then 1.
    window.clock.seek(0.4)
    qtbot.keyClick(window, Qt.Key.Key_I)
    window.clock.seek(1.2)
    qtbot.keyClick(window, Qt.Key.Key_O)
    assert panel.lane.marks == (pytest.approx(0.4), pytest.approx(1.2))
    with qtbot.waitSignal(panel.state_changed, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_1)
    assert [(s.value, s.start, s.end) for s in panel.lane.spans] == [("positive", 0.4, 1.2)]
    assert panel.lane.marks == (None, None)
    assert (
        "positive → " not in panel.history.list.item(0).text()
        and "0.400–1.200" in panel.history.list.item(0).text()
    )

    with qtbot.waitSignal(panel.state_changed, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the span
    assert panel.lane.spans == []
    with qtbot.waitSignal(panel.state_changed, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo "negative"
    assert panel.current_label.text().startswith("—")
    assert _row(window, "a.mp4")["label"] == ""
    with qtbot.waitSignal(panel.state_changed, timeout=10000):
        qtbot.keyClick(
            window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        )
    assert panel.current_label.text().startswith("negative")
    assert panel.history.undo_button.isEnabled() and panel.history.redo_button.isEnabled()

    # Another annotator, chosen in the panel: the browser shows who set the current label.
    panel.annotator_box.setCurrentText("bob")
    panel.annotator_box.lineEdit().editingFinished.emit()
    qtbot.waitUntil(lambda: panel.project.annotator == "bob", timeout=10000)
    # Wait for the state of bob's commit itself, not the refresh that choosing bob also started.
    with qtbot.waitSignal(
        panel.state_changed, timeout=10000, check_params_cb=lambda state: state.change is not None
    ):
        qtbot.keyClick(window, Qt.Key.Key_2)
    assert _row(window, "a.mp4")["label_by"] == "bob" and _row(window, "a.mp4")["agreement"] == "50% of 2"
    window.session.shutdown()  # the project closes: the next reads are fresh

    # The database agrees, and a fresh window on the same folder finds the project and its history.
    with Project.open(folder) as project:
        assert project.clip("a.mp4").label == "neutral"
        assert sorted(project.annotators()) == ["ann", "bob"]
    window2 = MainWindow(settings=Settings())
    qtbot.addWidget(window2)
    try:
        with qtbot.waitSignal(window2.labelling.state_changed, timeout=30000):
            window2.open_path(folder / "a.mp4")
        assert window2.labelling.history.list.count() == 6
        assert window2.browser.model.row_for(folder / "a.mp4").extra["label"] == "neutral"
    finally:
        window2.shutdown()
        window2.close()


def test_locked_database_shows_an_error_and_keeps_what_was_saved(
    window: MainWindow, qtbot, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from affectscope.db import engine as db_engine

    monkeypatch.setattr(db_engine, "BUSY_TIMEOUT_S", 0.3)
    Project.init(folder).import_clips(folder)
    panel = window.labelling
    with qtbot.waitSignal(panel.session.project_opened, timeout=30000):
        window.open_path(folder / "b.mp4")
    qtbot.waitUntil(lambda: panel.state is not None, timeout=10000)
    with qtbot.waitSignal(panel.state_changed, timeout=10000):
        panel.key(1)
    holder = sqlite3.connect(folder / "project.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with qtbot.waitSignal(panel.error, timeout=10000) as blocker:
            panel.key(3)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked" in blocker.args[1]
    assert panel.current_label.text().startswith("positive")  # the unsaved label never showed as saved
    with Project.open(folder) as project:
        assert project.clip("b.mp4").label == "positive"


def test_a_clip_shown_while_its_new_project_is_created_is_no_false_error(
    window: MainWindow, qtbot, tmp_path: Path
) -> None:
    """Issue 22 item 3: right after Project ▸ New project the first clip loaded before the import
    had finished, was asked of the project open before, and "Labels not saved … not a clip of this
    project" came up although nothing was lost."""
    import threading

    first, second = tmp_path / "one", tmp_path / "two"
    make_clip(first / "a.mp4", n_frames=20, fps=25)
    make_clip(second / "b.mp4", n_frames=20, fps=25)
    with Project.init(first) as p:
        p.import_clips(first)
    panel, session = window.labelling, window.session
    errors: list[str] = []
    window.error_shown.connect(lambda title, message: errors.append(f"{title}: {message}"))
    with qtbot.waitSignal(session.project_opened, timeout=30000):
        session.open_project(first)
    release = threading.Event()

    def hold(job=None) -> None:  # the database thread is busy (a long import) for a moment
        release.wait(10)

    session.db_workers.start(hold, (), title="busy")
    session.open_project(second, create=True)
    session.set_clip(str(second / "b.mp4"))  # the clip loads before the new project is there
    assert "opening" in panel.current_label.text()
    with qtbot.waitSignal(session.project_opened, timeout=30000):
        release.set()
    qtbot.waitUntil(
        lambda: panel.state is not None and panel.state.clip.path.endswith("b.mp4"), timeout=10000
    )
    assert panel.project.folder == second.resolve() and errors == []


def test_read_and_write_failures_are_worded_apart(window: MainWindow, qtbot) -> None:
    """Issue 22 item 3: every database failure was worded "Labels not saved", reads too."""
    from affectscope.db.label_sets import LabelError

    titles: list[str] = []
    window.error_shown.connect(lambda title, _m: titles.append(title))
    panel = window.labelling
    panel._on_read_failed(OSError("database is locked"))
    panel._on_read_failed(LabelError("'/x/c.mp4' is not a clip of this project; import it first"))
    assert titles == ["Labels not read"] and "not a clip of the open project" in panel.current_label.text()
