"""Timeline lanes share one time axis and one playhead; clicking or dragging a lane seeks the clock."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QLabel

from affectscope.app.qt.clock import QtClock
from affectscope.app.qt.spectrogram_lane import SpectrogramLane
from affectscope.app.qt.timeline import TimelineView
from affectscope.app.qt.waveform_lane import WaveformLane
from affectscope.app.qt.workers import Workers
from affectscope.media import Audio
from affectscope.media.waveform import WaveformEnvelope


class PlayheadLabel(QLabel):
    """A widget lane as another engineer might write one: it follows time and range."""

    def __init__(self) -> None:
        super().__init__("widget lane")
        self.playhead = -1.0
        self.range = (0.0, 0.0)

    def set_playhead(self, t: float) -> None:
        self.playhead = t

    def set_view_range(self, t0: float, t1: float) -> None:
        self.range = (t0, t1)


@pytest.fixture
def timeline(qtbot):
    clock = QtClock()
    view = TimelineView(clock)
    qtbot.addWidget(view)
    view.resize(900, 400)
    view._keep = clock
    return view


def _lane_pixel(view: TimelineView, name: str, t: float) -> QPoint:
    lane = view.lane(name)
    vb = lane.plot.getViewBox()
    y = np.mean(vb.viewRange()[1])
    scene = vb.mapViewToScene(QPointF(t, y))
    return lane.widget.mapFromScene(scene)


def test_lanes_share_axis_and_playhead(timeline, qtbot) -> None:
    wave = WaveformLane()
    timeline.add_lane("Waveform", wave)
    timeline.add_lane("Scores", pg.PlotDataItem(np.linspace(0, 10, 50), np.random.default_rng(0).random(50)))
    widget_lane = PlayheadLabel()
    timeline.add_lane("Widget", widget_lane)
    timeline.show()
    qtbot.waitExposed(timeline)
    timeline.clock.set_duration(10.0)
    timeline.set_duration(10.0)
    timeline.clock.seek(3.25)
    assert timeline.playhead_positions() == [3.25, 3.25]
    assert widget_lane.playhead == 3.25
    timeline.zoom(0.25, centre=5.0)
    ranges = [lane.plot.getViewBox().viewRange()[0] for lane in timeline.lanes if lane.plot is not None]
    assert ranges[0] == pytest.approx(ranges[1]) and ranges[0] == pytest.approx([3.75, 6.25])
    assert widget_lane.range == pytest.approx((3.75, 6.25))
    with pytest.raises(ValueError):
        timeline.add_lane("Waveform", pg.PlotDataItem())
    # One time ruler for all, outside the scrolling lanes.
    assert not timeline.lane("Scores").plot.getAxis("bottom").isVisible()
    assert timeline.axis_widget.getPlotItem().getAxis("bottom").isVisible()
    timeline.remove_lane("Scores")
    replaced = timeline.add_lane("Scores", pg.PlotDataItem([0, 10], [0, 1]))
    timeline.clock.seek(7.5)
    assert [lane.name for lane in timeline.lanes] == ["Waveform", "Widget", "Scores"]
    assert replaced.playhead.value() == 7.5 and timeline.playhead_positions() == [7.5, 7.5]


def test_click_in_a_lane_seeks(timeline, qtbot) -> None:
    timeline.add_lane("A", pg.PlotDataItem([0, 20], [0, 1]))
    timeline.add_lane("B", pg.PlotDataItem([0, 20], [1, 0]))
    timeline.show()
    qtbot.waitExposed(timeline)
    timeline.clock.set_duration(20.0)
    timeline.set_duration(20.0)
    qtbot.mouseClick(
        timeline.lane("B").widget.viewport(), Qt.MouseButton.LeftButton, pos=_lane_pixel(timeline, "B", 12.0)
    )
    assert timeline.clock.position == pytest.approx(12.0, abs=20 / 800 * 2)
    assert timeline.playhead_positions() == [timeline.clock.position] * 2


def test_dragging_the_playhead_seeks(timeline, qtbot) -> None:
    timeline.add_lane("A", pg.PlotDataItem([0, 20], [0, 1]))
    timeline.show()
    qtbot.waitExposed(timeline)
    timeline.clock.set_duration(20.0)
    timeline.set_duration(20.0)
    timeline.clock.seek(4.0)
    viewport = timeline.lane("A").widget.viewport()
    start, end = _lane_pixel(timeline, "A", 4.0), _lane_pixel(timeline, "A", 15.0)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 11):
        qtbot.mouseMove(viewport, start + (end - start) * (k / 10))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert timeline.clock.position == pytest.approx(15.0, abs=0.2)
    assert timeline.view_range() == pytest.approx((0.0, 20.0)), "a playhead drag must not pan the view"


def test_waveform_lane_draws_per_pixel_and_says_when_there_is_no_audio(timeline, qtbot) -> None:
    rate = 8000
    samples = np.sin(np.arange(rate * 600) / 40.0).astype(np.float32) * 0.5
    wave = WaveformLane()
    timeline.add_lane("Waveform", wave)
    timeline.show()
    qtbot.waitExposed(timeline)
    timeline.clock.set_duration(600.0)
    timeline.set_duration(600.0)
    wave.set_envelope(WaveformEnvelope(samples, rate))
    width = int(timeline.lane("Waveform").plot.getViewBox().width())
    assert 0 < wave.points_drawn <= 2 * width + 2
    timeline.set_view_range(100.0, 100.01)  # 80 samples: drawn as samples
    assert wave.points_drawn == 2 * 80
    wave.set_envelope(None)
    assert wave.note.toPlainText() == "no audio track" and wave.points_drawn == 0


def test_spectrogram_lane_computes_off_thread_and_shows_the_image(timeline, qtbot) -> None:
    lane = SpectrogramLane()
    timeline.add_lane("Spectrogram", lane)
    workers = Workers()
    rate = 16000
    audio = Audio(np.sin(2 * np.pi * 500 * np.arange(rate * 3) / rate).astype(np.float32), rate, 0.0)
    with qtbot.waitSignal(lane.ready, timeout=10000):
        lane.compute(audio, workers)
    assert lane.spectrogram is not None and lane.image.image is not None
    assert lane.image.image.shape == lane.spectrogram.db.shape
    with qtbot.waitSignal(lane.ready, timeout=1000):
        lane.compute(None, workers)
    assert lane.note.toPlainText() == "no audio track"
    assert workers.shutdown()
