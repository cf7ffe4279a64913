"""The window as a new user meets it (issue 14): focus never left in a text field after creating a
project, the annotator remembered per project, a clip that cannot be opened clears every view, a
layout that holds through text changes and resizing, and a folder with broken files that opens on a
good clip, says each error once and counts honestly."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QWidget

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.settings import Settings, load_settings
from tests.clipfactory import make_clip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_clip(tmp_path / "a.mp4", n_frames=50, fps=25, audio="tone")
    make_clip(tmp_path / "b.mp4", n_frames=30, fps=25)
    return tmp_path


def _window(qtbot, settings: Settings | None = None) -> MainWindow:
    w = MainWindow(settings=settings if settings is not None else Settings())
    qtbot.addWidget(w)
    return w


@pytest.fixture
def window(qtbot, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "ann")
    w = _window(qtbot)
    yield w
    w.workers.cancel_all()
    w.shutdown()


def _open_and_activate(window: MainWindow, qtbot, path: Path) -> None:
    with qtbot.waitSignal(window.ready, timeout=30000):
        window.open_path(path)
    window.show()
    with qtbot.waitActive(window):
        window.activateWindow()
    window.player.view.setFocus()


# ---------------------------------------------------------------- bug 2: focus after creating a project
def test_label_key_after_creating_a_project_labels_instead_of_renaming_the_annotator(
    window: MainWindow, qtbot, folder: Path
) -> None:
    panel = window.labelling
    _open_and_activate(window, qtbot, folder / "a.mp4")
    panel.create_button.setFocus()  # a mouse click gives the button the focus
    with qtbot.waitSignal(panel.session.project_opened, timeout=30000):
        qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.state is not None, timeout=10000)
    focused = QApplication.focusWidget()
    # Under X the hidden button hands its focus to the next field (the Annotator box, where "1" then
    # typed); offscreen the hidden button keeps it. Either way the keyboard must be back on the player.
    assert focused is window.player.view, focused
    with qtbot.waitSignal(panel.state_changed, timeout=10000):
        qtbot.keyClick(focused or window, Qt.Key.Key_1)
    assert panel.annotator_box.currentText() == "ann" and panel.project.annotator == "ann"
    assert panel.state.clip.label == "positive" and panel.state.clip.label_by == "ann"


# ---------------------------------------------------------------- bug 3: annotator remembered per project
def test_the_chosen_annotator_comes_back_after_a_restart(qtbot, monkeypatch, folder: Path) -> None:
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "login-name")
    from affectscope.app.services.project import Project

    with Project.init(folder) as p:
        p.import_clips(folder)
    first = _window(qtbot, load_settings())
    panel = first.labelling
    with qtbot.waitSignal(panel.session.project_opened, timeout=30000):
        first.open_path(folder / "a.mp4")
    qtbot.waitUntil(lambda: panel.state is not None, timeout=10000)
    assert panel.project.annotator == "login-name"
    panel.annotator_box.setCurrentText("alice")
    panel.annotator_box.lineEdit().editingFinished.emit()
    qtbot.waitUntil(lambda: first.settings.annotators.get(str(folder.resolve())) == "alice", timeout=10000)
    assert panel.project.annotator == "alice"
    first.close()  # saves the settings as quitting does
    first.shutdown()

    second = _window(qtbot, load_settings())
    try:
        with qtbot.waitSignal(second.session.project_opened, timeout=30000):
            second.open_path(folder / "b.mp4")
        assert second.session.project.annotator == "alice"
        assert second.labelling.annotator_box.currentText() == "alice"
    finally:
        second.shutdown()


# ---------------------------------------------------------------- bug 4: a failed clip clears every view
def test_a_clip_that_cannot_be_opened_clears_every_view(window: MainWindow, qtbot, folder: Path) -> None:
    broken = folder / "broken.mp4"
    broken.write_text("not a video\n" * 50)
    from affectscope.app.services.project import Project

    with Project.init(folder) as p:
        p.import_clips(folder)
    with qtbot.waitSignal(window.session.project_opened, timeout=30000):
        window.open_path(folder / "a.mp4")
    qtbot.waitUntil(lambda: window.is_ready and window.labelling.state is not None, timeout=30000)
    assert "a.mp4" in window.models.status.text() and "a.mp4" in window.perception.status.text()
    assert window.timeline.duration == pytest.approx(2.0, abs=0.1)

    with qtbot.waitSignal(window.error_shown, timeout=30000):
        window.load_clip(broken)
    for text in (window.models.status.text(), window.perception.status.text()):
        assert "a.mp4" not in text and "broken.mp4" in text
    assert window.models.result is None and not window.models.run_button.isEnabled()
    assert window.models.lanes.data == {}
    assert all("broken.mp4" in lane.reason for lane in window.models.lanes.lanes.values())
    assert window.perception.signals is None and not window.perception.analyse_button.isEnabled()
    assert window.timeline.duration == 0.0 and window.clock.duration == 0.0
    assert window.labelling.clip_path is None and window.labelling.lane.spans == []
    assert window.labelling.history.records == []
    assert "a.mp4" not in window.labelling.current_label.text()
    assert all(label.text() == "–" for label in window.clip_panel.values.values())


# ---------------------------------------------------------------- bug 5: a layout that holds
def _inside(window: MainWindow, widget: QWidget) -> bool:
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return window.rect().contains(QRect(top_left, widget.size()))


def test_layout_holds_through_text_changes_and_small_and_large_sizes(
    window: MainWindow, qtbot, folder: Path
) -> None:
    _open_and_activate(window, qtbot, folder / "a.mp4")
    qtbot.waitUntil(lambda: window.dock_widths.preferred[window.browser_dock] == window.browser_dock.width())
    browser_width = window.browser_dock.width()
    field_width = window.player.transport.time_field.width()
    minimum = window.minimumSizeHint()
    assert browser_width >= 300 and field_width >= 80

    long = "a very long status sentence that a panel may show while the user works " * 3
    window.player.transport.audio_label.setText("audio: " + long)
    window.models.status.setText(long)
    window.perception.status.setText(long)
    window.player.transport.set_frame_text(12344, 99999)
    for i in range(window.inspector.count()):
        window.inspector.setCurrentIndex(i)
        QApplication.processEvents()
    assert window.minimumSizeHint() == minimum  # no text widens the window's minimum
    assert abs(window.browser_dock.width() - browser_width) <= 2  # the clip panel does not narrow
    assert window.player.transport.time_field.width() == field_width  # "Go to" keeps its size

    # A laptop-sized minimum that the window declares and keeps: nothing is cut off at it.
    assert minimum.width() <= 1024 and minimum.height() <= 600
    window.resize(500, 400)
    qtbot.waitUntil(lambda: window.width() < 1200)
    assert window.width() >= minimum.width() and window.height() >= minimum.height()
    t = window.player.transport
    for widget in (t.play_button, t.end_button, t.time_field, t.speed_box, t.frame_label, t.time_label):
        assert widget.isVisible() and _inside(window, widget), widget
        assert widget.width() >= widget.minimumSizeHint().width()
    for dock in (window.browser_dock, window.inspector_dock):
        assert _inside(window, dock) and dock.width() >= dock.minimumSizeHint().width()

    window.resize(1500, 950)
    qtbot.waitUntil(lambda: abs(window.browser_dock.width() - browser_width) <= 2, timeout=5000)
    assert window.player.transport.time_field.width() == field_width


# ---------------------------------------------------------------- bug 8: broken files, once, honest counts
def test_folder_with_broken_files_opens_on_a_good_clip_says_each_error_once_and_counts_honestly(
    window: MainWindow, qtbot, tmp_path: Path
) -> None:
    (tmp_path / "a_broken.mp4").write_text("renamed text file\n" * 40)
    make_clip(tmp_path / "b_good.mp4", n_frames=30, fps=25)
    (tmp_path / "c_empty.mp4").write_bytes(b"")
    make_clip(tmp_path / "d_good.mp4", n_frames=20, fps=25)
    errors: list[tuple[str, str]] = []
    window.error_shown.connect(lambda title, message: errors.append((title, message)))
    with qtbot.waitSignal(window.current_clip_changed, timeout=30000) as opened:
        window.open_path(tmp_path)
    assert Path(opened.args[0]).name == "b_good.mp4" and errors == []  # the broken first file is skipped
    qtbot.waitUntil(lambda: "2 clips, 2 unreadable" in window.browser.count_label.text(), timeout=30000)
    assert window.browser.model.row_for(tmp_path / "a_broken.mp4").error

    for _ in range(2):  # clicking the red row again: the error once as a dialog, then quietly
        with qtbot.waitSignal(window.clip_failed, timeout=30000):
            window.browser.clip_activated.emit(str(tmp_path / "c_empty.mp4"))
        with qtbot.waitSignal(window.current_clip_changed, timeout=30000):
            window.browser.clip_activated.emit(str(tmp_path / "d_good.mp4"))
    assert [title for title, _ in errors] == ["Cannot open this clip"]

    panel = window.labelling
    with qtbot.waitSignal(panel.session.notice, timeout=30000) as notice:
        panel.create_button.click()
    assert "2 clips added, 2 could not be read" in notice.args[0]
    assert "a_broken.mp4" in notice.args[0] and "c_empty.mp4" in notice.args[0]
    qtbot.waitUntil(lambda: "2 clips added" in window.statusBar().currentMessage())


def test_a_window_that_starts_small_gives_the_clip_panel_its_width_back_when_grown(qtbot) -> None:
    """A restart into a small window (a small screen, a restored small geometry) squeezes the docks;
    that squeeze must not become the remembered width."""
    window = _window(qtbot)
    try:
        window.resize(500, 400)
        window.show()
        qtbot.waitUntil(lambda: window.dock_widths._shown)
        qtbot.wait(50)  # the first-show bookkeeping runs on the next turn of the event loop
        assert window.browser_dock.width() < 200
        window.resize(1600, 1000)
        qtbot.waitUntil(lambda: window.browser_dock.width() >= 400, timeout=5000)
    finally:
        window.shutdown()
