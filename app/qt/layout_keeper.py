"""Dock widths that hold: what the user chose comes back after the window was made small and large again.

``QMainWindow`` gives every extra pixel to the central widget, so after shrinking the window (docks
squeezed to their minimum) and growing it again the clip panel stayed ~60 px wide. ``DockWidths``
remembers each dock's width as the user left it (a dock resized while the window's size did not change)
and, after the window was resized, gives the docks back up to that width while the player keeps
at least 40 % of the window (45 % left the clip list 215 px at 1024 px, Prediction cut off).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QDockWidget, QLabel, QMainWindow, QTabWidget


class DockWidths(QObject):
    """Event filter on the window and its side docks; see the module docstring."""

    def __init__(
        self, window: QMainWindow, docks: list[QDockWidget], widths: list[int], restored: bool = True
    ) -> None:
        """``restored``: the docks' widths came from a stored layout (the user's); otherwise ``widths``
        are the choice, given back when the window is first shown."""
        super().__init__(window)
        self._restored = restored
        self.window = window
        self.docks = docks
        self.preferred = dict(zip(docks, widths, strict=True))
        self._window_resizing = False
        self._shown = False
        # Restartable: a resize that arrives while the last one is still being handled is not lost.
        self._after_timer = QTimer(self)
        self._after_timer.setSingleShot(True)
        self._after_timer.setInterval(0)
        self._after_timer.timeout.connect(self._after_window_resize)
        self._done_timer = QTimer(self)
        self._done_timer.setSingleShot(True)
        self._done_timer.setInterval(0)
        self._done_timer.timeout.connect(self._done)
        self._last_width = window.width()
        window.installEventFilter(self)
        for dock in docks:
            dock.installEventFilter(self)

    @staticmethod
    def _squeezed(dock: QDockWidget) -> bool:
        """A dock at its minimum width was squeezed there by a small window: that is not a choice."""
        return dock.width() <= dock.minimumSizeHint().width() + 2

    def remember(self) -> None:
        """Take the docks' present widths as the user's choice (after ``resizeDocks`` or a restore)."""
        for dock in self.docks:
            if not self._squeezed(dock):
                self.preferred[dock] = dock.width()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Show and obj is self.window and not self._shown:
            self._shown = True
            # A restored layout's widths are known once the window is shown. Without one, the widths a
            # window sized before showing imposed are not a choice (`screenshot --size 1024x600` kept
            # the clip list 210 px, Prediction cut): the preferred widths are given as far as they fit.
            QTimer.singleShot(0, self.remember if self._restored else self.restore)
        elif event.type() == QEvent.Type.Resize:
            if obj is self.window:
                self._window_resizing = True
                self._done_timer.stop()
                self._after_timer.start()
            elif (
                obj in self.preferred
                # Only a change of width is a choice: a dock shown below (Evaluation) changes heights only.
                and getattr(event, "oldSize", None) is not None
                and event.oldSize().width() != event.size().width()
                and not self._window_resizing
                and obj.isVisible()
                and self.window.width() == self._last_width  # the user dragged the splitter
                and not self._squeezed(obj)
            ):
                self.preferred[obj] = obj.width()
        return False

    def _after_window_resize(self) -> None:
        # After a burst of resizes (small then large may come before this runs), whatever the size now.
        self._last_width = self.window.width()
        self.restore()
        # the docks follow resizeDocks on the next layout pass: only then is a dock resize the user's
        self._done_timer.start()

    def _done(self) -> None:
        self._window_resizing = False

    def restore(self) -> None:
        """Give each visible dock back its preferred width, as far as the central widget can spare."""
        docks = [d for d in self.docks if d.isVisible() and not d.isFloating()]
        short = [d for d in docks if d.width() < self.preferred[d]]
        if not short:
            return
        central = self.window.centralWidget()
        # Measured from the window, not the central widget: its own width may not be laid out yet. The
        # player keeps at least 40 % of the window: a smaller window gives the docks less, not the player.
        keep = max(
            central.minimumSizeHint().width() if central is not None else 0, self.window.width() * 0.40
        )
        spare = int(self.window.width() - keep) - 24
        widths = []
        mins = [d.minimumSizeHint().width() for d in docks]
        for k, dock in enumerate(docks):
            # The docks after this one keep their minimum: the first (the clip list) took them all.
            give = max(mins[k], min(self.preferred[dock], spare - sum(mins[k + 1 :])))
            spare -= give
            widths.append(give)
        self.window.resizeDocks(docks, widths, Qt.Orientation.Horizontal)


def settle_restored(window: QMainWindow) -> None:
    """After a stored layout came back: docks left floating are docked again and the window is moved
    (and shrunk) onto the screen it is on. A floating Evaluation dock and a window half off-screen
    used to come back on every launch."""
    for dock in window.findChildren(QDockWidget):
        if dock.isFloating():
            dock.setFloating(False)
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return
    room = screen.availableGeometry()
    frame = window.frameGeometry()
    extra_w, extra_h = frame.width() - window.width(), frame.height() - window.height()
    width = min(window.width(), room.width() - extra_w)
    height = min(window.height(), room.height() - extra_h)
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
    x = min(max(frame.x(), room.left()), room.right() - width - extra_w + 1)
    y = min(max(frame.y(), room.top()), room.bottom() - height - extra_h + 1)
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)


class KeepSize(QObject):
    """A dock shown from the View menu must not grow the window: it was 1920×1263 on a 1080 px screen
    once View ▸ Evaluation was ticked (status bar and buttons off-screen). The size before is kept;
    the dock's contents scroll instead (its widget sits in a scroll area)."""

    def __init__(self, window: QMainWindow, dock: QDockWidget) -> None:
        super().__init__(window)
        self.window, self.dock = window, dock
        self.size = window.size()
        dock.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.dock and event.type() == QEvent.Type.ShowToParent:
            self.size = self.window.size()
            QTimer.singleShot(0, self._back)
        return False

    def _back(self) -> None:
        if self.window.isMaximized() or self.window.isFullScreen():
            return
        if self.window.width() > self.size.width() or self.window.height() > self.size.height():
            self.window.resize(self.size)


def narrow_pages(tabs: QTabWidget, chars: int = 12) -> None:
    """Let the inspector's pages be narrow: combo boxes size to ``chars`` characters (their lists still
    show whole entries) and one-line labels wrap. The widest page set the dock's minimum (about 400 px),
    which left the clip list 95 px at 1024×600."""
    for i in range(tabs.count()):
        page = tabs.widget(i)
        for combo in page.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(min(combo.minimumContentsLength() or chars, chars))
        for label in page.findChildren(QLabel):
            if not label.wordWrap() and label.pixmap().isNull() and len(label.text()) > 30:
                label.setWordWrap(True)
