"""State that survives and work done once (issue 14, bugs 1, 6, 7), in the real window with a real
project: Run model shows staged progress that never goes backwards; after Analyse clip, Run model
reuses the cached analysis instead of analysing the frames again; after a restart the stored
prediction and the cached perception are drawn again when the clip is opened."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.project import Project
from affectscope.app.services.settings import Settings
from tests.clipfactory import make_clip


def _window(qtbot) -> MainWindow:
    w = MainWindow(settings=Settings())
    qtbot.addWidget(w)
    w.show()
    return w


def _run(qtbot, window: MainWindow):
    with qtbot.waitSignal(window.models.predicted, timeout=180000) as blocker:
        window.models.run_action.trigger()
    return blocker.args[0]


@pytest.mark.slow
def test_staged_progress_cache_reuse_and_stored_prediction_after_restart(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "ann")
    clip = make_clip(tmp_path / "clip.mp4", n_frames=25, fps=25, audio="speech")
    with Project.init(tmp_path) as p:
        p.import_clips(tmp_path)

    first = _window(qtbot)
    try:
        with qtbot.waitSignal(first.session.project_opened, timeout=30000):
            first.open_path(clip)
        panel = first.models
        qtbot.waitUntil(lambda: panel.path is not None, timeout=30000)
        seen: list[tuple[int, int, str]] = []
        panel._on_progress = lambda d, t, m, f=panel._on_progress: (seen.append((d, t, m)), f(d, t, m))

        # bug 6: one bar, two named stages, never backwards
        result = _run(qtbot, first)
        assert result.stored_ok, result.stored
        values = [d / t for d, t, _ in seen]
        assert values == sorted(values) and values[-1] == 1.0
        messages = [m for *_, m in seen]
        first_running = next(i for i, m in enumerate(messages) if m.startswith("running model 2/2"))
        assert any(m.startswith("analysing frames 1/2") for m in messages[:first_running])
        assert all(not m.startswith("analysing frames") for m in messages[first_running:])

        # bug 7: after Analyse clip, Run model does not analyse the frames again
        with qtbot.waitSignal(first.perception.analysed, timeout=180000):
            first.perception.analyse_action.trigger()
        import affectscope.models.extractors.video_pass as video_pass

        def _no_second_pass(*_a: object, **_k: object) -> None:
            raise AssertionError("Run model analysed the frames again")

        seen.clear()
        with monkeypatch.context() as patch:  # (not monkeypatch.undo: that would drop conftest's dirs too)
            patch.setattr(video_pass, "run_video_pass", _no_second_pass)
            again = _run(qtbot, first)
        assert any("reused the clip's cached analysis" in m for *_, m in seen)
        assert np.allclose(again.analysis.fused, result.analysis.fused, atol=1e-5)
    finally:
        first.close()
        first.shutdown()

    # bug 1: quit and relaunch: the stored prediction and the cached perception come back
    second = _window(qtbot)
    try:
        with qtbot.waitSignal(second.models.stored_shown, timeout=60000) as shown:
            second.open_path(clip)
        stored = shown.args[0]
        panel = second.models
        a = result.analysis
        assert panel.result is stored and stored.analysis.model == a.model
        assert list(panel.lanes.lanes) == [lane.name for lane in result.lanes]
        fused = panel.lanes.data["fused"]
        assert np.allclose(fused.times, a.times, atol=1e-6) and np.allclose(fused.probs, a.fused, atol=1e-6)
        assert len(panel.lanes.lanes["fused"].curve_data(a.labels[0])[0]) > 0  # drawn, not just held
        for name, probs in a.per_modality.items():
            assert np.allclose(panel.lanes.data[name].probs, probs, atol=1e-6)
        assert np.allclose(list(panel.clip_bars.values().values()), a.clip_probs, atol=1e-3)
        assert a.clip_label in panel.clip_label.text() and "stored" in panel.status.text()
        assert not any("not run on this clip" in lane.reason for lane in panel.lanes.lanes.values())
        qtbot.waitUntil(lambda: second.perception.signals is not None, timeout=30000)
        assert "cache" in second.perception.status.text()
    finally:
        second.shutdown()
