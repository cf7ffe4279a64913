"""Timeline lanes for a model's predictions: one lane per modality, the fused lane, seed 004's EWMA lane.

Each lane is a content object for ``TimelineView.add_lane`` drawing one class-probability curve per
label at the analysis windows' centres, with a legend, so the timeline's shared playhead and x axis
make it follow the clock. A lane whose modality had no input (no audio track, no face found) or whose
model is untrained shows why as a note over its curves rather than leaving the reader to guess.
``PredictionLanes`` adds and removes the set of lanes as analyses come and clips change.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer

from affectscope.app.qt.lane_content import NotedLane, add_legend
from affectscope.app.services.predict import LaneData

# Sentiment reads at a glance when its colours mean something; other label sets get a fixed palette.
SENTIMENT_COLOURS = {"positive": "#43a047", "neutral": "#9e9e9e", "negative": "#e53935"}
PALETTE = ("#e53935", "#8d6e63", "#8e24aa", "#fdd835", "#1e88e5", "#fb8c00", "#bdbdbd", "#26a69a")
LANE_PREFIX = "Predicted: "
PLACEHOLDER = LANE_PREFIX + "model"


def class_colours(labels: tuple[str, ...] | list[str]) -> list[str]:
    """A colour per class: positive green, neutral grey, negative red; a palette for other labels."""
    return [SENTIMENT_COLOURS.get(label, PALETTE[i % len(PALETTE)]) for i, label in enumerate(labels)]


def probs_at(times: np.ndarray, probs: np.ndarray, t: float) -> np.ndarray | None:
    """The probabilities of the window whose centre is nearest ``t`` (None when there are none)."""
    if len(times) == 0:
        return None
    return probs[int(np.argmin(np.abs(np.asarray(times) - t)))]


class ProbabilityLane(NotedLane):
    """Coloured probability curves of one lane with a legend and an optional note."""

    def __init__(self, labels: tuple[str, ...], value_range: tuple[float, float] | None = None) -> None:
        super().__init__()
        self.labels = labels
        self.value_range = value_range
        self.curves = [
            pg.PlotDataItem(pen=pg.mkPen(c, width=1.8), name=label)
            for c, label in zip(class_colours(labels), labels, strict=True)
        ]

    def _add_items(self, plot: pg.PlotItem) -> None:
        if self.labels:  # the placeholder lane has no classes and so no legend
            add_legend(plot, len(self.labels))
        for c in self.curves:
            plot.addItem(c)

    def _set_axes(self, plot: pg.PlotItem) -> None:
        lo, hi = self.value_range or (0.0, 1.0)
        plot.setYRange(lo, hi, padding=0.05)
        # Three ticks, not six: in a 64 px lane six numbers overlap one another.
        ticks = [(0.0, "0"), (0.5, ".5"), (1.0, "1")]
        if self.value_range is not None:  # a continuous output's own scale, e.g. -1, 0, 1 for valence
            ticks = [(v, f"{v:g}") for v in (lo, (lo + hi) / 2, hi)]
        plot.getAxis("left").setTicks([ticks, []])

    def set_data(
        self, times: np.ndarray, probs: np.ndarray | None, reason: str = "", window: float = 0.0
    ) -> None:
        """``probs`` (T, C) at ``times``; ``reason`` is shown over the curves when set."""
        xs = np.asarray(times, float)
        if probs is not None and len(xs) == 1 and window > 0:
            # A clip shorter than one window has one prediction: a point would draw nothing.
            xs, probs = np.array([xs[0] - window / 2, xs[0] + window / 2]), np.repeat(probs, 2, axis=0)
        for j, curve in enumerate(self.curves):
            if probs is None or len(xs) == 0:
                curve.setData([], [])
            else:
                curve.setData(xs, np.asarray(probs[:, j], float))
        self.say(reason)

    def curve_data(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = self.curves[self.labels.index(label)].getData()
        return (np.zeros(0), np.zeros(0)) if xs is None else (xs, ys)


class PredictionLanes:
    """The prediction lanes on a timeline: ``show(lanes)`` replaces them, ``clear(reason)`` resets."""

    def __init__(self, timeline) -> None:  # noqa: ANN001 - TimelineView
        self.timeline = timeline
        self.lanes: dict[str, ProbabilityLane] = {}
        self.data: dict[str, LaneData] = {}
        self._added: list[str] = []  # timeline lane names, to take them away again
        self._reveal_pending = False
        self._also: list[str] = []  # lanes added below these since, kept in sight with them
        timeline.scroll.verticalScrollBar().rangeChanged.connect(lambda *_: self.reveal())
        self.placeholder: ProbabilityLane | None = None  # the one lane shown before any prediction
        self.clear("no predictions yet: Models tab ▸ Run model (Ctrl+R)")

    def _remove_all(self) -> None:
        for name in self._added:
            self.timeline.remove_lane(name)
        self._added = []
        self.lanes = {}
        self.data = {}

    def clear(self, reason: str) -> None:
        """Empty the lanes, each saying why (not run yet, running, cancelled); they keep their place."""
        self.data = {}
        if not self._added:
            self.placeholder = ProbabilityLane(())
            self.timeline.add_lane(PLACEHOLDER, self.placeholder)
            self._added.append(PLACEHOLDER)
        for lane in (*self.lanes.values(), self.placeholder):
            if lane is not None:
                lane.set_data(np.zeros(0), None, reason)

    def show(self, lanes: list[LaneData]) -> None:
        """Show one lane per ``LaneData``; the same set of lanes as before is refilled in place."""
        same = [d.name for d in lanes] == list(self.lanes) and all(
            (self.lanes[d.name].labels, self.lanes[d.name].value_range) == (d.labels, d.value_range)
            for d in lanes
        )
        if not same:
            self._remove_all()
            self.placeholder = None
            for d in lanes:
                self.lanes[d.name] = ProbabilityLane(d.labels, d.value_range)
                self.timeline.add_lane(LANE_PREFIX + d.name, self.lanes[d.name])
                self._added.append(LANE_PREFIX + d.name)
        for d in lanes:
            missing = d.extra.get("missing", False)
            self.lanes[d.name].set_data(d.times, None if missing else d.probs, d.reason, d.window)
            self.data[d.name] = d
        # New lanes reach the scroll area's range only after the layout ran: reveal once they have.
        self._reveal_pending = True
        QTimer.singleShot(0, self.reveal)

    def show_ablated(self, times: np.ndarray, probs: np.ndarray, gone: list[str]) -> None:
        """Redraw the fused lane as fused without the ``gone`` modalities (the Explain tab's boxes);
        none gone draws the model's own fused lane again. The stored numbers stay the model's."""
        lane, d = self.lanes.get("fused"), self.data.get("fused")
        if lane is None or d is None:
            return
        if not gone:
            lane.set_data(d.times, d.probs, d.reason, d.window)
        else:
            note = f"without {', '.join(gone)} (Explain tab)"
            lane.set_data(times, probs, "; ".join(filter(None, (note, d.reason))), d.window)

    def reveal_with(self, names: list[str]) -> None:
        """Bring the prediction lanes back in sight together with ``names``: lanes added since (the
        Explain tab's contribution lane below them; its sound lane above pushes them down)."""
        self._also = list(names)
        self._reveal_pending = True
        QTimer.singleShot(0, self.reveal)

    def reveal(self) -> None:
        """Scroll the timeline so the prediction lanes are in sight (they sit below the others)."""
        names = {lane.name for lane in self.timeline.lanes}
        if not self._reveal_pending or not self._added or any(n not in names for n in self._added):
            return
        scroll = self.timeline.scroll
        shown = [self.timeline.lane(n) for n in self._added + [n for n in self._also if n in names]]
        first, last = shown[0], max(shown, key=lambda lane: lane.widget.y())
        top, bottom = first.widget.y(), last.widget.geometry().bottom()
        if any(lane.widget.y() <= 0 and lane is not self.timeline.lanes[0] for lane in shown):
            return  # not laid out yet (a new lane sits at y 0): the range change after layout calls again
        # Scrolled by the lanes' geometry, not ensureWidgetVisible: a plot lane is a QGraphicsView,
        # whose empty input-method rectangle made that scroll to the lane's top edge only, which left
        # the lane itself below the viewport (the how-to's imported lanes were out of sight).
        bar, view = scroll.verticalScrollBar(), scroll.viewport().height()
        bar.setValue(min(max(bar.value(), bottom - view + 1), top))
        if bottom - bar.value() < view or top <= bar.value():
            self._reveal_pending = False

    def at(self, t: float) -> dict[str, np.ndarray]:
        """Each lane's probabilities at media time ``t``."""
        out = {}
        for name, d in self.data.items():
            if d.extra.get("missing", False):
                continue  # no input: no numbers to read out
            p = probs_at(d.times, d.probs, t)
            if p is not None:
                out[name] = p
        return out
