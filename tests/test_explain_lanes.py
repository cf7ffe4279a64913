"""Explanation lanes on the clip's time axis (issue 9), without a window: stitching puts each
window's map where its sound was, gaps stay gaps, and the contribution and attention data add up."""

from __future__ import annotations

import numpy as np
import torch

from affectscope.models.explain.shapley import ModalityTable
from affectscope.models.explain.timelines import (
    SoundSaliency,
    contribution_over_time,
    stitch_series,
    window_order,
)
from affectscope.models.systems.lightweight_inputs import spectrogram_columns, spectrogram_image


def test_spectrogram_columns_put_a_click_where_it_sounds() -> None:
    """Seed 004's picture columns mapped to seconds: a burst at 0.62 s is loudest at that column."""
    rate, size = 16000, 64
    x = np.zeros(rate, np.float32)
    burst = slice(int(0.61 * rate), int(0.63 * rate))
    x[burst] = np.random.default_rng(0).normal(0, 0.5, burst.stop - burst.start)
    img = spectrogram_image(x, rate, size)[0].numpy()  # (freq high first, time)
    cols = spectrogram_columns(rate, rate, size)
    assert cols.shape == (size,) and np.all(np.diff(cols) > 0)
    assert abs(cols[int(np.argmax(img.mean(0)))] - 0.62) < 0.03


def test_sound_saliency_stitches_windows_in_place_and_keeps_gaps() -> None:
    acc = SoundSaliency(duration=3.0, n_freq=4, max_freq=8000, column_seconds=0.05, total=3)
    cols = np.linspace(0.0, 1.0, 20, endpoint=False) + 0.025  # window 0–1 s
    hot = np.zeros((4, 20))
    hot[0, 10] = 1.0  # top row = highest frequency, at 0.525 s
    acc.add(cols, hot)
    acc.add(cols + 1.0, None)  # 1–2 s: the input had no say (routed out)
    tf = acc.result()
    assert tf.values.shape == (60, 4) and tf.done == 2 and tf.unused == 1 and not tf.complete
    t_peak, f_peak = np.unravel_index(np.nanargmax(tf.values), tf.values.shape)
    assert abs(tf.times[t_peak] - 0.525) <= 0.05 and f_peak == 3  # stored low frequency first
    assert np.isnan(tf.values[(tf.times > 1.1) & (tf.times < 1.9)]).all()  # a gap, not a zero
    assert np.isnan(tf.values[tf.times > 2.1]).all()  # not computed yet
    acc.add(cols + 0.5, hot)  # 0.5–1.5 s overlaps the unused window: averaged with its zero
    tf = acc.result()
    at = int(np.argmin(np.abs(tf.times - 1.025)))
    np.testing.assert_allclose(tf.values[at, 3], 0.5)
    assert np.isfinite(tf.values[(tf.times > 1.1) & (tf.times < 1.45)]).all()
    assert window_order(np.array([0.5, 1.0, 1.5, 2.0]), 1.6) == [2, 3, 1, 0]


def test_stitch_series_scales_to_uniform_and_skips_missing_windows() -> None:
    w = np.full((3, 4), 0.25)
    w[1] = [1.0, 0.0, 0.0, 0.0]
    times, v = stitch_series(np.array([0.0, 1.0, 2.0]), 1.0, w, 3.0, 0.25, present=np.array([1, 1, 0]))
    assert len(times) == 12
    np.testing.assert_allclose(v[:4], 1.0)  # uniform attention reads 1
    np.testing.assert_allclose(v[4:8], [4.0, 0.0, 0.0, 0.0])
    assert np.isnan(v[8:]).all()  # the window without the modality leaves a gap


def test_contribution_over_time_sums_to_the_fused_change_and_gaps_missing() -> None:
    rng = np.random.default_rng(1)
    probs = torch.softmax(torch.tensor(rng.normal(size=(8, 5, 3))), -1).numpy()
    table = ModalityTable(("face", "mouth", "audio"), ("a", "b", "c"), np.arange(5) + 0.5, probs)
    phi = contribution_over_time(table, 1)
    np.testing.assert_allclose(phi.sum(1), probs[-1, :, 1] - probs[0, :, 1], atol=1e-9)  # efficiency
    gaps = contribution_over_time(table, 1, {"face": np.array([1, 0, 1, 1, 0])})
    assert np.isnan(gaps[[1, 4], 0]).all() and np.isfinite(gaps[:, 1:]).all()


def test_batched_occlusion_equals_captum_one_patch_at_a_time(shared_data) -> None:
    """The lanes run occlusion on every window, so its occluded copies go through as one batch;
    the map must equal captum's one-forward-per-patch default on a real face."""
    from captum.attr import Occlusion

    from affectscope.models.explain.saliency import image_map
    from affectscope.models.extractors import mini_xception as mx
    from tests.explain_factory import fer_faces

    model = mx.build().eval()
    x = mx.preprocess(fer_faces(shared_data, per_class=1, classes=("happy",)))
    ours, _ = image_map(model, x, 3, "occlusion", occlusion_fraction=1 / 4)  # 16 px patches, 8 px apart
    with torch.no_grad():
        ref = Occlusion(model).attribute(
            x, sliding_window_shapes=(1, 16, 16), strides=(1, 8, 8), target=3, baselines=0.0
        )
    np.testing.assert_allclose(ours, ref[0].sum(0).numpy(), atol=1e-5)
    assert np.abs(ours).max() > 0
