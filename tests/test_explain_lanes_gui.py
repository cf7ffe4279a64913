"""Explanation lanes in the real window (issue 9): after explaining seed 004 on a made clip with
speech, the sound-saliency lane sits under the spectrogram on the same axes and holds the stitched
map, the contribution lane holds the per-window Shapley values (a gap where the clip has no face),
both follow the playhead, the lanes are in View ▸ Lanes, and they empty when the clip changes.
Seed 002's attention lane is checked on a timeline alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectscope.app.qt.explain_lanes import ATTENTION, CONTRIBUTION, SOUND
from affectscope.app.qt.main_window import MainWindow
from affectscope.app.services.settings import Settings
from affectscope.models.explain import lanes as svc
from affectscope.models.explain.clip import ClipExplainer
from tests.clipfactory import make_clip
from tests.explain_factory import explain_lanes


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("lanes")
    speech = make_clip(d / "speech.mp4", n_frames=50, fps=25.0, audio="speech", audio_rate=16000)
    other = make_clip(d / "tone.mp4", n_frames=25, fps=25.0, audio="tone", audio_rate=16000)
    return speech, other


@pytest.fixture(scope="module")
def explainer(clips: tuple[Path, Path]) -> ClipExplainer:
    from affectscope.models.inference import signals_for_file

    signals = signals_for_file(clips[0], ("face", "mouth", "audio"))
    ex = ClipExplainer("lightweight-streaming", signals)
    ex.table()
    return ex


def _plot_lane(window: MainWindow, name: str):  # noqa: ANN202 - a timeline Lane
    return window.timeline.lane(name)


def test_sound_and_contribution_lanes_align_follow_and_clear(qtbot, clips, explainer, tmp_path) -> None:
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    try:
        with qtbot.waitSignal(window.current_clip_changed, timeout=30_000):
            window.load_clip(clips[0])
        qtbot.waitUntil(lambda: window.is_ready, timeout=30_000)
        panel, lanes = window.explain, window.explain.lanes
        assert lanes.names() == []  # nothing to show before an explanation
        with qtbot.waitSignal(lanes.sound_ready, timeout=60_000):
            panel.set_explainer(explainer, explainer.explain(None, maps=False))

        names = [lane.name for lane in window.timeline.lanes]
        assert names.index(SOUND) == names.index("Spectrogram") + 1  # directly under the spectrogram
        assert CONTRIBUTION in names and ATTENTION not in names  # seed 004 has no attention
        # The stitched map drawn is the service's, computed for the clip's class with Grad-CAM.
        tf = lanes.sound.map
        expected = svc.sound_saliency(explainer, None, "gradcam")
        assert tf.complete and tf.target == expected.target and tf.method == "gradcam"
        np.testing.assert_allclose(tf.values, expected.values, equal_nan=True)
        assert (
            np.isfinite(tf.values).mean() > 0.9 and np.nanmax(tf.values) > 0
        )  # speech, no face: audio decides
        assert lanes.sound.image.image.shape == (*tf.values.shape, 4)

        # Same time axis and frequency axis as the spectrogram lane, also after zooming.
        spec, sound = _plot_lane(window, "Spectrogram"), _plot_lane(window, SOUND)
        rect = lanes.sound.image.mapRectToParent(lanes.sound.image.boundingRect())
        assert abs(rect.left()) < 0.05 and abs(rect.right() - window.loaded.duration) < 0.05
        assert abs(rect.top() - 0) < 1 and abs(rect.bottom() - 8000) < 1
        window.timeline.set_view_range(0.5, 1.25)
        for lane in (spec, sound, _plot_lane(window, CONTRIBUTION)):
            x0, x1 = lane.plot.getViewBox().viewRange()[0]
            assert abs(x0 - 0.5) < 1e-6 and abs(x1 - 1.25) < 1e-6
        assert sound.plot.getViewBox().viewRange()[1] == spec.plot.getViewBox().viewRange()[1]

        # The contribution lane: per-window Shapley values, a gap for the face the clip lacks.
        data = svc.contributions(explainer)
        xs, ys = lanes.contribution.curve_data("audio")
        np.testing.assert_allclose(xs, explainer.times)
        np.testing.assert_allclose(ys, data.values[:, 2])
        assert np.isnan(lanes.contribution.curve_data("face")[1]).all()
        fused = explainer.table().probs[:, :, explainer.labels.index(data.target)]
        np.testing.assert_allclose(np.nansum(data.values, 1), fused[-1] - fused[0], atol=1e-6)

        # One playhead: the lanes' lines move with the clock, and the sound lane outlines the window
        # the Explain tab shows at the playhead.
        with qtbot.waitSignal(
            panel.explained, timeout=60_000, check_params_cb=lambda r: abs(r.time - 1.25) < 0.2
        ):
            window.clock.seek(1.2)
        for name in (SOUND, CONTRIBUTION, "Spectrogram"):
            assert abs(_plot_lane(window, name).playhead.value() - 1.2) < 1e-6
        span = lanes.sound.window_span()
        spec_map = panel.current.maps["audio"]
        assert (
            span == pytest.approx((spec_map.extra["t0"], spec_map.extra["t1"])) and span[0] <= 1.2 <= span[1]
        )

        # View ▸ Lanes lists them.
        window.lanes_action.trigger()
        listed = [window.lanes_dialog.list.item(i).text() for i in range(window.lanes_dialog.list.count())]
        assert SOUND in listed and CONTRIBUTION in listed
        window.lanes_dialog.reject()
        window.grab().save(str(tmp_path / "explain_lanes.png"))

        # Another clip: the lanes empty (and say why), the panel forgets the old explainer.
        with qtbot.waitSignal(window.current_clip_changed, timeout=30_000):
            window.load_clip(clips[1])
        assert panel.explainer is None and lanes.sound.map is None and lanes.sound.window_span() is None
        assert lanes.sound.image.image is None
        assert len(lanes.contribution.curve_data("audio")[0]) == 0
        assert "not explained" in lanes.sound.reason and "not explained" in lanes.contribution.reason
        assert lanes.contribution_data is None
    finally:
        window.workers.cancel_all()
        window.shutdown()


def test_a_newer_sound_request_wins(qtbot, explainer) -> None:
    _, timeline, workers, lanes = explain_lanes(qtbot)
    try:
        lanes.show(explainer)
        first = lanes.generation[SOUND]
        lanes.request_sound(explainer, "positive", "smoothgrad")  # the user changed class and method
        with qtbot.waitSignal(lanes.sound_ready, timeout=60_000):
            pass
        qtbot.waitUntil(lambda: not workers.active, timeout=60_000)
        newest = lanes.sound.map
        assert newest.target == "positive" and newest.method == "smoothgrad"
        dropped = lanes.dropped
        lanes._on_sound(
            first, svc.sound_saliency(explainer, "negative", "gradcam"), True
        )  # a late old answer
        assert lanes.sound.map is newest and lanes.dropped == dropped + 1
        assert (
            SOUND in timeline.lane(SOUND).label.text() and "smoothgrad" in timeline.lane(SOUND).label.text()
        )
    finally:
        assert workers.shutdown(30_000)


def test_attention_lane_for_seed002(qtbot) -> None:
    from tests.signals_factory import make_signals

    explainer = ClipExplainer("skeleton-fusion", make_signals(duration=6.0), allow_untrained=True)
    explainer.table()
    clock, timeline, workers, lanes = explain_lanes(qtbot, 6.0)
    try:
        with qtbot.waitSignal(lanes.attention_ready, timeout=60_000) as blocker:
            lanes.show(explainer)
        att = blocker.args[0]
        assert ATTENTION in [lane.name for lane in timeline.lanes] and SOUND not in lanes.names()
        expected = svc.attention(explainer)
        drawn = [
            m for m in explainer.modalities if m in expected.values and np.isfinite(expected.values[m]).any()
        ]
        assert drawn == ["audio"]  # these signals have no video frames; the skeleton stream is switched off
        xs, ys = lanes.attention.curve_data("audio")
        np.testing.assert_allclose(xs, expected.times)
        np.testing.assert_allclose(ys, expected.values["audio"])
        np.testing.assert_allclose(att.values["audio"], expected.values["audio"])
        assert np.nanmax(ys) > 1.0 > np.nanmin(ys)  # not uniform: it attends to some steps more
        assert np.isnan(lanes.attention.curve_data("visual")[1]).all()  # a gap, not a line at zero
        assert "visual" in lanes.attention.reason and "skeleton" in lanes.attention.reason
        clock.seek(2.0)
        assert abs(timeline.lane(ATTENTION).playhead.value() - 2.0) < 1e-6
    finally:
        assert workers.shutdown(30_000)


def test_sound_gaps_say_no_sound_when_the_clip_has_none() -> None:
    """Issue 22 item 9: a clip without audio said "audio had no say in 59 of 59 windows (mouth closed)"."""
    from types import SimpleNamespace

    from affectscope.app.qt.explain_lanes import unused_reason
    from affectscope.models.signals import Track

    silent = SimpleNamespace(tracks={"audio": Track.empty("clip has no audio track")})
    assert unused_reason(silent, 59, 59) == "no sound to explain (clip has no audio track)"
    speech = SimpleNamespace(tracks={"audio": Track(np.arange(3) / 16000, np.zeros(3, np.float32))})
    assert unused_reason(speech, 4, 59) == "audio had no say in 4 of 59 windows (mouth closed)"
