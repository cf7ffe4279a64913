"""Issue 22, the habits annotators bring from ELAN and BORIS: next / previous clip keys in the player
and "next unlabelled", walking the clip browser in its shown order with the selection following;
and issue 22 item 7: the browser follows a clip opened from elsewhere, File ▸ Open clip of a listed
clip keeps the project's list."""

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
    for name in ("a", "b", "c", "d"):
        make_clip(tmp_path / f"{name}.mp4", n_frames=15, fps=25)
    (tmp_path / "broken.mp4").write_bytes(b"not a video")  # sorts between b and c
    with Project.init(tmp_path) as p:
        p.import_clips(tmp_path)
        from affectscope.app.services.commands import LabelCommand

        LabelCommand(p.db, p.clip(str(tmp_path / "c.mp4")).id, p.label_set, "positive", "ann").do()
    return tmp_path


@pytest.fixture
def window(qtbot, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "ann")
    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitActive(w):
        w.activateWindow()
    yield w
    w.workers.cancel_all()
    w.shutdown()


def _selected(window: MainWindow) -> str | None:
    browser = window.browser
    index = browser.table.currentIndex()
    return Path(browser.ordered_paths()[index.row()]).name if index.isValid() else None


def _press(qtbot, window: MainWindow, key: Qt.Key, want: str) -> None:
    window.player.view.setFocus()
    qtbot.keyClick(window.player.view, key)
    qtbot.waitUntil(lambda: window.loaded is not None and window.loaded.path.name == want, timeout=30000)
    assert _selected(window) == want


def test_page_keys_and_n_walk_the_list_from_the_player(window: MainWindow, qtbot, folder: Path) -> None:
    with qtbot.waitSignal(window.session.project_opened, timeout=30000):
        window.open_path(folder)
    qtbot.waitUntil(lambda: window.loaded is not None and window.loaded.path.name == "a.mp4", timeout=30000)
    qtbot.waitUntil(
        lambda: (
            (window.browser.model.row_for(folder / "broken.mp4") or None) is not None
            and window.browser.model.row_for(folder / "broken.mp4").error is not None
        ),
        timeout=30000,
    )
    qtbot.waitUntil(lambda: window.browser.model.row_for(folder / "c.mp4").extra.get("label") == "positive")
    _press(qtbot, window, Qt.Key.Key_PageDown, "b.mp4")
    _press(qtbot, window, Qt.Key.Key_PageDown, "c.mp4")  # the unreadable file is skipped
    _press(qtbot, window, Qt.Key.Key_PageUp, "b.mp4")
    _press(qtbot, window, Qt.Key.Key_N, "d.mp4")  # c is labelled: the next unlabelled is d
    window.player.view.setFocus()
    qtbot.keyClick(window.player.view, Qt.Key.Key_PageDown)  # nothing after the last clip
    assert window.loaded.path.name == "d.mp4" and "No clip after" in window.statusBar().currentMessage()
    # The list's own order counts: sorted by name descending, "next" goes up the alphabet.
    window.browser.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    _press(qtbot, window, Qt.Key.Key_PageDown, "c.mp4")
    from affectscope.app.qt.help_dialog import key_rows

    rows = dict(key_rows(window))  # the F1 sheet lists them
    assert rows["PgDown"] == "Next clip" and rows["PgUp"] == "Previous clip"
    assert rows["N"] == "Next unlabelled clip"


def test_the_browser_follows_a_clip_opened_elsewhere_and_open_clip_keeps_the_list(
    window: MainWindow, qtbot, folder: Path
) -> None:
    with qtbot.waitSignal(window.session.project_opened, timeout=30000):
        window.open_path(folder)
    qtbot.waitUntil(lambda: window.loaded is not None and window.loaded.path.name == "a.mp4", timeout=30000)
    window.load_clip(folder / "d.mp4")  # what the Evaluation dock and the queue do
    qtbot.waitUntil(lambda: window.loaded.path.name == "d.mp4", timeout=30000)
    assert _selected(window) == "d.mp4"
    listed = len(window.browser.model.rows)
    window.open_path(folder / "b.mp4")  # File ▸ Open clip… of one of the project's clips
    qtbot.waitUntil(lambda: window.loaded.path.name == "b.mp4", timeout=30000)
    assert len(window.browser.model.rows) == listed and _selected(window) == "b.mp4"
    assert window.session.project is not None and window.session.project.folder == folder.resolve()
