"""The window's keyboard: Space play/pause, ←/→ one frame, Shift+←/→ one second, J/K/L shuttle,
Home/End. Window-wide shortcuts (they fire while the window is active, whatever widget has focus,
except in text fields, which keep their own keys)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from affectscope.app.qt.clock import QtClock
from affectscope.app.qt.player import Player

SHUTTLE_RATES = (1.0, 2.0, 4.0)


class Shortcuts:
    """Installs the transport shortcuts on ``window``; J/K/L as in editing suites.

    L plays forward, again for 2× and 4×; K pauses; J steps back one second per press (reverse
    playback is not offered: decoders are built to run forward, and stepping back is frame-exact).
    """

    def __init__(self, window: QWidget, clock: QtClock, player: Player) -> None:
        self.clock, self.player = clock, player
        self.shortcuts: dict[str, QShortcut] = {}
        bindings: dict[str, Callable[[], None]] = {
            "Space": clock.toggle,
            "Right": lambda: player.step(1),
            "Left": lambda: player.step(-1),
            "Shift+Right": lambda: player.step_seconds(1.0),
            "Shift+Left": lambda: player.step_seconds(-1.0),
            "Home": lambda: clock.seek(0.0),
            "End": lambda: player.step(10**9),
            "J": self._on_j,
            "K": clock.pause,
            "L": self._on_l,
        }
        for key, fn in bindings.items():
            sc = QShortcut(QKeySequence(key), window)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(fn)
            self.shortcuts[key] = sc

    def _on_l(self) -> None:
        if not self.clock.playing:
            self.clock.set_rate(1.0)
            self.clock.play()
            return
        faster = [r for r in SHUTTLE_RATES if r > self.clock.rate]
        self.clock.set_rate(faster[0] if faster else SHUTTLE_RATES[-1])

    def _on_j(self) -> None:
        self.clock.pause()
        self.player.step_seconds(-1.0)
