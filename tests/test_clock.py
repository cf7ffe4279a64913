"""The Qt-free playback clock: media-time position, rate, newest seek wins, master time source."""

from __future__ import annotations

import pytest

from affectscope.app.services.clock import ClockEvent, PlaybackClock


class FakeTime:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> tuple[PlaybackClock, FakeTime]:
    now = FakeTime()
    c = PlaybackClock(now=now)
    c.set_duration(10.0)
    return c, now


def test_plays_in_media_seconds_at_rate(clock) -> None:
    c, now = clock
    c.play()
    now.t += 1.5
    assert c.tick() == pytest.approx(1.5)
    c.set_rate(2.0)
    now.t += 1.0
    assert c.tick() == pytest.approx(3.5)
    c.pause()
    now.t += 5
    assert c.tick() == pytest.approx(3.5)
    assert not c.playing


def test_rate_is_clamped(clock) -> None:
    c, _ = clock
    c.set_rate(10)
    assert c.rate == 4.0
    c.set_rate(0.01)
    assert c.rate == 0.25


def test_stops_at_the_end_and_play_restarts(clock) -> None:
    c, now = clock
    events: list[ClockEvent] = []
    c.add_listener(events.append)
    c.seek(9.5)
    c.play()
    now.t += 2
    assert c.tick() == 10.0
    assert not c.playing
    assert events[-1] is ClockEvent.STATE
    c.play()
    assert c.position == 0.0 and c.playing


def test_newest_seek_wins_and_stale_serials_are_detectable(clock) -> None:
    c, _ = clock
    first = c.seek(2.0)
    second = c.seek(7.0)
    assert second > first
    assert not c.is_current(first) and c.is_current(second)
    assert c.position == 7.0
    assert c.seek(-3) and c.position == 0.0
    assert c.seek(99) and c.position == 10.0


def test_seek_while_playing_continues_from_there(clock) -> None:
    c, now = clock
    c.play()
    now.t += 1
    c.tick()
    c.seek(5.0)
    now.t += 0.5
    assert c.tick() == pytest.approx(5.5)


def test_master_drives_position_when_it_can_tell(clock) -> None:
    c, now = clock
    reported: list[float | None] = [None]
    c.set_master(lambda: reported[0])
    c.play()
    now.t += 0.25
    assert c.tick() == pytest.approx(0.25)  # master silent: monotonic estimate
    reported[0] = 3.0
    assert c.tick() == pytest.approx(3.0)
    c.set_master(None)
    assert not c.has_master


def test_listeners_hear_seeks_ticks_and_state(clock) -> None:
    c, now = clock
    events: list[ClockEvent] = []
    c.add_listener(events.append)
    c.seek(1)
    c.play()
    now.t += 0.1
    c.tick()
    c.remove_listener(events.append)
    c.pause()
    assert events == [ClockEvent.SEEK, ClockEvent.STATE, ClockEvent.TICK]


def test_a_master_that_falls_silent_hands_over_where_it_was(clock) -> None:
    """The device played out its buffer (or stalled) at 1.0 s after 1.2 s of wall time (its stream
    started late): the timer goes on from 1.0 s, not from the play anchor's 1.2 s (a jump ahead that
    ended the picture while the sound still had 0.2 s to play)."""
    c, now = clock
    reported: list[float | None] = [0.0]
    c.set_master(lambda: reported[0])
    c.play()
    now.t += 1.2
    reported[0] = 1.0
    assert c.tick() == pytest.approx(1.0)
    reported[0] = None
    now.t += 0.1
    assert c.tick() == pytest.approx(1.1)
