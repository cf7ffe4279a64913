"""The Explain tab: live ablation by table lookup, bars, and newest-request-wins (issue 9)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from affectscope.app.qt.clock import QtClock
from affectscope.app.qt.explain_panel import ExplainPanel
from affectscope.app.qt.workers import Workers
from affectscope.models.explain.clip import ClipExplainer
from tests.explain_factory import face_signals


@pytest.fixture(scope="module")
def explainer(shared_data) -> ClipExplainer:
    ex = ClipExplainer("lightweight-streaming", face_signals(shared_data, duration=2.0))
    ex.table()
    return ex


def test_toggle_modality_moves_bars_and_stale_results_are_dropped(qtbot, explainer) -> None:
    host = SimpleNamespace(workers=Workers(), clock=QtClock(), player=None)
    panel = ExplainPanel(host)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.explained, timeout=300_000):
        panel.set_explainer(explainer, explainer.explain(None, maps=False))
    assert set(panel.checks) == {"face", "mouth", "audio"}
    shapley = {m: r["shapley"] for m, r in panel.clip_bars.values().items()}
    assert any(abs(v) > 1e-4 for v in shapley.values())
    assert panel.current.maps["face"].box is not None  # the face map is placed on the frame

    before = panel.ablated_bars.values()
    panel.checks["face"].setChecked(False)
    after = panel.ablated_bars.values()
    assert before != after
    # The lookup equals re-running the fusion on the cached inputs without the face.
    np.testing.assert_allclose(panel.ablated_probs, explainer.refuse(["mouth", "audio"]), atol=1e-6)
    panel.checks["face"].setChecked(True)
    assert panel.ablated_bars.values() == before

    # Two requests in flight: whichever finishes, only the newest is drawn.
    first = panel.request_at_playhead()
    second = panel.request_at_playhead()
    assert second == first + 1
    qtbot.waitUntil(lambda: panel.current.request == second and panel.dropped >= 1, timeout=300_000)
    stale = explainer.explain(0.0, maps=False)
    stale.request = first
    drawn = panel.current
    panel.show_result(stale)
    assert panel.current is drawn and panel.dropped >= 2


def test_another_clip_leaves_no_fused_numbers_of_the_last(qtbot, explainer) -> None:
    """Issue 22 item 1: opening a clip without an explanation kept the old clip's fused bars."""
    host = SimpleNamespace(workers=Workers(), clock=QtClock(), player=None)
    panel = ExplainPanel(host)
    qtbot.addWidget(panel)
    panel.set_explainer(explainer, explainer.explain(None, maps=False))
    panel.workers.cancel_all()
    assert panel.ablated_bars.values() and "–" not in panel.ablated_label.text()
    panel.on_clip_changed("/elsewhere/broken.mp4")
    assert panel.ablated_bars.values() == {} and panel.ablated_label.text() == "Fused, whole clip: –"
    assert panel.checks == {} and panel.clip_bars.values() == {}
    assert panel.status.text().startswith("Run a model")
