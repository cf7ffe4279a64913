"""Python's cyclic garbage collector, run on the GUI thread only.

Python collects cycles in whichever thread happens to allocate past the threshold. When that is a
worker thread and the garbage holds Qt objects (an old panel's actions, a closed window's menus), their
C++ destructors run on the worker: ``QObject::~QObject`` locks Qt's signal-slot mutex and then asks
for the GIL (to call a Python override), while the GUI thread, holding the GIL, waits for that mutex.
Both wait forever. This was caught with gdb in a hung test run (a worker building a model collected a
previous window's menus); it is the likely cause of CI runs that hung in GUI tests.

So automatic collection is switched off and a timer on the GUI thread collects with the thresholds
Python would have used (the approach calibre takes for the same reason). Workers never collect.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 500


def collect_if_due() -> int:
    """One collection of the oldest generation whose threshold was passed, as Python's own would
    choose; returns the generation collected, or -1. Call it on the GUI thread."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if counts[0] <= thresholds[0]:
        return -1
    generation = 0
    if counts[1] > thresholds[1]:
        generation = 1
        if counts[2] > thresholds[2]:
            generation = 2
    gc.collect(generation)
    return generation


class MainThreadGC(QObject):
    """Owns the timer; made by ``install`` as a child of the application."""

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(collect_if_due)
        self.timer.start()


def install() -> MainThreadGC | None:
    """Switch collection to the GUI thread of the running application (once; later calls return the
    same guard). Returns None when there is no application yet."""
    app = QCoreApplication.instance()
    if app is None:
        return None
    guard = app.findChild(MainThreadGC)
    if guard is None:
        guard = MainThreadGC(app)
    gc.disable()  # also after someone re-enabled it
    return guard
