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
        self._stage_floor = 0  # the highest value the stages of this job have reported (never goes back)

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

    def stage(self, i: int, n: int, name: str, what: str = "") -> Job:
        """A handle for stage ``i`` of ``n`` (from 1) of this job's work, to pass to a function that
        reports from 0 % itself: its progress fills the ``i``-th ``n``-th of this job's bar (0..1000),
        which never goes back (analysis then inference each counted from 0 and the bar went 61 % → 47 %).
        The message reads "analysing frames 1/2: …" (``name``, then ``what`` such as a clip's name).
        Cancelling either handle cancels both; partial results pass through."""
        return _Stage(self, i, n, name, what)


class _Stage(Job):
    """One stage of a parent job (``Job.stage``)."""

    def __init__(self, parent: Job, i: int, n: int, name: str, what: str) -> None:
        super().__init__()
        self.parent, self.i, self.n = parent, i, n
        self.title = f"{name} {i}/{n}" + (f" {what}" if what else "")

    def progress(self, done: int, total: int, message: str = "") -> None:
        self.done, self.total, self.message = done, total, message
        frac = min(max(done / max(total, 1), 0.0), 1.0)
        value = int(1000 * ((self.i - 1) + frac) / self.n)
        self.parent._stage_floor = floor = max(self.parent._stage_floor, value)
        self.parent.progress(floor, 1000, self.title + (f": {message}" if message else ""))

    def partial(self, result: Any) -> None:
        self.parent.partial(result)

    def cancel(self) -> None:
        self.parent.cancel()

    def cancelled(self) -> bool:
        return self.parent.cancelled()

    def check(self) -> None:
        self.parent.check()


def ensure_job(job: Job | None) -> Job:
    """Functions take ``job=None`` for convenience; this gives them a silent handle."""
    return job if job is not None else Job()
