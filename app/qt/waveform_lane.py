"""The waveform lane: the audio's min/max envelope at the zoom the user looks at.

On every change of the visible range (zoom, pan, resize) it asks the ``WaveformEnvelope`` pyramid for
one min/max pair per pixel column and draws them as vertical segments (``connect="pairs"``), so
redrawing two hours of 48 kHz audio costs what a few thousand points cost. Zoomed in past one sample
per pixel it draws the samples as a line. Without audio it says "no audio track".
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from affectscope.media.waveform import WaveformEnvelope

WAVE_PEN = pg.mkPen((90, 180, 255), width=1)


class WaveformLane:
    """Attach to a timeline plot with ``TimelineView.add_lane("Waveform", WaveformLane())``."""

    def __init__(self) -> None:
        self.envelope: WaveformEnvelope | None = None
        self.plot: pg.PlotItem | None = None
        self.curve = pg.PlotCurveItem(pen=WAVE_PEN, connect="pairs", antialias=False)
        self.curve.setSkipFiniteCheck(True)
        self.note = pg.TextItem("", color=(220, 220, 220), anchor=(0, 0.5))
        self.points_drawn = 0  # vertices in the last redraw, for tests and the benchmark
        self.redraws = 0

    def attach(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        plot.addItem(self.curve)
        plot.addItem(self.note, ignoreBounds=True)
        plot.setYRange(-1, 1, padding=0.05)
        plot.enableAutoRange(x=False, y=False)
        plot.getAxis("left").setTicks([[(-1, "-1"), (0, "0"), (1, "1")]])
        vb = plot.getViewBox()
        vb.sigXRangeChanged.connect(self._on_range_changed)
        vb.sigResized.connect(self._on_range_changed)

    def set_envelope(self, envelope: WaveformEnvelope | None, note: str = "no audio track") -> None:
        """Show ``envelope`` (``None``: an empty lane that says ``note``)."""
        self.envelope = envelope
        if envelope is not None:
            peak = max(float(np.max(np.abs(envelope.levels[-1][1:]))) if envelope.levels else 0.0, 1e-3)
            if not envelope.levels and len(envelope.samples):
                peak = max(float(np.max(np.abs(envelope.samples))), 1e-3)
            if self.plot is not None:
                self.plot.setYRange(-peak, peak, padding=0.05)
        self.note.setText("" if envelope is not None else note)
        self.redraw()

    def redraw(self) -> None:
        if self.plot is None:
            return
        vb = self.plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        self.note.setPos(x0 + 0.02 * (x1 - x0), (y0 + y1) / 2)
        if self.envelope is None:
            self.curve.setData([], [])
            self.points_drawn = 0
            return
        n_bins = max(16, int(vb.width()) or 800)
        times, lo, hi = self.envelope.minmax(x0, x1, n_bins)
        if len(times) and lo is hi:  # raw samples (deep zoom): a polyline
            self.curve.setData(times, lo, connect="all")
        else:
            x = np.repeat(times, 2)
            y = np.empty(2 * len(times), dtype=np.float32)
            y[0::2], y[1::2] = lo, hi
            # Zero-height bins would draw nothing: give them one pixel's worth of height.
            flat = y[1::2] - y[0::2] < 1e-6
            y[1::2][flat] += 1e-3
            self.curve.setData(x, y, connect="pairs")
        self.points_drawn = 2 * len(times)
        self.redraws += 1

    def _on_range_changed(self, *_args: object) -> None:
        self.redraw()
