"""The one playback clock (STYLE.md §2): position in media seconds, rate, playing state.

Every view that shows time follows this position and converts it to its own sample index (a
video frame, an audio sample, a pose keypoint row). Seeks are requests: the newest one wins and
each gets a serial number, so a consumer that did slow work for an older request can tell its
result is stale and drop it. The clock is Qt-free; ``affectscope.app.qt.clock.QtClock`` drives
``tick()`` from a timer and turns listener calls into signals.

Time source while playing: a *master* (the audio device: seconds of audio played since the last
start, as media players do) when one is set, otherwise a monotonic timer. The master returns media
seconds directly; the monotonic source is scaled by ``rate``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

MIN_RATE = 0.25
MAX_RATE = 4.0


class ClockEvent(enum.Enum):
    """What changed: the position moved by playing (TICK), someone asked for a time (SEEK), or
    play/pause/rate/duration changed (STATE)."""

    TICK = "tick"
    SEEK = "seek"
    STATE = "state"


Listener = Callable[[ClockEvent], None]
Master = Callable[[], float | None]


class PlaybackClock:
    """Playback position (media seconds), rate and playing state, with listeners."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._position = 0.0
        self._duration = 0.0
        self._rate = 1.0
        self._playing = False
        self._anchor_pos = 0.0  # position at the last (re)start of the monotonic source
        self._anchor_time = 0.0
        self._master: Master | None = None
        self._serial = 0
        self._listeners: list[Listener] = []

    # ----------------------------------------------------------------- read
    @property
    def position(self) -> float:
        return self._position

    @property
    def duration(self) -> float:
        return self._duration

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def serial(self) -> int:
        """Serial of the newest seek request; results for smaller serials are stale."""
        return self._serial

    @property
    def has_master(self) -> bool:
        return self._master is not None

    def is_current(self, serial: int) -> bool:
        return serial == self._serial

    # ------------------------------------------------------------ listeners
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, event: ClockEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # -------------------------------------------------------------- control
    def set_duration(self, duration: float) -> None:
        """A new clip: its length bounds seeks; the position goes back to 0 and playing stops."""
        self._duration = max(0.0, float(duration))
        self._playing = False
        self.seek(0.0)
        self._notify(ClockEvent.STATE)

    def set_master(self, master: Master | None) -> None:
        """Let a device (audio output) drive the position; ``None`` falls back to the monotonic timer.

        The master returns media seconds, or ``None`` when it cannot tell yet (then the monotonic
        estimate is used for that tick).
        """
        self._master = master
        self._reanchor()

    def seek(self, t: float) -> int:
        """Request position ``t`` (clamped to the clip); returns the request's serial number."""
        self._position = self._clamp(t)
        self._serial += 1
        self._reanchor()
        self._notify(ClockEvent.SEEK)
        return self._serial

    def play(self) -> None:
        if self._playing or self._duration <= 0:
            return
        if self._position >= self._duration:
            self._position = 0.0  # play at the end starts over, as players do
            self._serial += 1
        self._playing = True
        self._reanchor()
        self._notify(ClockEvent.STATE)

    def pause(self) -> None:
        if not self._playing:
            return
        self._advance()
        self._playing = False
        self._notify(ClockEvent.STATE)

    def toggle(self) -> None:
        self.pause() if self._playing else self.play()

    def set_rate(self, rate: float) -> None:
        rate = min(MAX_RATE, max(MIN_RATE, float(rate)))
        if rate == self._rate:
            return
        self._advance()
        self._rate = rate
        self._reanchor()
        self._notify(ClockEvent.STATE)

    def tick(self) -> float:
        """Advance from the time source while playing; pause at the end. Returns the position."""
        if not self._playing:
            return self._position
        self._advance()
        if self._position >= self._duration:
            self._position = self._duration
            self._playing = False
            self._notify(ClockEvent.TICK)
            self._notify(ClockEvent.STATE)
        else:
            self._notify(ClockEvent.TICK)
        return self._position

    # ------------------------------------------------------------- internal
    def _clamp(self, t: float) -> float:
        return min(max(0.0, float(t)), self._duration)

    def _reanchor(self) -> None:
        self._anchor_pos = self._position
        self._anchor_time = self._now()

    def _advance(self) -> None:
        if not self._playing:
            return
        pos = self._master() if self._master is not None else None
        if pos is None:
            pos = self._anchor_pos + (self._now() - self._anchor_time) * self._rate
        else:  # a master that falls silent later (played out, stalled) hands over from here, not a jump
            self._anchor_pos, self._anchor_time = pos, self._now()
        self._position = self._clamp(pos)
