"""The prediction lanes come into sight when they are drawn (issue 20, docs/byo.md followed as a new
user): they sit below the perception lanes, and the timeline scrolls to them. Before, the scroll went
by ``ensureWidgetVisible``, which for a plot lane (a QGraphicsView, with an empty input-method
rectangle) stopped at the lane's top edge: the imported model's fused lane stayed out of sight."""

from __future__ import annotations

import numpy as np
import pytest

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.predict import LaneData
from affectscope.app.services.settings import Settings
from affectscope.models.signals import EXPRESSIONS, ClipSignals, Track

LABELS = ("positive", "neutral", "negative")


def _signals() -> ClipSignals:
    t = np.arange(50) / 10.0
    ones = np.ones(50, np.float32)
    tracks = {
        "face_count": Track(t, ones),
        "expression_mean": Track(t, np.full((50, 7), 1 / 7, np.float32), EXPRESSIONS),
        "mouth_open": Track(t, ones * 0.5),
        "vad": Track(t, ones * 0.5),
        "laughter": Track(t, ones * 0.1),
        "pose_confidence": Track(t, ones),
    }
    return ClipSignals("x", 5.0, 320, 240, t, [[] for _ in t], tracks)


def _lane(name: str) -> LaneData:
    times = np.arange(0.5, 5.0, 0.5)
    probs = np.tile([0.2, 0.3, 0.5], (len(times), 1))
    return LaneData(name, times, probs, LABELS, window=1.0)


@pytest.mark.parametrize("names", [("fused",), ("face", "audio", "fused")])
def test_drawn_prediction_lanes_are_scrolled_into_sight(qtbot, names: tuple[str, ...]) -> None:  # noqa: ANN001
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    window.resize(1600, 1000)  # affectscope screenshot's default size, as the how-to takes it
    window.show()
    try:
        timeline = window.timeline
        window.perception.lanes.show(_signals())  # the perception lanes a predicted clip has above
        qtbot.waitUntil(lambda: timeline.scroll.verticalScrollBar().maximum() > 0, timeout=10_000)
        window.models.lanes.show([_lane(n) for n in names])
        lanes = [timeline.lane(f"Predicted: {n}") for n in names]
        bar, view = timeline.scroll.verticalScrollBar(), timeline.scroll.viewport()

        def in_sight() -> bool:
            top, bottom = lanes[0].widget.y(), lanes[-1].widget.geometry().bottom()
            return bar.value() <= top and bottom < bar.value() + view.height()

        # laid out below the perception lanes (before layout every new widget sits at y 0)
        qtbot.waitUntil(lambda: lanes[0].widget.y() > timeline.lane("Labels").widget.y(), timeout=10_000)

        qtbot.waitUntil(in_sight, timeout=10_000)
        assert lanes[-1].widget.height() > 20
    finally:
        window.shutdown()


def test_lanes_the_explanation_adds_keep_the_prediction_lanes_in_sight(qtbot) -> None:  # noqa: ANN001
    """The Explain tab then adds its sound lane under the spectrogram (pushing everything down) and its
    contribution lane below the prediction lanes: all of the model's lanes come back into sight."""
    from affectscope.app.qt.explain_lanes import place_under

    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    try:
        timeline = window.timeline
        window.perception.lanes.show(_signals())
        qtbot.waitUntil(lambda: timeline.scroll.verticalScrollBar().maximum() > 0, timeout=10_000)
        window.models.lanes.show([_lane("fused")])
        fused = timeline.lane("Predicted: fused")
        qtbot.waitUntil(lambda: fused.widget.y() > timeline.lane("Labels").widget.y(), timeout=10_000)
        timeline.add_lane("Sound saliency", None, height=80)
        place_under(timeline, "Sound saliency", "Spectrogram")
        below = timeline.add_lane("Modality contribution", None)
        window.models.lanes.reveal_with(["Modality contribution"])
        bar, view = timeline.scroll.verticalScrollBar(), timeline.scroll.viewport()

        def in_sight() -> bool:
            top, bottom = fused.widget.y(), below.widget.geometry().bottom()
            return (
                top > timeline.lane("Labels").widget.y()
                and bar.value() <= top
                and bottom < bar.value() + view.height()
            )

        qtbot.waitUntil(lambda: below.widget.y() > fused.widget.y(), timeout=10_000)
        qtbot.waitUntil(in_sight, timeout=10_000)
    finally:
        window.shutdown()
