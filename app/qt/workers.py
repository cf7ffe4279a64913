"""Run a plain long function (one taking an ``affectscope.jobs.Job``) off the GUI thread.

``Workers.start(fn, args, title=..., on_finished=..., on_failed=...)`` runs ``fn(*args, job=job)``
in a QThreadPool. The worker only touches a private relay QObject; its queued signals reach the
``JobHandle`` (a GUI-thread QObject) whose public signals ``progress(done, total, message)``,
``partial(object)``, ``finished(object)``, ``failed(exception)`` and ``cancelled()`` are therefore
always emitted on the GUI thread (STACK.md: lambdas on a worker's signals would run in the worker).
Workers never hold widgets. ``Workers(synchronous=True)`` runs jobs inline, for tests and the CLI.
``JobProgressWidget`` is the status-bar progress bar + Cancel button.

Hook for other panels: ``MainWindow.workers.start(extract_features, (clip,), title="Extracting")``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from affectscope.app.qt.main_thread_gc import install as install_main_thread_gc
from affectscope.jobs import Cancelled, Job

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Emitted from the worker thread; connected (queued) to the GUI-thread handle."""

    progress = Signal(int, int, str)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()


class JobHandle(QObject):
    """One running job as the GUI sees it. Signals are emitted on the GUI thread."""

    progress = Signal(int, int, str)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    ended = Signal()  # after any of finished / failed / cancelled

    def __init__(self, title: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.job = Job()
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.was_cancelled = False
        #: set when its owner shut down: whatever the thread still reports is dropped, so a late
        #: result never reaches a window (or a panel's plot) that is already gone
        self.abandoned = False
        self.relay = _Relay()
        self.relay.progress.connect(self._on_progress)
        self.relay.partial.connect(self._on_partial)
        self.relay.finished.connect(self._on_finished)
        self.relay.failed.connect(self._on_failed)
        self.relay.cancelled.connect(self._on_cancelled)

    def cancel(self) -> None:
        """Ask the function to stop at its next ``job.check()``; ``cancelled`` follows."""
        self.job.cancel()

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, message: str) -> None:
        if self.abandoned:
            return
        self.progress.emit(done, total, message)

    @Slot(object)
    def _on_partial(self, result: object) -> None:
        if self.abandoned:
            return
        self.partial.emit(result)

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        if self.abandoned:
            return
        self.done, self.result = True, result
        self.finished.emit(result)
        self.ended.emit()

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        if self.abandoned:
            return
        self.done, self.error = True, error  # type: ignore[assignment]
        self.failed.emit(error)
        self.ended.emit()

    @Slot()
    def _on_cancelled(self) -> None:
        if self.abandoned:
            return
        self.done, self.was_cancelled = True, True
        self.cancelled.emit()
        self.ended.emit()


def _execute(fn: Callable[..., Any], args: tuple, kwargs: dict, handle: JobHandle) -> None:
    """The body shared by the thread and the synchronous path; reports through the relay only."""
    relay, job = handle.relay, handle.job
    job._on_progress = relay.progress.emit
    job._on_partial = relay.partial.emit
    try:
        job.check()  # cancelled before it started
        result = fn(*args, job=job, **kwargs)
    except Cancelled:
        relay.cancelled.emit()
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the GUI, not kill the thread
        if not isinstance(exc, Exception):
            log.exception("job %s died", handle.title)
        relay.failed.emit(exc)
    else:
        relay.finished.emit(result)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict, handle: JobHandle) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._call = (fn, args, kwargs, handle)

    def run(self) -> None:
        _execute(*self._call)
        self._call = None  # drop references in the worker thread promptly


class Workers(QObject):
    """Starts jobs on a private thread pool and tracks the running ones."""

    job_started = Signal(object)  # JobHandle
    job_ended = Signal(object)  # JobHandle

    def __init__(
        self, parent: QObject | None = None, synchronous: bool = False, max_threads: int = 2
    ) -> None:
        super().__init__(parent)
        install_main_thread_gc()  # a worker that collected Qt garbage deadlocked the GUI thread
        self.synchronous = synchronous
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self.pool.setExpiryTimeout(2000)
        self.active: list[JobHandle] = []

    def start(
        self,
        fn: Callable[..., Any],
        args: tuple = (),
        kwargs: dict | None = None,
        title: str = "",
        on_finished: Callable[[Any], None] | None = None,
        on_failed: Callable[[BaseException], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
    ) -> JobHandle:
        """Run ``fn(*args, job=job, **kwargs)``; callbacks run on the GUI thread."""
        # No Qt parent: the caller and ``active`` own it; it is freed once both let go.
        handle = JobHandle(title or getattr(fn, "__name__", "job"))
        for signal, callback in (
            (handle.finished, on_finished),
            (handle.failed, on_failed),
            (handle.cancelled, on_cancelled),
            (handle.progress, on_progress),
            (handle.partial, on_partial),
        ):
            if callback is not None:
                signal.connect(callback)
        handle.ended.connect(self._on_job_ended)
        self.active.append(handle)
        self.job_started.emit(handle)
        if self.synchronous:
            _execute(fn, args, dict(kwargs or {}), handle)
        else:
            self.pool.start(_Runnable(fn, args, dict(kwargs or {}), handle))
        return handle

    @Slot()
    def _on_job_ended(self) -> None:
        handle = self.sender()
        if handle in self.active:
            self.active.remove(handle)
            self.job_ended.emit(handle)

    def cancel_all(self) -> None:
        for handle in list(self.active):
            handle.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel every job and wait for the threads to finish (window close, test teardown); what
        the jobs still report afterwards is dropped (``JobHandle.abandoned``)."""
        for handle in self.active:
            handle.abandoned = True
        self.cancel_all()
        ok = self.pool.waitForDone(timeout_ms)
        self.pool.clear()
        return ok


class JobProgressWidget(QWidget):
    """Status-bar progress of the newest running job, with a Cancel button; hidden when idle."""

    def __init__(self, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workers = workers
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setMaximumWidth(180)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the running job at its next batch")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.label, self.bar, self.cancel_button):
            layout.addWidget(w)
        workers.job_started.connect(self._on_job_started)
        workers.job_ended.connect(self._on_job_ended)
        self.setVisible(False)

    def current(self) -> JobHandle | None:
        return self._workers.active[-1] if self._workers.active else None

    @Slot(object)
    def _on_job_started(self, handle: JobHandle) -> None:
        handle.progress.connect(self._on_progress)
        self.bar.setRange(0, 0)  # busy until the first progress report
        self._show(handle)

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, message: str) -> None:
        if self.sender() is not self.current():
            return
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(min(done, max(1, total)))
        if message:
            self.label.setText(f"{self.current().title}: {message}")

    @Slot(object)
    def _on_job_ended(self, handle: JobHandle) -> None:
        nxt = self.current()
        if nxt is None:
            self.setVisible(False)
        else:
            self._show(nxt)

    def _show(self, handle: JobHandle) -> None:
        n = len(self._workers.active)
        self.label.setText(handle.title + (f" (+{n - 1} more)" if n > 1 else ""))
        self.setVisible(True)

    @Slot()
    def _on_cancel_clicked(self) -> None:
        handle = self.current()
        if handle is not None:
            handle.cancel()
