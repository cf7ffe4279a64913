"""OneJobPanel.start_job: the one run / cancel / progress helper of the inspector panels, driven in a real
window (the Retrain tab) with a real worker thread."""

from __future__ import annotations

import threading

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.settings import Settings
from affectscope.jobs import Job


def test_a_panel_job_frees_the_panel_only_when_it_ends(qtbot) -> None:
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    panel = window.retrain
    release = threading.Event()
    seen: list[str] = []

    def long_work(job: Job | None = None) -> str:
        job.progress(1, 4, "a quarter")
        release.wait(30)
        return "trained"

    try:
        panel.path = "somewhere"  # the start button comes back enabled only where it can start again
        panel.start_job(
            panel.workers,
            long_work,
            title="Long work",
            on_finished=seen.append,
            on_failed=lambda exc: seen.append(f"failed {exc}"),
            on_cancelled=lambda: seen.append("cancelled"),
        )
        assert panel.handle is not None and panel.cancel_button.isEnabled()
        assert not panel.start_button.isEnabled()
        qtbot.waitUntil(lambda: panel.progress.value() == 1 and panel.progress.maximum() == 4, timeout=10000)
        # A version comparison or activation that fails on the other worker says so, but the running
        # job stays the panel's: before, its failure handler freed the panel and dropped the handle.
        panel._on_failed(RuntimeError("compare failed"))
        assert panel.handle is not None and panel.cancel_button.isEnabled()
        release.set()
        qtbot.waitUntil(lambda: seen == ["trained"], timeout=10000)
        assert panel.handle is None and not panel.cancel_button.isEnabled() and panel.start_button.isEnabled()
    finally:
        release.set()
        window.shutdown()
        window.close()
