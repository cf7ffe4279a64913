"""The progress-and-cancel handle every long function takes (STYLE.md §3).

Extraction, inference, training, import and export are plain functions that accept a ``Job``.
They call ``job.progress(done, total, message)`` as they go, ``job.partial(result)`` for results
that can be shown before the end, and ``job.check()`` between batches, which raises ``Cancelled``
once someone called ``job.cancel()``. The Qt layer wraps such a function in a worker thread and
relays these calls as queued signals; the CLI prints them; tests use the handle directly.
Thread-safe: ``cancel()`` is called from another thread than the one doing the work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Cancelled(Exception):
    """Raised by ``Job.check()`` after ``Job.cancel()``; the work stops within one batch."""


ProgressFn = Callable[[int, int, str], None]
PartialFn = Callable[[Any], None]


class Job:
    """Progress reporting and cooperative cancellation for one piece of long work."""

    def __init__(self, on_progress: ProgressFn | None = None, on_partial: PartialFn | None = None) -> None:
        self._cancel = threading.Event()
        self._on_progress = on_progress
        self._on_partial = on_partial
        self.done = 0
        self.total = 0
        self.message = ""

    def progress(self, done: int, total: int, message: str = "") -> None:
        self.done, self.total, self.message = done, total, message
        if self._on_progress is not None:
            self._on_progress(done, total, message)

    def partial(self, result: Any) -> None:
        if self._on_partial is not None:
            self._on_partial(result)

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise ``Cancelled`` if cancellation was asked for; call it between batches."""
        if self._cancel.is_set():
            raise Cancelled()


def ensure_job(job: Job | None) -> Job:
    """Functions take ``job=None`` for convenience; this gives them a silent handle."""
    return job if job is not None else Job()
