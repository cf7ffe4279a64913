"""The label tier on the timeline: current span labels as shaded regions with their value, and the
in/out marks (I/O keys) of the span being marked. A content object for ``TimelineView.add_lane``."""

from __future__ import annotations

import pyqtgraph as pg

from affectscope.db.records import SpanRecord

SPAN_BRUSH = pg.mkBrush(80, 160, 255, 70)
MARK_PEN = pg.mkPen((120, 255, 120), width=2)
PENDING_BRUSH = pg.mkBrush(120, 255, 120, 50)


class LabelLane:
    """Draws spans (``set_spans``) and the pending in/out marks (``set_marks``) in a timeline plot."""

    def __init__(self) -> None:
        self.plot: pg.PlotItem | None = None
        self.spans: list[SpanRecord] = []
        self.marks: tuple[float | None, float | None] = (None, None)
        self._items: list[pg.GraphicsObject] = []
        self._mark_items: list[pg.GraphicsObject] = []

    def attach(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        plot.setYRange(0, 1, padding=0)
        plot.getAxis("left").setStyle(showValues=False)
        self._redraw()

    def set_spans(self, spans: list[SpanRecord]) -> None:
        self.spans = list(spans)
        self._redraw()

    def set_marks(self, t_in: float | None, t_out: float | None) -> None:
        self.marks = (t_in, t_out)
        self._redraw_marks()

    def _redraw(self) -> None:
        if self.plot is None:
            return
        for item in self._items:
            self.plot.removeItem(item)
        self._items = []
        for span in self.spans:
            region = pg.LinearRegionItem((span.start, span.end), movable=False, brush=SPAN_BRUSH)
            text = pg.TextItem(f"{span.value} ({span.annotator})", color=(230, 230, 230), anchor=(0, 0.5))
            text.setPos(span.start, 0.5)
            for item in (region, text):
                self.plot.addItem(item, ignoreBounds=True)
                self._items.append(item)
        self._redraw_marks()

    def _redraw_marks(self) -> None:
        if self.plot is None:
            return
        for item in self._mark_items:
            self.plot.removeItem(item)
        self._mark_items = []
        t_in, t_out = self.marks
        if t_in is not None and t_out is not None:
            region = pg.LinearRegionItem((t_in, t_out), movable=False, brush=PENDING_BRUSH, pen=MARK_PEN)
            self._mark_items.append(region)
        else:
            for t in (t_in, t_out):
                if t is not None:
                    self._mark_items.append(pg.InfiniteLine(pos=t, angle=90, pen=MARK_PEN))
        for item in self._mark_items:
            self.plot.addItem(item, ignoreBounds=True)
