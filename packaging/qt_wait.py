"""Waiting in the docs' screenshot scripts: pump the window's events until something is drawn."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait(app, until: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ANN001 - QApplication
    """Process ``app``'s events until ``until()`` holds; exit naming ``what`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)
