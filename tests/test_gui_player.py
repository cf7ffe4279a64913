"""The player follows the one clock frame-exactly, drops stale frames, and leaves no thread behind."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from affectscope.app.qt.clock import QtClock
from affectscope.app.qt.player import Player
from affectscope.media import probe_with_times
from tests.clipfactory import make_clip, read_index


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("player")
    cfr = make_clip(d / "cfr.mp4", n_frames=50, fps=25, gop=12)
    vfr = make_clip(d / "vfr.mkv", n_frames=40, fps=20, vfr=True, gop=10)
    return {"cfr": (cfr, *probe_with_times(cfr)), "vfr": (vfr, *probe_with_times(vfr))}


def _frame_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "affectscope-frames"]


@pytest.fixture
def make_player(qtbot, clips):
    made: list[Player] = []

    def make(kind: str = "cfr") -> Player:
        path, info, times = clips[kind]
        clock = QtClock()
        player = Player(clock)
        qtbot.addWidget(player)
        player.resize(640, 480)
        clock.set_duration(info.duration)
        with qtbot.waitSignal(player.frame_shown, timeout=10000):
            player.set_clip(str(path), times)
        made.append(player)
        player._keep_clock = clock  # the test owns the clock through the player
        return player

    yield make
    for p in made:
        p.close_decoder()
    assert not _frame_threads(), "the decoder thread outlived its player"


def _shown(player: Player) -> int:
    return read_index(player.view.frame)


def test_first_frame_is_shown(make_player) -> None:
    p = make_player()
    assert p.view.frame_index == 0 and _shown(p) == 0


def test_stepping_shows_each_frame_at_its_own_time(make_player, qtbot) -> None:
    p = make_player()
    for expected in range(1, 8):
        with qtbot.waitSignal(p.frame_shown, timeout=5000) as blocker:
            p.step(1)
        assert blocker.args == [expected, pytest.approx(p.times[expected])]
        assert _shown(p) == expected
        assert p.clock.position == p.times[expected]
    with qtbot.waitSignal(p.frame_shown, timeout=5000):
        p.step(-3)
    assert _shown(p) == 4


def test_steps_clamp_at_the_ends(make_player, qtbot) -> None:
    p = make_player()
    with qtbot.waitSignal(p.frame_shown, timeout=5000):
        p.step(10**9)
    assert _shown(p) == 49 and p.clock.position == p.times[-1]
    with qtbot.waitSignal(p.frame_shown, timeout=5000):
        p.step(-(10**9))
    assert _shown(p) == 0


@pytest.mark.parametrize("kind", ["cfr", "vfr"])
def test_seek_shows_the_frame_on_screen_at_that_time(make_player, qtbot, kind) -> None:
    p = make_player(kind)
    rng = np.random.default_rng(1)
    for t in rng.uniform(0, p.clock.duration, 6):
        expected = int(np.searchsorted(p.times, t, side="right") - 1)
        with qtbot.waitSignal(p.frame_shown, timeout=5000, check_params_cb=lambda i, _t, e=expected: i == e):
            p.clock.seek(float(t))
        assert _shown(p) == expected


def test_newest_seek_wins(make_player, qtbot) -> None:
    p = make_player()
    shown: list[int] = []
    p.frame_shown.connect(lambda i, _t: shown.append(i))
    decoded_before = p.decoder.decoded
    targets = [int(i) for i in np.random.default_rng(2).integers(0, 50, 40)] + [33]
    for i in targets:  # no event processing in between: a burst like a fast slider drag
        p.clock.seek(float(p.times[i]))
    qtbot.waitUntil(lambda: 33 in shown and p.decoder.idle, timeout=10000)
    QApplication.processEvents()  # deliver any result posted late: it must not replace the newest
    assert shown[-1] == 33 and _shown(p) == 33
    assert p.decoder.decoded - decoded_before < len(targets), "stale requests were decoded, not skipped"


def test_a_stale_result_arriving_late_is_dropped(make_player, qtbot) -> None:
    p = make_player()
    stale_serial = p._serial
    with qtbot.waitSignal(p.frame_shown, timeout=5000):
        p.clock.seek(float(p.times[20]))
    dropped = p.dropped
    # The decoder delivers (through its real queued signal) the frame of a request older than the seek.
    p.decoder.frame_ready.emit(stale_serial, 3, np.zeros((240, 320, 3), np.uint8))
    qtbot.waitUntil(lambda: p.dropped == dropped + 1, timeout=2000)
    assert _shown(p) == 20 and p.view.frame_index == 20


def test_playing_advances_frames_in_order(make_player, qtbot) -> None:
    p = make_player()
    shown: list[int] = []
    p.frame_shown.connect(lambda i, _t: shown.append(i))
    p.clock.set_rate(4.0)
    p.clock.play()
    qtbot.waitUntil(lambda: not p.clock.playing, timeout=10000)
    qtbot.waitUntil(lambda: shown and shown[-1] == 49, timeout=5000)
    assert shown == sorted(shown) and len(set(shown)) == len(shown)
    assert p.clock.position == pytest.approx(p.clock.duration)


def test_slider_follows_without_echo_and_seeks_when_moved(make_player, qtbot) -> None:
    p = make_player()
    serial = p.clock.serial
    p.clock.seek(1.0)
    assert p.clock.serial == serial + 1, "showing the position on the slider must not seek again"
    assert p.transport.slider.value() == 1000
    p.transport.slider.setValue(1500)  # what a user's drag does
    assert p.clock.position == pytest.approx(1.5)


def test_time_field_jumps_and_refuses_nonsense(make_player, qtbot) -> None:
    p = make_player()
    field = p.transport.time_field
    field.setText("0:01.2")
    with qtbot.waitSignal(p.frame_shown, timeout=5000):
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert p.clock.position == pytest.approx(1.2) and _shown(p) == 30
    field.setText("soon")
    with qtbot.waitSignal(p.error, timeout=1000) as blocker:
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert "not a time" in blocker.args[1]
