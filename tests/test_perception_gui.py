"""The Perception panel in the real main window: analyse a real clip off the GUI thread, overlays
paint on the frame and can be switched off, lanes fill, cancel stops, the cache answers on reopen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectscope.app.qt.main_window import MainWindow
from affectscope.models.signals import ClipSignals


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.workers.cancel_all()
    w.workers.shutdown()


def _open(qtbot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.current_clip_changed, timeout=30000):
        window.load_clip(path)
    qtbot.waitUntil(lambda: window.player.view.frame is not None, timeout=10000)


def _frame_pixels(window: MainWindow) -> np.ndarray:
    img = window.player.view.grab().toImage()
    ptr = img.constBits()
    return np.array(ptr, copy=True).reshape(img.height(), img.bytesPerLine())


@pytest.mark.slow
def test_analyse_real_talking_face_shows_overlays_and_lanes(
    qtbot, window: MainWindow, shared_data: Path
) -> None:
    panel = window.perception
    panel.rate_hz = 2.0
    _open(qtbot, window, shared_data / "clips" / "woman2_unlabelled.mp4")
    assert panel.analyse_button.isEnabled()
    with qtbot.waitSignal(panel.analysed, timeout=60000) as blocker:
        panel.analyse_action.trigger()
        assert panel.cancel_button.isEnabled()  # the work runs off the GUI thread
    signals: ClipSignals = blocker.args[0]
    assert signals.track("face_count").values.max() == 1
    lanes = panel.lanes.lanes
    xs, ys = lanes["Expression"].curves[3].getData()  # happy
    assert len(xs) == len(signals.frame_times) and np.nanmax(ys) > 0
    assert len(lanes["Pose confidence"].curves[0].getData()[0]) > 0
    assert lanes["Voice activity"].note.toPlainText() == "clip has no audio track"
    assert "vad: clip has no audio track" in panel.reasons.text()
    # overlays paint at the shown time; switching them all off changes the picture
    window.clock.seek(float(signals.frame_times[3]))
    qtbot.waitUntil(lambda: window.player.view.frame_index >= 1, timeout=10000)
    assert panel.overlays[1].faces_at(window.player.view.frame_time)
    with_overlays = _frame_pixels(window)
    for box in panel.checks.values():
        box.setChecked(False)
    without = _frame_pixels(window)
    assert not all(o.visible for o in panel.overlays)
    assert np.count_nonzero(with_overlays != without) > 500
    # per-face expression mode lists the face track
    assert panel.expression_mode.findText("face 0") >= 0
    panel.expression_mode.setCurrentText("face 0")
    assert np.allclose(lanes["Expression"].curves[3].getData()[1], ys, equal_nan=True)


@pytest.mark.slow
def test_cancel_keeps_window_responsive_and_cache_answers_on_reopen(
    qtbot, window: MainWindow, shared_data: Path, tmp_path: Path
) -> None:
    from tests.clipfactory import make_clip

    panel = window.perception
    clip = make_clip(tmp_path / "speech.mp4", n_frames=100, fps=25, audio="speech")
    _open(qtbot, window, clip)
    panel.rate_hz = 25.0
    panel.analyse()
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=30000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.handle is None, timeout=10000)
    assert panel.status.text() == "Analysis cancelled." and panel.signals is None
    assert panel.analyse_button.isEnabled()
    # a full (fast) analysis, then reopening the clip reads the cache without the Analyse button
    panel.rate_hz = 2.0
    with qtbot.waitSignal(panel.analysed, timeout=60000):
        panel.analyse()
    panel.set_clip(str(clip))
    assert panel.signals is None
    with qtbot.waitSignal(panel.analysed, timeout=5000) as blocker:
        pass
    assert blocker.args[0].from_cache
    assert "loaded from the cache" in panel.status.text()
    assert panel.lanes.lanes["Faces"].note.toPlainText() == "no face found"
