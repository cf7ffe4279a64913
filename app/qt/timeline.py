"""Timelines: named lanes stacked under the player, sharing one x axis in media seconds and one playhead.

``TimelineView.add_lane(name, content)`` adds a labelled lane and returns its ``Lane``. ``content`` is
one of:

- a pyqtgraph item (``PlotDataItem``, ``ImageItem``, ``BarGraphItem``, ...): put in a new plot whose
  x axis is seconds; more items can go in ``lane.plot`` later;
- an object with ``attach(plot: pg.PlotItem)``: it builds its items itself (``WaveformLane``,
  ``SpectrogramLane`` do; use this for lanes that redraw on zoom via ``plot.vb.sigXRangeChanged``);
- a ``QWidget``: placed as it is; it may define ``set_view_range(t0, t1)`` and ``set_playhead(t)``,
  which the view calls so it can follow zoom, pan and time.

All plot lanes are x-linked to the time ruler that stays below them (lanes scroll when there are
many): the wheel zooms, a drag pans, all together (y stays fixed). Each has a movable playhead line;
dragging any of them, or clicking in a lane, seeks the clock. The playhead follows
``QtClock.position_changed``; while playing the view pages to keep it in sight. ``remove_lane(name)``
lets a panel take its lane away again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Slot
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from affectscope.app.qt.clock import QtClock

PLAYHEAD_PEN = pg.mkPen((255, 200, 40), width=2)
LANE_HEIGHT = 64
LABEL_WIDTH = 96


class LaneAxis(pg.AxisItem):
    """A lane's value axis whose edge tick labels stay inside the lane.

    pyqtgraph centres each label on its tick and lets vertical-axis labels run 15 px past the axis, so in
    stacked lanes a tick at the range's edge (the waveform's "-1", the spectrogram's "8k Hz") was drawn
    half in the neighbouring lane, over its labels. Here a label is moved inward to fit, and one that
    would then cover another of the same axis (a lane squeezed very low) is left out.
    """

    def generateDrawSpecs(self, p):  # noqa: ANN001, ANN201, N802 - pyqtgraph override
        specs = super().generateDrawSpecs(p)
        if specs is None or self.orientation not in ("left", "right"):
            return specs
        axis_spec, tick_specs, text_specs = specs
        bounds = self.mapRectFromParent(self.geometry())
        kept: list[tuple[QRectF, object, str]] = []
        for rect, flags, text in text_specs:
            rect = QRectF(rect)
            if rect.height() > bounds.height():
                continue
            if rect.top() < bounds.top():
                rect.moveTop(bounds.top())
            elif rect.bottom() > bounds.bottom():
                rect.moveBottom(bounds.bottom())
            if not any(rect.intersects(other) for other, _, _ in kept):
                kept.append((rect, flags, text))
        return axis_spec, tick_specs, kept


@dataclass
class Lane:
    """One row of the timeline: its label and either a plot (``plot``, ``widget``) or a plain widget."""

    name: str
    label: QLabel
    widget: QWidget
    plot: pg.PlotItem | None = None
    playhead: pg.InfiniteLine | None = None
    content: object = None


class TimelineView(QWidget):
    """Stacked lanes on one time axis with one playhead, bound to the window's clock."""

    def __init__(self, clock: QtClock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.lanes: list[Lane] = []
        self.duration = 0.0
        self._next_row = 0
        # Lanes scroll when more are added than fit (each panel adds its own): the player keeps its room.
        self._inner = QWidget()
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self._inner)
        # Always on, so the fixed axis row below can leave the same width free and line up exactly.
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        # The time ruler stays in view below the scrolling lanes; its view box is the x master.
        self.axis_widget = pg.PlotWidget(self)
        self.axis_widget.setFixedHeight(40)
        axis_plot = self.axis_widget.getPlotItem()
        axis_plot.setMenuEnabled(False)
        axis_plot.hideButtons()
        axis_plot.setMouseEnabled(x=True, y=False)
        axis_plot.getAxis("left").setWidth(44)
        axis_plot.getAxis("left").setStyle(showValues=False)
        axis_plot.getAxis("left").setPen(pg.mkPen(None))
        axis_plot.setLabel("bottom", "time", units="s")
        axis_plot.getViewBox().setFixedHeight(1)
        self._master = axis_plot.getViewBox()
        self._master.sigXRangeChanged.connect(self._on_x_range_changed)
        self._apply_limits(self._master)
        axis_row = QHBoxLayout()
        axis_row.setContentsMargins(
            2 + LABEL_WIDTH + 4, 0, 2 + self.scroll.verticalScrollBar().sizeHint().width(), 0
        )
        axis_row.addWidget(self.axis_widget)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.scroll, 1)
        outer.addLayout(axis_row)
        self._grid = QGridLayout(self._inner)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._grid.setHorizontalSpacing(4)
        self._grid.setVerticalSpacing(1)
        self._grid.setColumnStretch(1, 1)
        clock.position_changed.connect(self._on_position_changed)

    # ------------------------------------------------------------------ lanes
    def add_lane(self, name: str, content: object, height: int = LANE_HEIGHT) -> Lane:
        """Add a labelled lane below the others (see the module docstring for ``content``)."""
        if any(lane.name == name for lane in self.lanes):
            raise ValueError(f"a lane named {name!r} already exists")
        label = QLabel(name, self._inner)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        label.setWordWrap(True)
        label.setFixedWidth(LABEL_WIDTH)
        label.setToolTip(name)
        if isinstance(content, QWidget):
            lane = Lane(name, label, content, content=content)
            content.setMinimumHeight(min(height, 40))
            self._call(lane, "set_view_range", *self.view_range())
        else:
            widget = pg.PlotWidget(self._inner, axisItems={"left": LaneAxis("left")})
            widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            widget.setMinimumHeight(height)
            plot = widget.getPlotItem()
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=True, y=False)
            plot.getAxis("left").setWidth(44)
            plot.showGrid(x=True, y=False, alpha=0.25)
            vb = plot.getViewBox()
            vb.setXLink(self._master)
            self._apply_limits(vb)
            playhead = pg.InfiniteLine(pos=self.clock.position, angle=90, movable=True, pen=PLAYHEAD_PEN)
            playhead.setHoverPen(pg.mkPen((255, 240, 120), width=3))
            playhead.setZValue(1000)
            playhead.sigDragged.connect(self._on_playhead_dragged)
            plot.addItem(playhead, ignoreBounds=True)
            widget.scene().sigMouseClicked.connect(partial(self._on_scene_clicked, vb))
            if hasattr(content, "attach"):
                content.attach(plot)
            elif content is not None:
                plot.addItem(content)
            lane = Lane(name, label, widget, plot, playhead, content)
        row, self._next_row = self._next_row, self._next_row + 1  # grid rows are never reused
        self._grid.addWidget(label, row, 0)
        self._grid.addWidget(lane.widget, row, 1)
        self._grid.setRowStretch(row, 1)
        self.lanes.append(lane)
        self._update_axes()
        return lane

    def lane(self, name: str) -> Lane:
        for lane in self.lanes:
            if lane.name == name:
                return lane
        raise KeyError(name)

    def remove_lane(self, name: str) -> None:
        lane = self.lane(name)
        self.lanes.remove(lane)
        row = self._grid.getItemPosition(self._grid.indexOf(lane.widget))[0]
        self._grid.setRowStretch(row, 0)  # an emptied row that keeps its stretch leaves a gap
        for w in (lane.label, lane.widget):
            self._grid.removeWidget(w)
            w.hide()  # deleted later; meanwhile it must not paint where it was
            w.deleteLater()
        self._update_axes()

    def _update_axes(self) -> None:
        """Lanes carry no time axis of their own: the fixed ruler below them does."""
        for lane in self.lanes:
            if lane.plot is not None:
                lane.plot.hideAxis("bottom")

    # ------------------------------------------------------------------ range
    def set_duration(self, duration: float) -> None:
        """A new clip: limit panning to [0, duration] and show all of it."""
        self.duration = max(0.0, float(duration))
        self._apply_limits(self._master)
        for lane in self.lanes:
            if lane.plot is not None:
                self._apply_limits(lane.plot.getViewBox())
        self.set_view_range(0.0, self.duration or 1.0)

    def _apply_limits(self, vb: pg.ViewBox) -> None:
        end = self.duration or 1.0
        vb.setLimits(xMin=0.0, xMax=end, minXRange=min(0.01, end), maxXRange=end)

    def view_range(self) -> tuple[float, float]:
        x0, x1 = self._master.viewRange()[0]
        return float(x0), float(x1)

    def set_view_range(self, t0: float, t1: float) -> None:
        self._master.setXRange(t0, t1, padding=0)

    def zoom(self, factor: float, centre: float | None = None) -> None:
        """Zoom the shared axis by ``factor`` (< 1 zooms in) around ``centre`` (default: the playhead)."""
        x0, x1 = self.view_range()
        c = self.clock.position if centre is None else centre
        self.set_view_range(c - (c - x0) * factor, c + (x1 - c) * factor)

    def playhead_positions(self) -> list[float]:
        """Where each lane's playhead is drawn (plot lanes), for tests and widget lanes alike."""
        return [float(lane.playhead.value()) for lane in self.lanes if lane.playhead is not None]

    # ------------------------------------------------------------------ events
    def _on_x_range_changed(self, _vb: object, rng: tuple[float, float]) -> None:
        for lane in self.lanes:
            if lane.plot is None:
                self._call(lane, "set_view_range", float(rng[0]), float(rng[1]))

    @Slot(float)
    def _on_position_changed(self, t: float) -> None:
        for lane in self.lanes:
            if lane.playhead is not None:
                lane.playhead.setValue(t)  # setValue does not emit sigDragged: no echo seek
            else:
                self._call(lane, "set_playhead", t)
        if self.clock.playing:
            x0, x1 = self.view_range()
            if not x0 <= t <= x1:
                width = x1 - x0
                self.set_view_range(t - 0.1 * width, t + 0.9 * width)

    def _on_playhead_dragged(self, line: pg.InfiniteLine) -> None:
        self.clock.seek(float(line.value()))

    def _on_scene_clicked(self, vb: pg.ViewBox, event: object) -> None:
        """A left click inside a lane's plot area seeks there (drags pan instead: no click event)."""
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        if vb.sceneBoundingRect().contains(event.scenePos()):
            self.clock.seek(float(vb.mapSceneToView(event.scenePos()).x()))
            event.accept()

    @staticmethod
    def _call(lane: Lane, method: str, *args: float) -> None:
        fn = getattr(lane.content, method, None)
        if callable(fn):
            fn(*args)
