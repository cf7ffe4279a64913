"""The spectrogram lane: a log-power image of the audio, computed once per clip off the GUI thread.

``SpectrogramLane.compute(audio, workers)`` starts ``media.spectrogram.log_spectrogram`` as a job
and shows the image when it arrives (``ready`` fires then); a result for a clip no longer shown is
dropped. Without audio the lane is empty and says so.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Signal

from affectscope.app.qt.workers import Workers
from affectscope.media import Audio
from affectscope.media.spectrogram import Spectrogram, log_spectrogram


class SpectrogramLane(QObject):
    """Attach with ``TimelineView.add_lane("Spectrogram", SpectrogramLane())``."""

    ready = Signal()  # the image for the current clip is drawn (or there is nothing to draw)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setLookupTable(pg.colormap.get("inferno").getLookupTable(nPts=256))
        self.note = pg.TextItem("", color=(220, 220, 220), anchor=(0, 0.5))
        self.plot: pg.PlotItem | None = None
        self.spectrogram: Spectrogram | None = None
        self._generation = 0
        self.is_ready = True

    def attach(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        plot.addItem(self.image)
        plot.addItem(self.note, ignoreBounds=True)
        plot.enableAutoRange(x=False, y=False)
        plot.setYRange(0, 8000, padding=0)
        self._set_ticks(8000.0)
        plot.getViewBox().sigXRangeChanged.connect(self._on_range_changed)

    def compute(self, audio: Audio | None, workers: Workers, note: str = "no audio track") -> None:
        """Compute and show the spectrogram of ``audio`` (None: clear and say ``note``)."""
        self._generation += 1
        generation = self._generation
        self.spectrogram = None
        self.image.clear()
        if audio is None:
            self.note.setText(note)
            self._place_note()
            self.is_ready = True
            self.ready.emit()
            return
        self.note.setText("computing spectrogram…")
        self._place_note()
        self.is_ready = False
        workers.start(
            log_spectrogram,
            (audio.samples, audio.rate, audio.start_time),
            title="Spectrogram",
            on_finished=lambda spec: self._on_computed(generation, spec),
            on_failed=lambda exc: self._on_failed(generation, exc),
            on_cancelled=lambda: self._on_failed(generation, None),
        )

    def _on_computed(self, generation: int, spec: Spectrogram) -> None:
        if generation != self._generation:
            return  # a newer clip replaced this one
        self.spectrogram = spec
        self.note.setText("")
        self.image.setImage(spec.db, levels=(-80.0, 0.0), autoLevels=False)
        half = spec.hop_seconds / 2
        width = float(spec.times[-1] - spec.times[0]) + 2 * half
        self.image.setRect(QRectF(float(spec.times[0]) - half, 0.0, width, spec.max_freq))
        if self.plot is not None:
            self.plot.setYRange(0, spec.max_freq, padding=0)
            self._set_ticks(spec.max_freq)
        self.is_ready = True
        self.ready.emit()

    def _set_ticks(self, top: float) -> None:
        """Ticks at the image's bottom, middle and top: its top is the last FFT bin under 8 kHz
        (7988.8 Hz at 22.05 kHz), so a tick at exactly 8000 fell outside the range and was not drawn."""
        if self.plot is not None and top > 0:
            k = lambda f: f"{f / 1000:.0f}k"  # noqa: E731
            self.plot.getAxis("left").setTicks([[(0, "0"), (top / 2, k(top / 2)), (top, k(top) + " Hz")]])

    def _on_failed(self, generation: int, exc: BaseException | None) -> None:
        if generation != self._generation:
            return
        self.note.setText("spectrogram cancelled" if exc is None else f"spectrogram failed: {exc}")
        self._place_note()
        self.is_ready = True
        self.ready.emit()

    def _place_note(self) -> None:
        if self.plot is not None:
            (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
            self.note.setPos(x0 + 0.02 * (x1 - x0), (y0 + y1) / 2)

    def _on_range_changed(self, *_args: object) -> None:
        self._place_note()
