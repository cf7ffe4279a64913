"""Starting the Qt application: the window for the user (``run_app``) or offscreen (``screenshot``).

``screenshot`` waits for the window's ``ready`` signal (clip loaded, frame shown, lanes drawn) and
for the frame at ``--at`` by running the event loop until those signals arrive: no sleeps, and a
deadline that turns a hang into a clear error.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

from affectscope.errors import MediaError, UserFacingError


def ensure_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(sys.argv[:1])
        app.setApplicationName("Affectscope")
        app.setOrganizationName("Affectscope")
    from affectscope.app.qt.main_thread_gc import install

    install()  # cycles are collected on this thread only (see main_thread_gc)
    return app


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Run the event loop until ``predicate()``; UserFacingError after ``timeout`` seconds."""
    app = ensure_app()
    deadline = time.monotonic() + timeout
    while not predicate():
        left = deadline - time.monotonic()
        if left <= 0:
            raise UserFacingError(f"gave up waiting for {what} after {timeout:.0f} s")
        # Blocks until an event arrives (a queued signal from a worker), at most 50 ms.
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)


def run_app(path: str | Path | None) -> int:
    """Show the main window on ``path`` (folder or clip) and run until it is closed."""
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.qt.quiet_log import quiet_terminal

    quiet_terminal()  # TF Lite, MediaPipe and Qt warnings go to the log file, not the terminal
    app = ensure_app()
    window = MainWindow()
    window.show()
    if path is not None:
        window.open_path(path)
    code = app.exec()
    window.shutdown()
    return int(code)


def screenshot(
    path: str | Path | None,
    out: str | Path,
    at: float | None = None,
    size: tuple[int, int] = (1600, 1000),
    timeout: float = 120.0,
) -> dict:
    """Render the window on ``path`` with the frame at ``at`` shown and all lanes drawn; write a PNG.

    Returns facts about what was rendered. Raises MediaError (after writing the PNG, which then shows
    the message) when the clip cannot be opened.
    """
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.settings import Settings

    ensure_app()
    window = MainWindow(settings=Settings())  # a fixed layout, independent of the user's
    try:
        window.resize(*size)
        window.show()
        failed: list[tuple[str, str]] = []
        window.error_shown.connect(lambda title, msg: failed.append((title, msg)))
        if path is not None:
            window.open_path(path)
            wait_until(lambda: window.is_ready or failed, timeout, "the clip to load")
        if window.loaded is not None and at is not None:
            target = window.player.index_at(at)
            shown: list[int] = []
            window.player.frame_shown.connect(lambda i, _t: shown.append(i))
            window.clock.seek(at)
            wait_until(lambda: target in shown, timeout, f"the frame at {at} s")
        wait_until(lambda: not window.workers.active, timeout, "background work to finish")
        ensure_app().processEvents()
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out), "PNG"):
            raise UserFacingError(f"could not write {out}: check the folder exists and is writable")
        facts = {
            "output": str(out.resolve()),
            "width": window.width(),
            "height": window.height(),
            "clip": str(window.loaded.path) if window.loaded else None,
            "time": window.clock.position,
            "frame_index": window.player.view.frame_index if window.loaded else None,
            "lanes": [lane.name for lane in window.timeline.lanes],
            "error": failed[0][1] if failed else None,
        }
    finally:
        if window.error_dialog if hasattr(window, "error_dialog") else False:
            window.error_dialog.close()
        window.shutdown()
        window.close()
        window.deleteLater()
    if failed and window.loaded is None:
        raise MediaError(failed[0][1])
    return facts
