"""The player: the frame (with overlays) and the transport, following the window's one clock.

The clock holds the position in media seconds; the player turns it into a frame index with the
clip's frame times (``index = last frame whose time <= position``: variable frame rate safe) and asks
the ``FrameDecoder`` for it. Requests made after an explicit seek invalidate older ones, so a slow
decode for an old position is dropped, never shown late; while playing, frames the decoder cannot
deliver in time are skipped (the decoder always takes the newest request).

Hooks: ``player.add_overlay(overlay)`` (see ``frame_view.FrameOverlay``), ``frame_shown(index, t)``
after each new frame is on screen, ``player.step(n)`` / ``player.step_seconds(s)``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from affectscope.app.qt.clock import QtClock
from affectscope.app.qt.frame_decoder import FrameDecoder
from affectscope.app.qt.frame_view import FrameOverlay, FrameView
from affectscope.app.qt.transport import Transport


class Player(QWidget):
    """Frame view + transport bound to a clock; decodes on a worker thread."""

    frame_shown = Signal(int, float)  # frame index, its media time
    error = Signal(str, str)  # title, message

    def __init__(self, clock: QtClock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.view = FrameView(self)
        self.transport = Transport(clock, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.transport)
        self.decoder = FrameDecoder(self)
        self.decoder.frame_ready.connect(self._on_frame_ready)
        self.decoder.failed.connect(self._on_decode_failed)
        self.times = np.zeros(0)
        self.path: str | None = None
        self._serial = 0  # the player's own request counter
        self._valid_from = 0  # results for requests before this (an older seek) are stale
        self._shown_serial = 0
        self._requested_index = -1
        self.dropped = 0  # stale results discarded, for tests and diagnostics
        clock.position_changed.connect(self._on_position_changed)
        clock.seeked.connect(self._on_seeked)
        self.transport.step_requested.connect(self.step)
        self.transport.error.connect(self.error)

    # ------------------------------------------------------------------ clip
    def set_clip(self, path: str, times: np.ndarray) -> None:
        """Show ``path`` whose frames sit at ``times``; the clock's duration must already be set."""
        self.path, self.times = str(path), np.asarray(times, dtype=np.float64)
        self._requested_index = -1
        self._valid_from = self._serial + 1
        self.view.clear("Loading…")
        self.decoder.open(self.path)
        self._request(self.index_at(self.clock.position))

    def clear(self, message: str = "No clip open") -> None:
        self.decoder.close()
        self.path, self.times = None, np.zeros(0)
        self._valid_from = self._serial + 1
        self.view.clear(message)
        self.transport.set_frame_text(-1, 0)

    def close_decoder(self) -> None:
        self.decoder.close()

    def add_overlay(self, overlay: FrameOverlay) -> None:
        """Paint ``overlay`` over every frame (see ``frame_view`` for the protocol)."""
        self.view.add_overlay(overlay)

    # ------------------------------------------------------------------ time
    def index_at(self, t: float) -> int:
        """The frame on screen at ``t`` (last frame with time <= t; a nanosecond of float slack)."""
        if len(self.times) == 0:
            return -1
        i = int(np.searchsorted(self.times, t + 1e-9, side="right")) - 1
        return min(max(i, 0), len(self.times) - 1)

    @property
    def current_index(self) -> int:
        return self.index_at(self.clock.position)

    @Slot(int)
    def step(self, n: int) -> None:
        """Move ``n`` frames (clamped to the clip) by seeking to that frame's own time; pauses."""
        if len(self.times) == 0:
            return
        self.clock.pause()
        i = min(max(self.current_index + int(n), 0), len(self.times) - 1)
        self.clock.seek(float(self.times[i]))

    def step_seconds(self, seconds: float) -> None:
        self.clock.seek(self.clock.position + seconds)

    # ------------------------------------------------------------------ clock -> decoder
    @Slot(float)
    def _on_seeked(self, t: float) -> None:
        # An explicit seek: whatever was asked before is stale, even the same frame.
        self._request(self.index_at(t), seek=True)

    @Slot(float)
    def _on_position_changed(self, t: float) -> None:
        i = self.index_at(t)
        if i != self._requested_index:
            self._request(i)

    def _request(self, index: int, seek: bool = False) -> None:
        if index < 0 or self.path is None:
            return
        self._serial += 1
        if seek:
            self._valid_from = self._serial
        self._requested_index = index
        self.decoder.request(self._serial, index)

    @Slot(int, int, object)
    def _on_frame_ready(self, serial: int, index: int, rgb: np.ndarray) -> None:
        if serial < self._valid_from or serial <= self._shown_serial:
            self.dropped += 1
            return
        self._shown_serial = serial
        t = float(self.times[index])
        self.view.set_frame(rgb, index, t)
        self.transport.set_frame_text(index, len(self.times))
        self.frame_shown.emit(index, t)

    @Slot(int, str)
    def _on_decode_failed(self, serial: int, message: str) -> None:
        if serial < self._valid_from:
            return
        self.clock.pause()
        self.view.clear(message)
        self.error.emit("Cannot play this clip", message)
