"""The base of the model lanes' contents (prediction lanes, explanation lanes): a plot on the timeline's
shared x axis with a note that says why the lane is empty or what it holds, kept at the lane's left edge
as the user zooms and pans.

A subclass adds its own items (``_add_items``) and axes (``_set_axes``); ``attach`` puts them in the
order every lane uses (its items, then the note over them), and ``say`` shows a note.
"""

from __future__ import annotations

import pyqtgraph as pg


class NotedLane:
    """A lane's content with a note. ``note_at_bottom``: where lines would hide under a middle note."""

    note_at_bottom = False

    def __init__(self) -> None:
        self.plot: pg.PlotItem | None = None
        anchor = (0, 1) if self.note_at_bottom else (0, 0.5)
        self.note = pg.TextItem("", color=(235, 235, 235), anchor=anchor, fill=pg.mkBrush(0, 0, 0, 150))
        self.reason = ""

    def attach(self, plot: pg.PlotItem) -> None:
        """Called by the timeline when the lane gets its plot."""
        self.plot = plot
        self._add_items(plot)
        plot.addItem(self.note, ignoreBounds=True)
        plot.enableAutoRange(x=False, y=False)  # the timeline owns x; each lane its own y
        self._set_axes(plot)
        plot.getViewBox().sigXRangeChanged.connect(self._on_range_changed)

    def _add_items(self, plot: pg.PlotItem) -> None:
        """Add the lane's curves or image to ``plot``."""

    def _set_axes(self, plot: pg.PlotItem) -> None:
        """Set the lane's y range and ticks."""

    def say(self, reason: str) -> None:
        """Show ``reason`` over the lane ('' hides the note)."""
        self.reason = reason
        self.note.setText(reason)
        self.note.setVisible(bool(reason))
        self._on_range_changed()

    def _on_range_changed(self, *_: object) -> None:
        if self.plot is not None:
            (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
            self.note.setPos(x0 + 0.02 * (x1 - x0), y0 if self.note_at_bottom else (y0 + y1) / 2)


def add_legend(plot: pg.PlotItem, columns: int) -> None:
    """A one-row legend in the lane's top right corner, small enough for a 64 px lane."""
    legend = plot.addLegend(offset=(-2, 1), colCount=columns, labelTextSize="7pt")
    legend.setLabelTextColor((230, 230, 230))
    legend.setBrush(pg.mkBrush(0, 0, 0, 120))
    legend.layout.setVerticalSpacing(-6)
