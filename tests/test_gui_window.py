"""The main window end to end: demo project, keyboard, timeline seeks, bad files, silent clips, cancel."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.settings import Settings
from tests.clipfactory import make_clip, make_corrupt_files, read_index


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("window")
    make_clip(d / "a_good.mp4", n_frames=75, fps=25, gop=12, audio="speech")
    make_clip(d / "b_silent.mp4", n_frames=50, fps=25, gop=12)
    make_corrupt_files(d)
    return d


@pytest.fixture
def window(qtbot):
    before = set(threading.enumerate())
    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    w.resize(1400, 900)
    yield w
    w.shutdown()
    w.close()
    qtbot.waitUntil(lambda: not (set(threading.enumerate()) - before - _pool_threads()), timeout=5000)


def _pool_threads() -> set[threading.Thread]:
    # Idle QThreadPool threads show up as dummy Python threads once they ran Python code.
    return {t for t in threading.enumerate() if isinstance(t, threading._DummyThread)}


def _open(window: MainWindow, qtbot, path: Path) -> None:
    with qtbot.waitSignal(window.ready, timeout=30000):
        window.open_path(path)


def _activate(window: MainWindow, qtbot) -> None:
    window.show()
    with qtbot.waitActive(window):
        window.activateWindow()
    window.player.view.setFocus()


def test_window_opens_on_the_demo_project(window, qtbot) -> None:
    from affectscope.app.services.demo import demo_project_dir

    demo = demo_project_dir()
    _open(window, qtbot, demo)
    clips = sorted((demo / "clips").glob("*.mp4"))
    assert window.browser.model.rowCount() == len(clips) >= 1
    assert window.loaded is not None and window.loaded.path == clips[0]
    assert window.player.view.frame is not None and window.player.view.frame_index == 0
    names = [lane.name for lane in window.timeline.lanes]
    assert names[:2] == ["Waveform", "Spectrogram"]
    assert window.waveform.points_drawn > 0 and window.spectrogram.image.image is not None
    qtbot.waitUntil(lambda: window.browser.model.rows[0].info is not None, timeout=10000)


def test_keyboard_steps_move_frame_and_every_playhead_together(window, qtbot, folder) -> None:
    _open(window, qtbot, folder / "a_good.mp4")
    _activate(window, qtbot)
    times = window.loaded.times

    def press(key, modifier=Qt.KeyboardModifier.NoModifier, expect: int | None = None) -> None:
        with qtbot.waitSignal(window.player.frame_shown, timeout=5000) as blocker:
            qtbot.keyClick(window, key, modifier)
        if expect is not None:
            assert blocker.args[0] == expect
        assert read_index(window.player.view.frame) == window.player.view.frame_index
        assert window.timeline.playhead_positions() == [window.clock.position] * len(window.timeline.lanes)

    press(Qt.Key.Key_Right, expect=1)
    assert window.clock.position == times[1]
    press(Qt.Key.Key_Right, expect=2)
    press(Qt.Key.Key_Left, expect=1)
    press(Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier, expect=26)  # 1 s at 25 fps
    press(Qt.Key.Key_End, expect=74)
    press(Qt.Key.Key_Home, expect=0)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.clock.playing
    qtbot.waitUntil(lambda: window.player.view.frame_index > 3, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.clock.playing
    qtbot.keyClick(window, Qt.Key.Key_L)
    assert window.clock.playing and window.clock.rate == 1.0
    qtbot.keyClick(window, Qt.Key.Key_L)
    assert window.clock.rate == 2.0
    assert "muted" in window.audio.status or "no output device" in window.audio.status
    qtbot.keyClick(window, Qt.Key.Key_K)
    assert not window.clock.playing


def test_clicking_the_timeline_shows_that_frame(window, qtbot, folder) -> None:
    _open(window, qtbot, folder / "a_good.mp4")
    window.show()
    qtbot.waitExposed(window)
    lane = window.timeline.lane("Waveform")
    vb = lane.plot.getViewBox()
    pos = lane.widget.mapFromScene(vb.mapViewToScene(QPointF(2.0, 0.0)))
    with qtbot.waitSignal(window.player.frame_shown, timeout=5000) as blocker:
        qtbot.mouseClick(lane.widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert window.clock.position == pytest.approx(2.0, abs=0.05)
    assert blocker.args[0] == window.player.index_at(window.clock.position)
    assert read_index(window.player.view.frame) == blocker.args[0]
    assert window.transport_slider_seconds() == pytest.approx(window.clock.position, abs=1e-3)


@pytest.mark.parametrize("bad", ["empty", "not-video", "truncated"])
def test_bad_files_say_what_is_wrong_without_crashing(window, qtbot, folder, bad) -> None:
    _open(window, qtbot, folder / "a_good.mp4")
    path = folder / f"{bad}.mp4"
    window.browser.set_paths(sorted(folder.glob("*.mp4")), folder)
    with qtbot.waitSignal(window.error_shown, timeout=15000) as blocker:
        window.browser.select(path)
        window.browser.clip_activated.emit(str(path))
    title, message = blocker.args
    assert path.name in message or "damaged" in message or "empty" in message
    row = window.browser.model.row_for(path)
    assert row.error == message
    assert message in window.statusBar().currentMessage()
    assert window.error_dialog.isVisible() and window.error_dialog.text() == message
    assert window.player.view.frame is None and path.name in window.player.view.message
    # The window goes on working: the good clip loads again.
    window.error_dialog.close()
    with qtbot.waitSignal(window.ready, timeout=15000):
        window.browser.clip_activated.emit(str(folder / "a_good.mp4"))
    assert read_index(window.player.view.frame) == 0


def test_clip_without_audio_plays_silently_and_says_so(window, qtbot, folder) -> None:
    _open(window, qtbot, folder / "b_silent.mp4")
    assert window.waveform.note.toPlainText() == "no audio track"
    assert window.spectrogram.note.toPlainText() == "no audio track"
    assert window.player.transport.audio_label.text() == "Audio: no audio track"
    window.clock.play()
    qtbot.waitUntil(lambda: window.player.view.frame_index >= 5, timeout=5000)
    window.clock.pause()
    assert window.clock.position > 0.15


def test_a_long_job_can_be_cancelled_while_the_window_keeps_working(window, qtbot, folder) -> None:
    from tests.test_gui_workers import count_to

    _open(window, qtbot, folder / "a_good.mp4")
    handle = window.workers.start(count_to, (10**6,), {"gate": threading.Event()}, title="Long analysis")
    qtbot.waitUntil(lambda: handle.job.done > 2, timeout=5000)
    assert not window.job_progress.isHidden()
    with qtbot.waitSignal(window.player.frame_shown, timeout=5000):
        window.player.step(5)  # the player still answers while the job runs
    assert read_index(window.player.view.frame) == 5
    with qtbot.waitSignal(handle.cancelled, timeout=5000):
        window.job_progress.cancel_button.click()
    qtbot.waitUntil(lambda: window.job_progress.isHidden(), timeout=5000)
