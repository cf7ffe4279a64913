"""The label tier on the timeline: the clip's whole-clip label as a band along the lane's top, current span
labels as shaded regions with their value, the in/out marks (I/O keys) of the span being marked, and the
selected span, whose edges can be dragged.

A content object for ``TimelineView.add_lane``. It only draws and reports: a click on a span selects it
(``selection_changed``), dragging the selected span's edge or body asks for an edit (``edit_requested``
with the new bounds), a right click asks for the span's menu (``context_requested``). The labelling panel
turns requests into undoable commands and hands the new spans back with ``set_spans``.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, QPoint, Qt, Signal

from affectscope.db.records import SpanRecord

SPAN_BRUSH = pg.mkBrush(80, 160, 255, 70)
SELECTED_BRUSH = pg.mkBrush(255, 170, 60, 110)
SELECTED_PEN = pg.mkPen((255, 190, 80), width=3)
SELECTED_HOVER_PEN = pg.mkPen((255, 240, 160), width=5)
MARK_PEN = pg.mkPen((120, 255, 120), width=2)
PENDING_BRUSH = pg.mkBrush(120, 255, 120, 50)
CLIP_BRUSH = pg.mkBrush(150, 110, 220, 90)  # not a span's blue: the band is the clip's, not a time's
CLIP_PEN = pg.mkPen((190, 150, 255), width=1)
CLIP_BAND = (0.78, 1.0)  # the lane's top strip (y runs 0..1); span names sit at 0.5, below it
MIN_SPAN_S = 0.001  # the store's resolution: a drag that closes the span to less is taken back


class LabelLane(QObject):
    """Draws spans (``set_spans``), the pending in/out marks (``set_marks``) and the selection
    (``select``) in a timeline plot."""

    selection_changed = Signal(object)  # SpanRecord | None
    edit_requested = Signal(object, float, float)  # span, new start, new end (seconds)
    context_requested = Signal(object, QPoint)  # span, global position for its menu

    def __init__(self) -> None:
        super().__init__()
        self.plot: pg.PlotItem | None = None
        self.spans: list[SpanRecord] = []
        self.selected: SpanRecord | None = None
        self.marks: tuple[float | None, float | None] = (None, None)
        self.duration = 0.0
        self.regions: dict[int, pg.LinearRegionItem] = {}  # span id -> its region, for tests and drags
        self._items: list[pg.GraphicsObject] = []
        self._mark_items: list[pg.GraphicsObject] = []
        self.clip_label: tuple[str, str] | None = None  # (value, annotator) of the whole-clip label
        # Horizontal region: spans every x, so it runs across the lane at any zoom; it never moves.
        self.clip_band = pg.LinearRegionItem(
            CLIP_BAND, orientation="horizontal", movable=False, brush=CLIP_BRUSH, pen=CLIP_PEN
        )
        self.clip_band.setZValue(-10)  # under the spans: a span's drag and click come first
        self.clip_text = pg.TextItem("", color=(225, 205, 255), anchor=(0, 0.5))

    def attach(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        plot.setYRange(0, 1, padding=0)
        plot.getAxis("left").setStyle(showValues=False)
        plot.scene().sigMouseClicked.connect(self._on_clicked)
        for item in (self.clip_band, self.clip_text):
            plot.addItem(item, ignoreBounds=True)
        plot.getViewBox().sigXRangeChanged.connect(self._place_clip_text)
        self._redraw()
        self._show_clip_label()

    # -- state -----------------------------------------------------------------------------------------
    def set_spans(self, spans: list[SpanRecord]) -> None:
        """New current spans; the selection stays on its span while that span is still current."""
        self.spans = list(spans)
        if self.selected is not None:
            still = [s for s in self.spans if s.id == self.selected.id]
            self._set_selected(still[0] if still else None)
        self._redraw()

    def set_clip_label(self, value: str | None, annotator: str | None = None) -> None:
        """The clip's current whole-clip label (None: not labelled), drawn as a band across the lane."""
        self.clip_label = (value, annotator or "") if value else None
        self._show_clip_label()

    def set_duration(self, duration: float) -> None:
        """Edges cannot be dragged outside the clip."""
        self.duration = max(0.0, float(duration))

    def set_marks(self, t_in: float | None, t_out: float | None) -> None:
        self.marks = (t_in, t_out)
        self._redraw_marks()

    def select(self, span_id: int | None) -> None:
        """Select the span with this id (None, or an id not shown, clears the selection)."""
        found = [s for s in self.spans if s.id == span_id]
        self._set_selected(found[0] if found else None)
        self._redraw()

    def spans_at(self, t: float) -> list[SpanRecord]:
        """Spans covering time ``t``, shortest first (the one a click most likely meant)."""
        return sorted((s for s in self.spans if s.start <= t <= s.end), key=lambda s: (s.end - s.start, s.id))

    def refresh(self) -> None:
        """Draw the spans as stored again (an edit that failed must not stay where it was dropped)."""
        self._redraw()

    def _set_selected(self, span: SpanRecord | None) -> None:
        changed = (span.id if span else None) != (self.selected.id if self.selected else None)
        self.selected = span
        if changed:
            self.selection_changed.emit(span)

    # -- mouse -----------------------------------------------------------------------------------------
    def _on_clicked(self, event: object) -> None:
        """Left click: select the span under the pointer (or none); right click: also ask for its menu.
        The timeline seeks on the same left click, so the playhead lands where the user clicked."""
        if self.plot is None or event.double():
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        t = float(vb.mapSceneToView(event.scenePos()).x())
        under = self.spans_at(t)
        if event.button() == Qt.MouseButton.LeftButton:
            self.select(under[0].id if under else None)
        elif event.button() == Qt.MouseButton.RightButton and under:
            self.select(under[0].id)
            screen = event.screenPos()
            self.context_requested.emit(under[0], QPoint(int(screen.x()), int(screen.y())))
            event.accept()

    def _on_region_moved(self, span: SpanRecord, region: pg.LinearRegionItem) -> None:
        lo, hi = (float(v) for v in region.getRegion())
        if hi - lo < MIN_SPAN_S:
            self._redraw()
            return
        if round(lo, 3) != round(span.start, 3) or round(hi, 3) != round(span.end, 3):
            self.edit_requested.emit(span, lo, hi)

    # -- drawing ---------------------------------------------------------------------------------------
    def _redraw(self) -> None:
        if self.plot is None:
            return
        for item in self._items:
            self.plot.removeItem(item)
        self._items = []
        self.regions = {}
        for span in self.spans:
            chosen = self.selected is not None and span.id == self.selected.id
            region = pg.LinearRegionItem(
                (span.start, span.end),
                movable=chosen,
                brush=SELECTED_BRUSH if chosen else SPAN_BRUSH,
                bounds=(0.0, self.duration) if chosen and self.duration > 0 else None,
            )
            if chosen:
                region.setZValue(10)  # above neighbours: its edges take the drag
                for line in region.lines:
                    line.setPen(SELECTED_PEN)
                    line.setHoverPen(SELECTED_HOVER_PEN)
                    line.setCursor(Qt.CursorShape.SizeHorCursor)
                region.sigRegionChangeFinished.connect(lambda r, s=span: self._on_region_moved(s, r))
            prefix = "▶ " if chosen else ""
            color = (255, 230, 180) if chosen else (230, 230, 230)
            text = pg.TextItem(f"{prefix}{span.value} ({span.annotator})", color=color, anchor=(0, 0.5))
            text.setPos(span.start, 0.5)
            for item in (region, text):
                self.plot.addItem(item, ignoreBounds=True)
                self._items.append(item)
            self.regions[span.id] = region
        self._redraw_marks()

    def _show_clip_label(self) -> None:
        shown = self.clip_label is not None
        self.clip_band.setVisible(shown)
        self.clip_text.setVisible(shown)
        if shown:
            value, annotator = self.clip_label
            self.clip_text.setText(f"whole clip: {value}" + (f" ({annotator})" if annotator else ""))
        self._place_clip_text()

    def _place_clip_text(self, *_args: object) -> None:
        """Keep the band's words at the left of what is in view (the band itself spans every time)."""
        if self.plot is not None:
            x0, x1 = self.plot.getViewBox().viewRange()[0]
            self.clip_text.setPos(x0 + 0.01 * (x1 - x0), sum(CLIP_BAND) / 2)

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
