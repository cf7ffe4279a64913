"""Overlays between analysed frames (issue 14): what is drawn there comes from the nearest analysed
frame before, so it is drawn dashed and faded; the analysis rate is chosen in the Perception tab."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.qt.overlays import FaceBoxOverlay
from affectscope.app.services.settings import Settings
from affectscope.models.signals import ClipSignals


def test_overlay_between_analysed_frames_is_dashed_and_faded() -> None:
    overlay = FaceBoxOverlay()
    t = np.array([0.0, 0.4, 0.8])
    overlay.set_signals(ClipSignals("x", 1.0, 320, 240, t, [[], [], []]))
    assert overlay.frame_at(0.4) == 1 and not overlay.held
    solid = overlay.pen(QColor("#ff0000"))
    assert solid.style() == Qt.PenStyle.SolidLine and solid.color().alpha() == 255
    assert overlay.frame_at(0.6) == 1 and overlay.held
    held = overlay.pen(QColor("#ff0000"))
    assert held.style() == Qt.PenStyle.DashLine and held.color().alpha() < 255
    assert overlay.frame_at(0.8) == 2 and not overlay.held


def test_analysis_rate_is_chosen_in_the_perception_tab(qtbot) -> None:
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    try:
        panel = window.perception
        assert panel.rate_hz == 10.0 and panel.rate_box.currentData() == 10.0
        panel.rate_box.setCurrentIndex(panel.rate_box.findData(2.0))
        assert panel.rate_hz == 2.0
        panel.set_rate(25.0)
        assert panel.rate_hz == 25.0 and "25 frames/s" in panel.rate_box.currentText()
    finally:
        window.shutdown()


def test_the_analysis_rate_comes_back_after_a_restart(qtbot) -> None:
    settings = Settings()
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    first.perception.set_rate(5.0)
    first.shutdown()
    assert settings.analysis_rate_hz == 5.0
    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    try:
        assert second.perception.rate_hz == 5.0 and second.perception.rate_box.currentData() == 5.0
    finally:
        second.shutdown()
