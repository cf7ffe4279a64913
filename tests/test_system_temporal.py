"""Seed 001 (temporal fusion): paper sizes, window training, inputs from signals, fusion, weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from affectscope.errors import WeightsError
from affectscope.models import registry
from affectscope.models.fusion.voting import choose_weights
from affectscope.models.systems.audio_functionals import DIM, audio_functionals, feature_names
from affectscope.models.systems.base import collate
from affectscope.models.systems.c3d import C3D
from affectscope.models.systems.temporal import (
    MODALITIES,
    TemperatureSchedule,
    build,
    weighted_window_loss,
    window_weights,
)
from affectscope.models.systems.temporal_inputs import window_count, window_descriptors
from affectscope.models.weights import load_state, save_state
from tests.signals_factory import make_signals


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_sizes_forward_backward_and_parameter_counts() -> None:
    model = registry.get("temporal-fusion-paper").build()
    # PyTorch LSTM: 4h(in + h) weights + 2·4h biases.
    assert _count(model.branches["face"].lstm) == 4 * 2230 * (4096 + 2230) + 8 * 2230
    assert _count(model.branches["c3d"].lstm) == 4 * 1324 * (4096 + 1324) + 8 * 1324
    assert _count(model.branches["audio"]) == (1582 * 279 + 279) + 2 * 279 + (279 * 3 + 3)
    assert model.windows == 33  # 272 frames, 16-frame windows sharing 8
    b, t, w = 2, 12, 5  # short sequences: the LSTMs take any length up to 272 frames / 34 windows
    batch = {
        "face": torch.randn(b, t, 4096),
        "face_len": torch.tensor([12, 7]),
        "c3d": torch.randn(b, w, 4096),
        "c3d_len": torch.tensor([5, 2]),
        "audio": torch.randn(b, 1582),
    }
    out = model(batch)
    assert out.logits.shape == (b, 3) and set(out.per_modality) == set(MODALITIES)
    assert {k: v.shape[1] for k, v in out.hidden.items()} == {"face": 297, "c3d": 304, "audio": 279}
    model.training_loss(out, torch.tensor([0, 2]), batch).backward()
    assert model.branches["face"].lstm.weight_ih_l0.grad is not None


def test_variable_length_ignores_padding() -> None:
    torch.manual_seed(0)
    model = build(face_hidden=16, c3d_hidden=16).eval()
    batch = model.batch_from_signals(make_signals(duration=4.0), 0.0, 4.0)
    batch["face_len"] = torch.tensor([20])
    padded = dict(batch)
    padded["face"] = batch["face"].clone()
    padded["face"][:, 20:] = 100.0
    with torch.no_grad():
        assert torch.allclose(model(batch).per_modality["face"], model(padded).per_modality["face"])


def test_c3d_definition_matches_the_published_network() -> None:
    net = C3D()
    convs = [(3, 64), (64, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512), (512, 512)]
    conv_params = sum(i * o * 27 + o for i, o in convs)
    fcs = (8192 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 487 + 487)
    assert _count(net) == conv_params + fcs
    with pytest.raises(WeightsError, match="C3D Sports-1M"):
        net.load_pretrained(None)


@pytest.mark.slow
def test_c3d_fc7_on_one_16_frame_window() -> None:
    with torch.no_grad():
        assert C3D().eval().fc7_features(torch.zeros(1, 3, 16, 112, 112)).shape == (1, 4096)


def test_windows_with_and_without_overlap_and_self_padding() -> None:
    seq = np.arange(64 * 2, dtype=np.float32).reshape(64, 2)
    assert window_count(64, 0) == 4 and window_count(64, 8) == 7 and window_count(64, 15) == 49
    assert window_descriptors(seq, 0).shape == (4, 6)
    short = window_descriptors(seq[:5], 0)  # fewer than 16 frames: padded by itself
    assert short.shape == (1, 6) and np.isclose(short[0, 0], seq[:5, 0].mean(), atol=2.0)
    with pytest.raises(ValueError, match="overlap"):
        window_count(64, 16)


def test_score_weighted_windows_favour_the_window_showing_the_label() -> None:
    logits = torch.tensor([[[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 4.0]]])
    label = torch.tensor([1])
    hot, cold = window_weights(logits, label, 5.0), window_weights(logits, label, 0.05)
    assert torch.allclose(hot.sum(-1), torch.ones(1)) and torch.allclose(cold.sum(-1), torch.ones(1))
    assert hot.argmax() == 1 and cold[0, 1] > 0.99 and hot[0, 1] < cold[0, 1]
    masked = window_weights(logits, label, 1.0, torch.tensor([[1.0, 0.0, 1.0]]))
    assert masked[0, 1] == 0
    schedule = TemperatureSchedule(2.0, 0.5, 0.1)
    assert [schedule(e) for e in (0, 1, 2, 10)] == [2.0, 1.0, 0.5, 0.1]
    loss = weighted_window_loss(logits.requires_grad_(), label, 1.0)
    loss.backward()
    assert logits.grad is not None


def test_batch_from_signals_with_and_without_faces_and_audio() -> None:
    model = build(face_hidden=32, c3d_hidden=32)
    full = model.batch_from_signals(make_signals(duration=4.0), 0.0, 4.0)
    assert full["face"].shape == (1, 64, 144) and full["c3d"].shape == (1, 4, 432)
    assert full["audio"].shape == (1, DIM)
    assert all(float(full[f"{m}_mask"]) == 1.0 for m in MODALITIES)
    none = model.batch_from_signals(make_signals(duration=4.0, faces=False, audio=False), 0.0, 4.0)
    assert all(float(none[f"{m}_mask"]) == 0.0 for m in MODALITIES)
    out = model.eval()(collate([full, none]))
    assert torch.isfinite(out.logits).all()
    assert torch.allclose(out.logits[1].softmax(-1), torch.full((3,), 1 / 3), atol=0.2)
    assert not out.hidden["face"][1].any()


def test_audio_functionals_follow_the_voice() -> None:
    rate = 16000
    t = np.arange(rate * 2) / rate
    # A little noise makes the tones voice-like enough for openSMILE's pitch tracker.
    noise = np.random.default_rng(0).normal(0, 0.01, len(t))
    low = audio_functionals((0.5 * np.sin(2 * np.pi * 150 * t) + noise).astype(np.float32))
    high = audio_functionals((0.5 * np.sin(2 * np.pi * 300 * t) + noise).astype(np.float32))
    assert DIM == 1582 and low.shape == (DIM,) and np.isfinite(low).all()
    f0_mean = feature_names().index("F0final_sma_amean")  # IS10's pitch (Hz), mean over voiced frames
    assert abs(low[f0_mean] - 150) < 10 and abs(high[f0_mean] - 300) < 20


@pytest.mark.parametrize("fusion", ["moddrop", "score_tree", "weighted_mean", "mean", "vote", "max"])
def test_every_fusion_method(fusion: str) -> None:
    torch.manual_seed(0)
    model = build(fusion=fusion, face_hidden=32, c3d_hidden=32)
    batch = collate(
        [model.batch_from_signals(make_signals(duration=4.0, seed=s), 0.0, 4.0) for s in range(2)]
    )
    labels = torch.tensor([0, 2])
    model.training_loss(model(batch), labels, batch, stage="windows").backward()
    assert model.window_head.weight.grad is not None
    model.training_loss(model(batch), labels, batch, stage="modalities").backward()
    model.freeze_branches()
    out = model(batch)
    assert torch.allclose(out.logits.softmax(-1).sum(-1), torch.ones(2), atol=1e-5)
    if model.fusion_parameters():
        model.training_loss(out, labels, batch, epoch=0).backward()
        assert all(p.grad is not None for p in model.fusion_parameters() if p.requires_grad)


def test_weighted_mean_weights_chosen_on_validation_are_saved(tmp_path: Path) -> None:
    model = build(fusion="weighted_mean", face_hidden=16, c3d_hidden=16)
    labels = torch.tensor([0, 1, 2, 0])
    good = torch.nn.functional.one_hot(labels, 3).float() * 0.8 + 0.2 / 3
    biased = torch.nn.functional.one_hot(torch.ones(4, dtype=torch.long), 3).float()  # always "1"
    weights = choose_weights({"face": biased, "c3d": good, "audio": biased}, labels)
    # c3d must outweigh the rest: 0.8·w > 1 - w needs w ≥ 0.6; the most uniform such choice wins.
    assert weights == pytest.approx({"face": 0.2, "c3d": 0.6, "audio": 0.2})
    model.set_fusion_weights(weights)
    path = save_state(model, tmp_path / "t.safetensors")
    other = build(fusion="weighted_mean", face_hidden=16, c3d_hidden=16)
    load_state(other, path)
    assert other.fusion_weight_map() == pytest.approx(model.fusion_weight_map())


def test_weights_round_trip_and_clear_errors(tmp_path: Path) -> None:
    model = build(face_hidden=16, c3d_hidden=16).eval()
    path = save_state(model, tmp_path / "temporal.safetensors", {"name": "temporal-fusion"})
    other = build(face_hidden=16, c3d_hidden=16).eval()
    load_state(other, path)
    batch = model.batch_from_signals(make_signals(duration=4.0), 0.0, 4.0)
    with torch.no_grad():
        assert torch.equal(model(batch).logits, other(batch).logits)
    with pytest.raises(WeightsError, match="shape mismatches"):
        load_state(build(face_hidden=24, c3d_hidden=16), path)
    with pytest.raises(WeightsError, match="not found"):
        load_state(other, tmp_path / "absent.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a tensor file at all")
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        load_state(other, bad)
