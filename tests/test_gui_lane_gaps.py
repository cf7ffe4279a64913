"""Perception lanes (issue 14): the expression lane names its seven lines in a legend, and lanes whose
input is a face show a gap where no face was found instead of a confident line."""

from __future__ import annotations

import numpy as np

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.settings import Settings
from affectscope.models.signals import EXPRESSIONS, ClipSignals, Track


def _signals() -> ClipSignals:
    t = np.arange(6) / 10.0
    counts = np.array([1, 1, 0, 0, 1, 2], np.float32)
    expr = np.full((6, 7), 1 / 7, np.float32)
    expr[2:4] = 0.0  # what an extractor may store for "no face": zeros that would draw as a line
    tracks = {
        "face_count": Track(t, counts),
        "expression_mean": Track(t, expr, EXPRESSIONS),
        "expression_min": Track(t, expr, EXPRESSIONS),
        "expression_max": Track(t, expr, EXPRESSIONS),
        "mouth_open": Track(t, np.array([0.2, 0.3, 0.0, 0.0, 0.4, 0.5], np.float32)),
        "vad": Track(t, np.zeros(6, np.float32)),
    }
    return ClipSignals("x", 0.6, 320, 240, t, [[] for _ in t], tracks)


def test_expression_legend_and_gaps_where_no_face(qtbot) -> None:
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    try:
        lanes = window.perception.lanes
        lanes.show(_signals())
        expression = lanes.lanes["Expression"]
        names = [label.text for _, label in expression.legend.items]
        assert names == list(EXPRESSIONS)
        for curve in expression.curves:
            _, ys = curve.getData()
            assert np.isnan(ys[2:4]).all() and np.isfinite(ys[[0, 1, 4, 5]]).all()
        _, mouth = lanes.lanes["Mouth open"].curves[0].getData()
        assert np.isnan(mouth[2:4]).all() and np.allclose(mouth[[0, 1, 4, 5]], [0.2, 0.3, 0.4, 0.5])
        _, vad = lanes.lanes["Voice activity"].curves[0].getData()
        assert np.isfinite(vad).all()  # not a face lane: no gaps
        assert not hasattr(lanes.lanes["Mouth open"], "legend")  # one line needs no legend
    finally:
        window.shutdown()


def test_lane_axes_carry_few_numbers_so_they_do_not_overlap(qtbot) -> None:
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    try:
        window.perception.lanes.show(_signals())
        for name in ("Expression", "Mouth open", "Faces"):
            ticks = window.timeline.lane(name).plot.getAxis("left")._tickLevels
            assert len(ticks[0]) == 3 and ticks[1] == []
        assert [label for _, label in window.timeline.lane("Faces").plot.getAxis("left")._tickLevels[0]] == [
            "0",
            "1.5",
            "3",
        ]
        placeholder = window.models.lanes.placeholder
        assert [label for _, label in placeholder.plot.getAxis("left")._tickLevels[0]] == ["0", ".5", "1"]
    finally:
        window.shutdown()


def test_the_expression_legend_sits_above_its_curves(qtbot) -> None:
    """Issue 22 item 10: the expression lane's legend covered its curves (the lane's top is data)."""
    import numpy as np
    import pyqtgraph as pg

    from affectscope.app.qt.perception_lanes import TrackLane

    names = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    lane = TrackLane("Expression", ("#f00",) * 7, names=names)
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(700, 80)  # a lane's height in the window
    lane.attach(widget.getPlotItem())
    t = np.linspace(0, 5, 50)
    lane.set_data(t, np.column_stack([np.full(50, 1.0)] + [np.zeros(50)] * 6))  # one curve along the top
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(50)
    vb = widget.getPlotItem().getViewBox()
    legend_bottom = vb.mapSceneToView(lane.legend.sceneBoundingRect().bottomLeft()).y()
    assert legend_bottom >= 1.0  # the whole legend is above the highest value a curve can take
    assert [v for v, _ in widget.getPlotItem().getAxis("left")._tickLevels[0]] == [0.0, 0.5, 1.0]
