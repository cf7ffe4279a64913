"""The window, second pass (issue 22, a new-user walk after its items were built): the clip list's
Confidence column was cut at the default 1500×900, edge tick labels of the timeline lanes ran into the
neighbouring lane (the waveform's "-1" onto the spectrogram's "8k Hz"), and the Labels lane drew spans
only, never the clip's whole-clip label."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QPainter, QPicture

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.settings import Settings
from tests.window_factory import shown_window, two_clip_project


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return two_clip_project(tmp_path)


@pytest.fixture
def window(qtbot, folder: Path):
    yield from shown_window(qtbot, folder, ready=True)


def _settle(qtbot, window: MainWindow, width: int, height: int) -> None:
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width, timeout=5000)
    qtbot.wait(200)  # the dock keeper's resizeDocks runs on the next layout pass


def _fill_predictions(window: MainWindow) -> None:
    """What a model run writes into the list (the widest values the columns hold)."""
    model = window.browser.model
    for row in model.rows:
        model.set_value(row.path, "prediction", "negative")
        model.set_value(row.path, "confidence", 0.835)
        model.set_value(row.path, "label", "positive")


def _in_sight(window: MainWindow, key: str) -> tuple[bool, tuple[int, int, int]]:
    table = window.browser.table
    header, width = table.horizontalHeader(), table.viewport().width()
    col = [c.key for c in window.browser.model.columns].index(key)
    x, size = header.sectionViewportPosition(col), header.sectionSize(col)
    return x >= 0 and x + size <= width, (x, size, width)


def test_confidence_is_in_sight_at_the_default_size(window: MainWindow, qtbot) -> None:
    """At 1500×900 the Confidence column ran past the list's right edge (a sideways scroll to read it)."""
    _fill_predictions(window)
    _settle(qtbot, window, 1500, 900)
    for key in ("name", "label", "prediction", "confidence"):
        shown, where = _in_sight(window, key)
        assert shown, (key, where)
    header = window.browser.table.horizontalHeader()
    # Each column is at least as wide as its widest value or its title: readable, not elided.
    for key in ("label", "prediction", "confidence"):
        col = [c.key for c in window.browser.model.columns].index(key)
        assert header.sectionSize(col) >= header.sectionSizeHint(col), key
    assert header.sectionSize(0) >= 72
    # ... and at 1024×600 the three that matter most still are (the list is 250 px there).
    _settle(qtbot, window, 1024, 600)
    for key in ("name", "label", "prediction"):
        shown, where = _in_sight(window, key)
        assert shown, (key, where)


def _tick_texts(axis) -> list:  # noqa: ANN001 - a pyqtgraph AxisItem
    """The axis's tick texts as its paint lays them out (pyqtgraph's own ``paint`` does the same)."""
    picture = QPicture()
    painter = QPainter(picture)
    try:
        if axis.style["tickFont"]:
            painter.setFont(axis.style["tickFont"])
        return axis.generateDrawSpecs(painter)[2]
    finally:
        painter.end()


def _axis_text_rects(window: MainWindow) -> list[tuple[str, str, QRect, QRect]]:
    """(lane, tick text, the text's rectangle, its lane's plot widget) in window coordinates."""
    out = []
    for lane in window.timeline.lanes:
        if lane.plot is None or not lane.widget.isVisible():
            continue
        axis = lane.plot.getAxis("left")
        view = lane.widget
        for rect, _flags, text in _tick_texts(axis):
            scene = axis.mapRectToScene(QRectF(rect))
            in_view = view.mapFromScene(scene).boundingRect()
            top_left = view.mapTo(window, in_view.topLeft())
            lane_rect = QRect(view.mapTo(window, view.rect().topLeft()), view.size())
            out.append((lane.name, text, QRect(top_left, in_view.size()), lane_rect))
    return out


@pytest.mark.parametrize("size", [(1024, 600), (1500, 900), (1920, 1080)])
def test_no_lane_axis_text_overlaps_another_lane(window: MainWindow, qtbot, size: tuple[int, int]) -> None:
    """The waveform's "-1" (its range's bottom edge) was drawn half below its lane, over the
    spectrogram's top tick "8k Hz", which was itself cut at its lane's top: edge ticks now sit inside."""
    _settle(qtbot, window, *size)
    qtbot.waitUntil(lambda: window.spectrogram.is_ready, timeout=30000)
    window.grab()  # paint: the axes lay out their tick text
    texts = _axis_text_rects(window)
    names = {lane for lane, *_ in texts}
    assert {"Waveform", "Spectrogram"} <= names
    assert any(t == "-1" for lane, t, *_ in texts if lane == "Waveform")
    assert any(t == "8k Hz" for lane, t, *_ in texts if lane == "Spectrogram")
    for lane, text, rect, lane_rect in texts:
        assert lane_rect.contains(rect), (lane, text, rect, lane_rect)
    for i, (lane_a, text_a, a, _) in enumerate(texts):
        for lane_b, text_b, b, _ in texts[i + 1 :]:
            assert not a.intersects(b), (lane_a, text_a, a, lane_b, text_b, b)


