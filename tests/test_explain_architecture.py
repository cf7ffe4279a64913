"""Keypoint saliency, SE-gate shares and attention over time on seed 002 (untrained weights)."""

from __future__ import annotations

import numpy as np
import torch

from affectscope.models.explain.architecture import attention_over_time, gate_weights
from affectscope.models.explain.saliency import system_maps
from affectscope.models.explain.shapley import shapley_values, subset_table
from affectscope.models.extractors.pose import KEYPOINT_NAMES
from affectscope.models.registry import get
from affectscope.models.systems.base import collate
from tests.signals_factory import make_signals


def test_seed002_keypoints_gates_attention_and_shapley() -> None:
    torch.manual_seed(0)
    system = get("skeleton-fusion").build(off_modalities=()).eval()  # every stream live, even untrained
    signals = make_signals(duration=6.0)
    batch = collate([system.batch_from_signals(signals, t, t + system.window_seconds) for t in (0.0, 1.0)])
    one = {k: v[:1] for k, v in batch.items()}

    maps = system_maps(system, one, target=0)
    joints = maps["skeleton"]
    assert joints.kind == "keypoints" and joints.names == tuple(KEYPOINT_NAMES)
    assert joints.values.shape == (33,) and (joints.values >= 0).all() and joints.values.sum() > 0
    # IG completeness on the pose input: the attributions account for f(x) - f(0).
    assert joints.convergence_delta is not None

    gates = gate_weights(system, batch)
    total = sum(gates[m] for m in system.modalities)
    present = batch["visual_mask"].numpy() + batch["audio_mask"].numpy() + batch["skeleton_mask"].numpy()
    np.testing.assert_allclose(total[present > 0], 1.0, atol=1e-5)

    att = attention_over_time(system, batch)
    assert set(att) == set(system.modalities)
    for a in att.values():
        assert a.shape == (2, system.seq_len)
        np.testing.assert_allclose(a.sum(1), 1.0, atol=1e-5)

    table = subset_table(system, batch)
    phi = shapley_values(table[:, :, 1])
    np.testing.assert_allclose(phi.sum(0), table[-1, :, 1] - table[0, :, 1], atol=1e-9)


def test_a_switched_off_stream_gets_no_map_and_no_error() -> None:
    """The shipped skeleton-fusion reads no skeleton (untrained, switched off): explained without it."""
    torch.manual_seed(0)
    system = get("skeleton-fusion").build().eval()
    assert "skeleton" in system.off_modalities
    signals = make_signals(duration=6.0)
    one = collate([system.batch_from_signals(signals, 0.0, system.window_seconds)])
    maps = system_maps(system, one, target=0)
    assert "skeleton" not in maps and maps  # the live streams are still explained
