"""The Models tab in the real main window: run the shipped seed 004 system on a demo clip off the GUI
thread, lanes and the clip-level bars fill, the at-playhead readout follows the clock, cancel leaves
the window usable, a project stores the prediction (not as a label) and the browser shows it, and a
wrong weights file or a clip without audio say what happened."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectscope.app.qt.main_window import MainWindow
from affectscope.app.qt.prediction_lanes import probs_at
from affectscope.app.services.demo import build_demo_project
from affectscope.app.services.predict import Prediction
from affectscope.app.services.project import Project


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_project(tmp_path_factory.mktemp("demo") / "project")


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.workers.cancel_all()
    w.shutdown()


def _open(qtbot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.current_clip_changed, timeout=30000):
        window.load_clip(path)


def _run(qtbot, window: MainWindow) -> Prediction:
    with qtbot.waitSignal(window.models.predicted, timeout=60000) as blocker:
        window.models.run_action.trigger()
        assert window.models.cancel_button.isEnabled()  # the work runs off the GUI thread
    return blocker.args[0]


@pytest.mark.slow
def test_seed004_fills_lanes_clip_bars_and_follows_the_playhead(
    qtbot, window: MainWindow, demo: Path
) -> None:
    panel = window.models
    assert panel.model_name == "lightweight-streaming"
    _open(qtbot, window, demo / "clips" / "astronaut_happy.mp4")
    result = _run(qtbot, window)
    a = result.analysis
    assert not result.untrained and a.labels == ("positive", "neutral", "negative")
    assert list(panel.lanes.lanes) == [*a.per_modality, "fused", "EWMA"]
    names = [lane.name for lane in window.timeline.lanes]
    assert "Predicted: fused" in names and "Predicted: EWMA" in names and "Predicted: model" not in names
    xs, ys = panel.lanes.lanes["fused"].curve_data("negative")
    assert np.allclose(xs, a.times) and np.allclose(ys, a.fused[:, 2])
    assert np.allclose(panel.lanes.lanes["EWMA"].curve_data("positive")[1], a.accumulated[:, 0])
    assert all(lane.reason == "" for lane in panel.lanes.lanes.values())  # demo clips have face and audio
    bars = panel.clip_bars.values()
    assert np.allclose(list(bars.values()), a.clip_probs, atol=1e-3)
    assert a.clip_label in panel.clip_label.text()
    # Issue 22 item 5 (tried as a new user): the unwrapped "Whole clip: ... (speech-weighted mean of the
    # EWMA)" made the page 406 px wide, so the tab scrolled sideways at 1500 px and cut the bars.
    window.resize(1500, 900)
    window.inspector.setCurrentWidget(panel)
    holder = panel.parentWidget().parentWidget()  # the inspector page's scroll area
    qtbot.waitUntil(lambda: panel.isVisible() and holder.viewport().width() > 0, timeout=5000)
    qtbot.wait(100)
    assert panel.minimumSizeHint().width() <= holder.viewport().width()
    assert not holder.horizontalScrollBar().isVisible()
    # the readout follows the clock
    for t in (float(a.times[1]), float(a.times[-2])):
        window.clock.seek(t)
        qtbot.waitUntil(lambda t=t: f"{t:.2f} s" in panel.at_label.text(), timeout=5000)
        expected = probs_at(a.times, a.fused, t)
        assert np.allclose(list(panel.at_bars.values().values()), expected, atol=1e-3)
    assert not np.allclose(probs_at(a.times, a.fused, a.times[1]), probs_at(a.times, a.fused, a.times[-2]))


@pytest.mark.slow
def test_cancel_leaves_the_window_usable_and_missing_audio_is_explained(
    qtbot, window: MainWindow, tmp_path: Path, shared_data: Path
) -> None:
    from tests.clipfactory import make_clip

    panel = window.models
    clip = make_clip(tmp_path / "silent.mp4", n_frames=100, fps=25)  # no audio track, never analysed
    _open(qtbot, window, clip)
    panel.run_action.trigger()
    assert panel.handle is not None
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.handle is None, timeout=30000)
    assert panel.status.text() == "Cancelled."
    assert panel.run_button.isEnabled() and panel.lanes.placeholder.reason.startswith("cancelled")
    # the window still works: open another clip and run to the end on it
    real = shared_data / "clips" / "woman2_unlabelled.mp4"  # a real face, no audio track
    _open(qtbot, window, real)
    result = _run(qtbot, window)
    assert panel.lanes.lanes["audio"].reason == "clip has no audio track: predicted without it"
    assert panel.lanes.lanes["face"].reason == ""
    # Issue 22 item 9: a branch without its input drew flat lines that said nothing; now it draws none
    # (it used to draw one point per window) and the at-playhead table leaves it out.
    assert len(panel.lanes.lanes["audio"].curve_data("neutral")[0]) == 0
    assert len(panel.lanes.lanes["face"].curve_data("neutral")[0]) == len(result.analysis.times)
    assert (
        "audio" not in panel.lanes.at(float(result.analysis.times[0]))
        and "audio" not in panel.at_table.text()
    )
    assert "no project open" in panel.status.text()


@pytest.mark.slow
def test_prediction_is_stored_in_the_project_and_shown_in_the_browser(
    qtbot, window: MainWindow, demo: Path, tmp_path: Path
) -> None:
    import shutil

    from affectscope.db import predictions as pred_rows
    from affectscope.db.uow import unit_of_work

    folder = tmp_path / "project"
    shutil.copytree(demo, folder)
    with Project.init(folder) as p:
        p.import_clips(folder)
    window.open_path(folder / "clips")
    qtbot.waitUntil(
        lambda: window.session.project is not None and window.models.path is not None, timeout=30000
    )
    path = window.models.path
    result = _run(qtbot, window)
    assert result.stored_ok and "stored in the project" in window.models.status.text()
    a = result.analysis
    with Project.open(folder) as p:
        clip = p.clip(path)
        with unit_of_work(p.db) as s:
            rows = pred_rows.clip_predictions(s, clip.id)
            fused = pred_rows.time_predictions(s, rows[-1].model_version_id, clip.id, "fused")
        assert clip.label is None  # a prediction never becomes the clip's label
    assert rows[-1].label == a.clip_label and np.allclose(rows[-1].probs, a.clip_probs, atol=1e-5)
    assert len(fused) == len(a.times)
    model = window.browser.model
    row = model.rows[model._row_of[Path(path)]]
    assert row.extra["prediction"] == a.clip_label
    assert row.extra["confidence"] == pytest.approx(float(a.clip_probs.max()))
    # a window opened later fills the columns from the database
    other = MainWindow()
    qtbot.addWidget(other)
    try:
        with qtbot.waitSignal(other.models.browser_filled, timeout=30000) as blocker:
            other.open_path(folder / "clips")
        assert blocker.args[0] == 1
        row = other.browser.model.rows[other.browser.model._row_of[Path(path)]]
        assert row.extra["prediction"] == a.clip_label
    finally:
        other.workers.cancel_all()
        other.shutdown()


def test_wrong_weights_file_shows_the_error(qtbot, window: MainWindow, demo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "other.safetensors"
    bad.write_bytes(b"not a safetensors file")
    panel = window.models
    _open(qtbot, window, demo / "clips" / "astronaut_neutral.mp4")
    panel.set_weights(str(bad))
    assert "other.safetensors" in panel.weights_label.text() and panel.shipped_button.isEnabled()
    with qtbot.waitSignal(window.error_shown, timeout=30000) as blocker:
        panel.run_action.trigger()
    title, message = blocker.args
    assert title == "Cannot run lightweight-streaming"
    assert "not a readable safetensors file" in message and "affectscope train" in message
    assert "not a readable safetensors file" in window.statusBar().currentMessage()
    assert panel.run_button.isEnabled() and panel.result is None
    panel.set_weights(None)
    assert "shipped" in panel.weights_label.text()


def test_models_tab_says_which_branches_the_shipped_weights_trained(qtbot, window: MainWindow) -> None:
    panel = window.models
    panel.choose_model("fusical")
    text = panel.info.text()
    assert "trained weights shipped" in text and "untrained</b>" not in text
    assert "trained: audio, face" in text and "untrained (off): scene, pose, caption" in text
    assert "pretrained, used as is: laughter" in text and "emodb_test UAR" in text


@pytest.mark.slow
def test_a_run_started_before_the_project_opened_is_stored_once_it_is(
    qtbot, window: MainWindow, demo: Path, tmp_path: Path
) -> None:
    """Issue 22 item 2: the demo's first run started while its project was still opening and said
    "no project open: not stored" for good; the Prediction column stayed empty."""
    import shutil

    from affectscope.db import predictions as pred_rows
    from affectscope.db.uow import unit_of_work

    folder = tmp_path / "project"
    shutil.copytree(demo, folder)
    with Project.init(folder) as p:
        p.import_clips(folder)
    started: list[bool] = []

    def run_at_once(_path: str) -> None:  # as the demo's autorun does, before the project opens
        if not started:
            started.append(window.session.project is None)
            window.models.run()

    window.current_clip_changed.connect(run_at_once)
    with qtbot.waitSignal(window.models.stored_late, timeout=120000) as blocker:
        window.open_path(folder / "clips")
    assert started == [True]
    result = blocker.args[0]
    clip = Path(result.path)
    assert result.stored_ok and "stored in the project" in window.models.status.text()
    with Project.open(folder) as p, unit_of_work(p.db) as s:
        rows = pred_rows.clip_predictions(s, p.clip(str(clip)).id)
    assert rows and rows[-1].label == result.analysis.clip_label
    qtbot.waitUntil(
        lambda: window.browser.model.row_for(clip).extra.get("prediction") == result.analysis.clip_label
    )


@pytest.mark.slow
def test_after_a_run_the_perception_lanes_show_and_muting_redraws_the_fused_lane(
    qtbot, window: MainWindow, demo: Path
) -> None:
    """Issue 22 item 1: after a model run the Faces/Expression lanes said "not analysed yet", and
    unticking a modality in the Explain tab left the fused lane as it was."""
    _open(qtbot, window, demo / "clips" / "astronaut_happy.mp4")
    assert window.perception.lanes.lanes["Faces"].reason.startswith("not analysed yet")
    with qtbot.waitSignal(window.explain.ready, timeout=120000):
        result = _run(qtbot, window)
    qtbot.waitUntil(lambda: window.perception.signals is not None, timeout=30000)
    faces = window.perception.lanes.lanes["Faces"]
    assert faces.reason == "" and len(faces.curves[0].getData()[0]) > 0
    # Issue 22 item 8: the Models and Explain tabs gave two "whole clip" numbers (21/30/49 vs 21/33/47).
    models_bars, explain_bars = window.models.clip_bars.values(), window.explain.ablated_bars.values()
    assert list(models_bars) == list(explain_bars)
    np.testing.assert_allclose(list(explain_bars.values()), list(models_bars.values()), atol=0.002)
    fused = window.models.lanes.lanes["fused"]
    label = result.analysis.labels[0]
    before = fused.curve_data(label)[1].copy()
    window.explain.checks["face"].setChecked(False)
    after = fused.curve_data(label)[1]
    assert "without face" in fused.reason and not np.allclose(before[: len(after)], after)
    np.testing.assert_allclose(after, window.explain.ablated_probs[:, 0], atol=1e-6)
    window.explain.checks["face"].setChecked(True)
    np.testing.assert_allclose(fused.curve_data(label)[1], before)
    assert "without" not in fused.reason
