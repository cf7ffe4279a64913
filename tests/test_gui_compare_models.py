"""Comparing models side by side (issue 14): running a second model on a clip adds its lanes and keeps
the first model's fused lane beside them (and in the at-playhead table); unchecking the box goes back
to one model's lanes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.settings import Settings
from tests.clipfactory import make_clip


def _run(qtbot, window: MainWindow):
    with qtbot.waitSignal(window.models.predicted, timeout=300000) as blocker:
        window.models.run_action.trigger()
    return blocker.args[0]


@pytest.mark.slow
def test_second_model_adds_its_lanes_beside_the_first(qtbot, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", n_frames=25, fps=25, audio="speech")
    # No model is built before the window exists: crossmodal-attention's first torchvision import
    # happens in Run model's worker, with Qt's OpenGL loaded (triton used to segfault there).
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    window.show()
    try:
        with qtbot.waitSignal(window.ready, timeout=30000):
            window.open_path(clip)
        window.perception.set_rate(5.0)
        with qtbot.waitSignal(window.perception.analysed, timeout=300000):
            window.perception.analyse_action.trigger()  # both models reuse this analysis
        panel = window.models
        first = _run(qtbot, window)
        assert first.analysis.model == "lightweight-streaming"
        panel.choose_model("crossmodal-attention")
        second = _run(qtbot, window)
        names = list(panel.lanes.lanes)
        assert names[: len(second.lanes)] == [d.name for d in second.lanes]
        assert "lightweight-streaming fused" in names
        kept = panel.lanes.data["lightweight-streaming fused"]
        assert np.allclose(kept.probs, first.analysis.fused)
        window.clock.seek(0.5)
        qtbot.waitUntil(lambda: "lightweight-streaming fused" in panel.at_table.text(), timeout=5000)

        panel.compare_box.setChecked(False)
        _run(qtbot, window)
        assert "lightweight-streaming fused" not in panel.lanes.lanes
    finally:
        window.workers.cancel_all()
        window.shutdown()
