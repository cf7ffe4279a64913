"""The Qt face of the one playback clock: ``QtClock.position_changed(float)`` and a timer.

``QtClock`` owns an ``affectscope.app.services.clock.PlaybackClock`` (``.model``), ticks it from a
precise ~60 Hz timer while playing, and re-emits its listener calls as signals:

- ``position_changed(seconds)`` after every seek and tick (every view follows this),
- ``seeked(seconds)`` only after explicit seeks (the audio output restarts from there),
- ``state_changed()`` on play / pause / rate / duration changes.

Views convert the position to their own sample index; to move time, call ``seek`` (a request: the
newest wins). ``MainWindow.clock`` is the instance the whole window shares.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from affectscope.app.services.clock import ClockEvent, Master, PlaybackClock

TICK_MS = 15


class QtClock(QObject):
    """Signals and a timer around the Qt-free PlaybackClock."""

    position_changed = Signal(float)
    seeked = Signal(float)
    state_changed = Signal()

    def __init__(self, parent: QObject | None = None, model: PlaybackClock | None = None) -> None:
        super().__init__(parent)
        self.model = model or PlaybackClock()
        self.model.add_listener(self._on_clock_event)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_timer)

    # Read-through properties so views need not reach into ``model``.
    @property
    def position(self) -> float:
        return self.model.position

    @property
    def duration(self) -> float:
        return self.model.duration

    @property
    def rate(self) -> float:
        return self.model.rate

    @property
    def playing(self) -> bool:
        return self.model.playing

    @property
    def serial(self) -> int:
        return self.model.serial

    def seek(self, t: float) -> int:
        """Request time ``t`` (seconds); returns the request's serial."""
        return self.model.seek(t)

    def play(self) -> None:
        self.model.play()

    def pause(self) -> None:
        self.model.pause()

    def toggle(self) -> None:
        self.model.toggle()

    def set_rate(self, rate: float) -> None:
        self.model.set_rate(rate)

    def set_duration(self, duration: float) -> None:
        self.model.set_duration(duration)

    def set_master(self, master: Master | None) -> None:
        self.model.set_master(master)

    def _on_timer(self) -> None:
        self.model.tick()

    def _on_clock_event(self, event: ClockEvent) -> None:
        if event is ClockEvent.STATE:
            if self.model.playing and not self._timer.isActive():
                self._timer.start()
            elif not self.model.playing:
                self._timer.stop()
            self.state_changed.emit()
            return
        if event is ClockEvent.SEEK:
            self.seeked.emit(self.model.position)
        self.position_changed.emit(self.model.position)