def _lane_texts(window: MainWindow) -> list[str]:
    import pyqtgraph as pg

    plot = window.timeline.lane("Labels").plot
    return [i.textItem.toPlainText() for i in plot.items if isinstance(i, pg.TextItem) and i.isVisible()]


def _clip_band(window: MainWindow):  # noqa: ANN202
    """The visible item drawn across the whole lane for the clip (not a span's region)."""
    plot = window.timeline.lane("Labels").plot
    lane = window.labelling.lane
    spans = set(map(id, lane.regions.values()))
    vb = plot.getViewBox()
    (x0, x1), _ = vb.viewRange()
    for item in plot.items:
        if id(item) in spans or not item.isVisible() or item is window.timeline.lane("Labels").playhead:
            continue
        rect = item.mapRectToView(item.boundingRect()) if hasattr(item, "mapRectToView") else None
        if rect is not None and rect.left() <= x0 and rect.right() >= x1 and rect.height() < 0.5:
            return item
    return None


def test_the_labels_lane_shows_the_whole_clip_label_and_follows_relabels(window: MainWindow, qtbot) -> None:
    """Only spans were drawn: a clip labelled as a whole had an empty Labels lane."""
    panel = window.labelling
    labels = panel.project.labels()
    assert _clip_band(window) is None  # not labelled yet: nothing across the lane
    with qtbot.waitSignal(panel.state_changed, timeout=30000):
        panel.label(labels[0])
    assert any(t.startswith(f"whole clip: {labels[0]}") for t in _lane_texts(window)), _lane_texts(window)
    assert _clip_band(window) is not None
    # A span keeps its own look beside the band (a region of its own, its own words).
    with qtbot.waitSignal(panel.state_changed, timeout=30000):
        panel.mark_in(0.1)
        panel.mark_out(0.3)
        panel.label(labels[1])
    texts = _lane_texts(window)
    assert any(t.startswith(f"whole clip: {labels[0]}") for t in texts), texts
    assert any(t.startswith(labels[1]) for t in texts), texts
    assert len(panel.lane.regions) == 1 and _clip_band(window) not in panel.lane.regions.values()
    with qtbot.waitSignal(panel.state_changed, timeout=30000):
        panel.label(labels[2])  # relabel the clip
    texts = _lane_texts(window)
    assert any(t.startswith(f"whole clip: {labels[2]}") for t in texts), texts
    assert not any(t.startswith(f"whole clip: {labels[0]}") for t in texts), texts
    for _ in range(3):  # undo the relabel, the span and the first label: the band goes
        with qtbot.waitSignal(panel.state_changed, timeout=30000):
            panel.undo()
    assert not any(t.startswith("whole clip") for t in _lane_texts(window))
    assert _clip_band(window) is None


def test_a_window_sized_before_it_is_shown_keeps_the_columns_in_sight(qtbot, folder: Path) -> None:
    """`affectscope screenshot --size 1024x600` (and a first launch on a small screen) sizes the window
    before showing it: the clip list came out 208 px wide and Prediction was cut at its edge."""
    from affectscope.app.qt.clip_browser import MIN_WIDTH

    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    try:
        w.resize(1024, 600)
        w.show()
        with qtbot.waitSignal(w.session.project_opened, timeout=30000):
            w.open_path(folder)
        qtbot.waitUntil(lambda: w.labelling.state is not None, timeout=30000)
        _fill_predictions(w)
        qtbot.wait(200)
        assert (w.width(), w.height()) == (1024, 600)
        assert w.browser_dock.width() >= MIN_WIDTH, w.browser_dock.width()
        for key in ("name", "label", "prediction"):
            shown, where = _in_sight(w, key)
            assert shown, (key, where)
    finally:
        w.workers.cancel_all()
        w.shutdown()


def test_the_spectrogram_names_its_top_frequency_whatever_the_audio_rate(qtbot) -> None:
    """At 22.05 kHz (the demo's clips) the image ends at the last FFT bin under 8 kHz, 7988.8 Hz: the
    "8k Hz" tick at exactly 8000 lay outside the lane's range and was never drawn."""
    import numpy as np

    from affectscope.app.qt.clock import QtClock
    from affectscope.app.qt.spectrogram_lane import SpectrogramLane
    from affectscope.app.qt.timeline import TimelineView
    from affectscope.media.spectrogram import log_spectrogram

    rate = 22050
    t = np.arange(2 * rate) / rate
    spec = log_spectrogram((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate, 0.0)
    assert spec.max_freq < 8000  # the case the issue met
    view = TimelineView(QtClock())
    qtbot.addWidget(view)
    lane = SpectrogramLane()
    view.add_lane("Spectrogram", lane)
    view.set_duration(2.0)
    view.resize(800, 200)
    view.show()
    lane._on_computed(lane._generation, spec)
    view.grab()
    texts = [text for _rect, _flags, text in _tick_texts(view.lane("Spectrogram").plot.getAxis("left"))]
    assert texts and "8k Hz" in texts, texts
