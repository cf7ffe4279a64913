"""Analyse ▸ Analyse all clips (issue 14): every readable clip of the folder is analysed in the worker
into the cache, unreadable ones are reported, the browser marks each, and Cancel stops the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.settings import Settings
from affectscope.models.extractors.pipeline import extract_clip
from tests.clipfactory import make_clip


@pytest.mark.slow
def test_analyse_all_clips_fills_the_cache_and_can_be_cancelled(qtbot, tmp_path: Path) -> None:
    make_clip(tmp_path / "a.mp4", n_frames=10, fps=25, audio="tone")
    make_clip(tmp_path / "b.mp4", n_frames=10, fps=25)
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.ready, timeout=30000):
            window.open_path(tmp_path)
        window.perception.set_rate(5.0)
        qtbot.waitUntil(lambda: not window.workers.active, timeout=30000)

        cancelled = window.analyse_all.start()
        cancelled.cancel()
        qtbot.waitUntil(lambda: window.analyse_all.handle is None, timeout=60000)
        assert "cancelled" in window.statusBar().currentMessage()

        with qtbot.waitCallback(timeout=300000) as done:
            handle = window.analyse_all.start()
            handle.finished.connect(done)
        result = window.analyse_all.last
        assert sorted(Path(p).name for p in result.analysed) == ["a.mp4", "b.mp4"] and result.failed == []
        for name in ("a.mp4", "b.mp4"):
            assert extract_clip(tmp_path / name, rate_hz=5.0, cache_only=True) is not None
            assert window.browser.model.row_for(tmp_path / name).extra["analysed"] == "yes"
        assert window.statusBar().currentMessage().startswith("Analysed 2 clips")
        qtbot.waitUntil(lambda: window.perception.signals is not None, timeout=30000)  # the open clip shows
    finally:
        window.workers.cancel_all()
        window.shutdown()
