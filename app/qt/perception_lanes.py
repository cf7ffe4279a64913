"""Timeline lanes for perception: faces, expression, mouth open, voice activity, laughter, pose.

Each lane is a content object for ``TimelineView.add_lane`` (it builds its pyqtgraph items in
``attach``) showing one track of ``ClipSignals`` as curves over media time; the timeline's shared
playhead and x axis make them follow the clock like the waveform. An empty track shows its reason
("no face found", "clip has no audio track") in the lane instead of a curve.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyqtgraph as pg

from affectscope.models.signals import EXPRESSIONS, ClipSignals

EXPRESSION_COLOURS = ("#e53935", "#8d6e63", "#8e24aa", "#fdd835", "#1e88e5", "#fb8c00", "#bdbdbd")


LEGEND_ROOM = 0.45  # share of the data's range added above it for a one-row legend


class TrackLane:
    """Curves of one or more columns of a track, a y range, and a note for empty tracks."""

    def __init__(
        self,
        title: str,
        colours: tuple[str, ...],
        y_range: tuple[float, float] = (0.0, 1.0),
        step: bool = False,
        names: tuple[str, ...] = (),
    ) -> None:
        self.title = title
        self.y_range = y_range
        self.step = step
        self.plot: pg.PlotItem | None = None
        self.curves = [
            pg.PlotDataItem(pen=pg.mkPen(c, width=1.5), connect="finite", name=n)
            for c, n in zip(colours, names or (title,) * len(colours), strict=False)
        ]
        self.note = pg.TextItem("", color=(220, 220, 220), anchor=(0, 0.5))
        self.reason = ""

    def attach(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        for c in self.curves:
            plot.addItem(c)
        plot.addItem(self.note, ignoreBounds=True)
        if len(self.curves) > 1:  # a multi-line lane names its lines (the expression lane has seven)
            self.legend = plot.addLegend(offset=(-2, 1), colCount=len(self.curves), labelTextSize="7pt")
            self.legend.setLabelTextColor((230, 230, 230))
            self.legend.setBrush(pg.mkBrush(0, 0, 0, 120))
            for curve in self.curves:
                self.legend.addItem(curve, curve.name())
            # One 12 px row (it was 38 px of a 58 px lane): with LEGEND_ROOM above the data it covers none.
            self.legend.layout.setContentsMargins(1, 0, 1, 0)
            self.legend.layout.setVerticalSpacing(-6)
            for sample, label in self.legend.items:
                sample.setMaximumHeight(12)
                label.setMaximumHeight(12)
            self.legend.updateSize()
        plot.enableAutoRange(x=False, y=False)
        y0, y1 = self.y_range
        # A lane with a legend keeps a band above its data for it: the expression lane's legend sat on
        # its curves. The ticks still name the data's range only.
        top = y1 + (LEGEND_ROOM * (y1 - y0) if len(self.curves) > 1 else 0.0)
        plot.setYRange(y0, top, padding=0.05)
        self._set_ticks()
        plot.getViewBox().sigXRangeChanged.connect(self._on_range_changed)

    def _set_ticks(self) -> None:
        """The lane's ends and middle only: more numbers overlap in a lane this low."""
        if self.plot is None:
            return
        y0, y1 = self.y_range
        ticks = [(v, f"{v:g}") for v in (y0, (y0 + y1) / 2, y1)]
        self.plot.getAxis("left").setTicks([ticks, []])

    def set_data(self, times: np.ndarray, values: np.ndarray | None, reason: str = "") -> None:
        """``values`` (N,) or (N, C) at ``times``; ``reason`` (why it is empty or all zero) is shown."""
        empty = values is None or len(times) == 0
        self.reason = reason
        for j, curve in enumerate(self.curves):
            if empty:
                curve.setData([], [])
                continue
            col = values if values.ndim == 1 else values[:, j]
            # pyqtgraph 0.14: stepMode "left" holds each value until the next sample (same-length x, y).
            curve.setData(times, col, stepMode="left" if self.step else None)
        self.note.setText(self.reason)
        self._on_range_changed()

    def _on_range_changed(self, *_: object) -> None:
        if self.plot is not None:
            (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
            self.note.setPos(x0 + 0.02 * (x1 - x0), (y0 + y1) / 2)


def without_face(signals: ClipSignals, times: np.ndarray, values: np.ndarray | None) -> np.ndarray | None:
    """``values`` with NaN (a gap in the lane) wherever no face was found at that time.

    A face-derived lane must not draw a confident line through frames where its input was missing.
    """
    if values is None or len(times) == 0:
        return values
    tr = signals.tracks.get("face_count")
    if tr is None or len(tr) == 0:
        return values
    idx = np.clip(np.searchsorted(tr.times, times - 1e-6), 0, len(tr.times) - 1)
    nearest_prev = np.clip(idx - 1, 0, len(tr.times) - 1)
    use_prev = np.abs(tr.times[nearest_prev] - times) < np.abs(tr.times[idx] - times)
    counts = np.asarray(tr.values, float)[np.where(use_prev, nearest_prev, idx)]
    out = np.array(values, dtype=np.float32, copy=True)
    out[counts <= 0] = np.nan
    return out


def per_face_expression(signals: ClipSignals, track_id: int) -> np.ndarray:
    """(N, 7) expression probabilities of one face track over the analysed frames, NaN where absent."""
    out = np.full((len(signals.frame_times), len(EXPRESSIONS)), np.nan, np.float32)
    for i, faces in enumerate(signals.faces):
        for f in faces:
            if f.track_id == track_id and f.expression is not None:
                out[i] = f.expression
    return out


class PerceptionLanes:
    """The six perception lanes on a timeline; ``show(signals)`` fills them, ``clear()`` empties them."""

    EXPRESSION_MODES = ("mean", "min", "max")

    def __init__(self, timeline) -> None:
        self.timeline = timeline
        self.signals: ClipSignals | None = None
        self.expression_mode = "mean"
        self.lanes: dict[str, TrackLane] = {
            "Faces": TrackLane("faces", ("#4fc3f7",), (0, 4), step=True),
            "Expression": TrackLane("expression", EXPRESSION_COLOURS, names=EXPRESSIONS),
            "Mouth open": TrackLane("mouth", ("#ff5252",)),
            "Voice activity": TrackLane("vad", ("#69f0ae",)),
            "Laughter": TrackLane("laughter", ("#ffd740",)),
            "Pose confidence": TrackLane("pose", ("#b388ff",)),
        }
        for name, lane in self.lanes.items():
            timeline.add_lane(name, lane)
        self.clear("not analysed yet: Analyse clip")

    def clear(self, reason: str = "") -> None:
        self.signals = None
        for lane in self.lanes.values():
            lane.set_data(np.zeros(0), None, reason)

    def _track(self, name: str) -> tuple[np.ndarray, np.ndarray | None, str]:
        assert self.signals is not None
        tr = self.signals.track(name)
        return tr.times, (tr.values if len(tr) else None), tr.reason

    def show(self, signals: ClipSignals) -> None:
        self.signals = signals
        times, counts, reason = self._track("face_count")
        self.lanes["Faces"].set_data(times, counts, reason)
        if counts is not None and len(counts):
            self.lanes["Faces"].y_range = (0, max(2.0, float(np.max(counts)) + 1))
            if self.lanes["Faces"].plot is not None:
                self.lanes["Faces"].plot.setYRange(*self.lanes["Faces"].y_range, padding=0.05)
                self.lanes["Faces"]._set_ticks()
        self.set_expression_mode(self.expression_mode)
        times, values, reason = self._track("mouth_open")
        self.lanes["Mouth open"].set_data(times, without_face(signals, times, values), reason)
        for lane, track in (
            ("Voice activity", "vad"),
            ("Laughter", "laughter"),
            ("Pose confidence", "pose_confidence"),
        ):
            self.lanes[lane].set_data(*self._track(track))

    def set_expression_mode(self, mode: str) -> None:
        """ "mean", "min", "max" over faces, or "face N" for one face track."""
        self.expression_mode = mode
        if self.signals is None:
            return
        if mode.startswith("face "):
            values = per_face_expression(self.signals, int(mode.split()[1]))
            self.lanes["Expression"].set_data(self.signals.frame_times, values)
        else:
            times, values, reason = self._track(f"expression_{mode}")
            self.lanes["Expression"].set_data(times, without_face(self.signals, times, values), reason)

    def face_track_ids(self, signals: ClipSignals | None = None) -> list[int]:
        """The face tracks of ``signals`` (default: those shown), most frames first: the people the clip
        is about come before faces seen in passing."""
        signals = signals if signals is not None else self.signals
        if signals is None:
            return []
        frames = Counter(f.track_id for faces in signals.faces for f in faces)
        return sorted(frames, key=lambda i: (-frames[i], i))
