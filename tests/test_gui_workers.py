"""Workers run plain Job functions off the GUI thread, relay to the GUI thread, and can be cancelled."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication

from affectscope.app.qt.workers import JobProgressWidget, Workers
from affectscope.errors import MediaError
from affectscope.jobs import Job


def count_to(n: int, job: Job, gate: threading.Event | None = None) -> int:
    """Long work in batches, as extraction and inference are written."""
    for i in range(n):
        job.check()
        if gate is not None:
            gate.wait(0.01)  # a batch's worth of work (waits on an event nobody sets: bounded)
        job.progress(i + 1, n, f"batch {i + 1}")
        job.partial(i)
    return n


def broken(job: Job) -> None:
    raise MediaError("clip.mp4 is truncated: re-export it")


@pytest.fixture
def workers(qtbot):
    w = Workers()
    yield w
    assert w.shutdown(), "a worker did not stop"
    assert w.pool.activeThreadCount() == 0


def _on_gui_thread() -> bool:
    return QThread.currentThread() is QApplication.instance().thread()


def test_result_progress_and_partials_arrive_on_the_gui_thread(workers, qtbot) -> None:
    seen: dict[str, list] = {"progress": [], "partial": [], "threads": []}

    def on_progress(done: int, total: int, msg: str) -> None:
        seen["progress"].append(done)
        seen["threads"].append(_on_gui_thread())

    def on_partial(x: int) -> None:
        seen["partial"].append(x)
        seen["threads"].append(_on_gui_thread())

    handle = workers.start(count_to, (20,), title="count", on_progress=on_progress, on_partial=on_partial)
    with qtbot.waitSignal(handle.finished, timeout=10000) as blocker:
        pass
    assert blocker.args == [20] and handle.result == 20
    assert seen["progress"] == list(range(1, 21)) and seen["partial"] == list(range(20))
    assert all(seen["threads"])
    qtbot.waitUntil(lambda: not workers.active)


def test_failure_is_reported_with_the_exception(workers, qtbot) -> None:
    errors: list[BaseException] = []
    handle = workers.start(broken, on_failed=errors.append)
    qtbot.waitUntil(lambda: handle.done, timeout=5000)
    assert isinstance(errors[0], MediaError) and "re-export" in str(errors[0])


def test_cancel_button_stops_the_job_and_the_gui_stays_responsive(workers, qtbot) -> None:
    status = JobProgressWidget(workers)
    qtbot.addWidget(status)
    gate = threading.Event()
    handle = workers.start(count_to, (100000,), {"gate": gate}, title="Long job")
    assert not status.isHidden() and status.label.text() == "Long job"
    qtbot.waitUntil(lambda: handle.job.done > 3, timeout=5000)
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=2000)  # the event loop runs while the job does
    timer.stop()
    assert not handle.done
    with qtbot.waitSignal(handle.cancelled, timeout=5000):
        status.cancel_button.click()
    assert handle.was_cancelled and handle.job.done < 100000
    qtbot.waitUntil(lambda: status.isHidden(), timeout=2000)


def test_synchronous_mode_runs_inline(qtbot) -> None:
    w = Workers(synchronous=True)
    results: list[int] = []
    handle = w.start(count_to, (5,), on_finished=results.append)
    assert handle.done and results == [5] and not w.active


def test_a_job_cancelled_while_queued_never_runs(qtbot) -> None:
    w = Workers(max_threads=1)
    gate = threading.Event()
    calls: list[str] = []
    first = w.start(count_to, (100000,), {"gate": gate})
    second = w.start(lambda job: calls.append("ran"))
    second.cancel()  # still queued behind the first on the single thread
    first.cancel()
    qtbot.waitUntil(lambda: first.done and second.done, timeout=5000)
    assert second.was_cancelled and calls == []
    assert w.shutdown()


def test_what_a_job_reports_after_shutdown_is_dropped(qtbot) -> None:
    """A job that outlives its window's shutdown (it ignores cancel while in native code) must not
    call back into the window's widgets, which are gone by then."""
    w = Workers()
    release, started = threading.Event(), threading.Event()

    def stubborn(job: Job) -> str:
        started.set()
        release.wait(10)  # native work that cannot see the cancel
        return "late"

    got: list[object] = []
    w.start(stubborn, on_finished=got.append, on_failed=got.append, on_cancelled=lambda: got.append("c"))
    assert started.wait(10)
    assert not w.shutdown(timeout_ms=50)  # it is still running
    release.set()
    assert w.pool.waitForDone(10000)
    qtbot.wait(100)  # the queued "finished" is delivered now, and dropped
    assert got == []


def test_garbage_holding_qt_objects_is_collected_on_the_gui_thread(workers, qtbot) -> None:
    """A worker that allocates past the collector's threshold does not collect cycles that hold Qt
    objects: their destructors on a worker deadlocked the GUI thread (caught with gdb in a hung run).
    Collection is the GUI thread's job (app/qt/main_thread_gc.py)."""
    import gc

    from PySide6.QtCore import QObject

    assert not gc.isenabled()
    where: list[bool] = []

    class Node:
        def __del__(self) -> None:
            where.append(_on_gui_thread())

    node = Node()
    node.me, node.qt = node, QObject()  # cyclic garbage holding a QObject, as a closed panel leaves
    del node

    def churn(job: Job) -> int:
        junk = [[i] for i in range(200_000)]  # far past gen-0's threshold of 700 allocations
        return len(junk)

    handle = workers.start(churn, (), title="churn")
    with qtbot.waitSignal(handle.finished, timeout=30000):
        pass
    # The allocation count is the interpreter's, not the thread's: the GUI timer may already have seen
    # the worker's 200,000 allocations and collected during the wait (on the GUI thread: True).
    assert False not in where, "the worker collected the GUI's garbage"
    keep = [[i] for i in range(5000)]  # the GUI thread allocates past the threshold: its timer collects
    qtbot.waitUntil(lambda: where == [True], timeout=5000)
    assert len(keep) == 5000
