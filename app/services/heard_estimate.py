"""How much of a stream has been heard, from what was handed to the sound server and when.

Qt's ``QAudioSink.processedUSecs()`` counts what was handed to the server, not what it played: the
server queues the rest (at first the fill ``start()`` hands over at once: 70 ms of a 100 ms queue
under PulseAudio here). Subtracting the fill alone made the picture lag whenever the application was
late to refill (the queue drains below its fill while the server plays on): −50 to −70 ms on a
starved machine (``bench/bench_sound.py --starve``, 100 ms queue). So:

- every refill gives a lower bound: at that moment the queue holds no more than the fill, so at least
  ``handed − fill`` was heard; the server plays on at wall speed from the best bound so far;
- nothing can be heard that was not handed: reaching ``handed`` is an underrun, and the estimate
  holds there (and goes on from there when sound comes again);
- before the first refill nothing is known to be heard (the server may still be starting the
  stream: 1.5 s under load), so the estimate holds at 0.

The estimate never decreases. A device clock slower than the wall clock makes it run ahead by at most
the fill (the bound by ``handed``); each seek or play starts a new estimate.
"""

from __future__ import annotations


class HeardEstimate:
    """Seconds heard of one stream; ``update`` with each reading of what was handed over."""

    def __init__(self, fill: float | None) -> None:
        self.fill = fill if fill else None  # seconds handed over at start(); None: not known yet
        self._handed = fill or 0.0
        self._anchor: tuple[float, float] | None = None  # (monotonic time, seconds heard then)

    def update(self, handed: float, now: float) -> float:
        """The seconds heard at ``now``, given ``handed`` seconds handed over by then."""
        if self.fill is None:
            if handed <= 0:
                return 0.0
            self.fill, self._handed = handed, handed  # a backend that fills later: its first fill
        if handed != self._handed:  # a refill: at least handed − fill was heard by now
            self._handed = handed
            if self.heard(now) < handed - self.fill:
                self._anchor = (now, handed - self.fill)
        estimate = self.heard(now)
        if estimate > handed:  # played out everything handed: an underrun holds here
            self._anchor = (now, handed)
            estimate = handed
        return estimate

    def heard(self, now: float) -> float:
        if self._anchor is None:
            return 0.0
        since, heard = self._anchor
        return heard + max(0.0, now - since)
