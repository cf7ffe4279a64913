"""Seed 000 (Fusical): branches at the paper's sizes, inputs from signals, fusion modes, weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from affectscope.errors import WeightsError
from affectscope.models import registry
from affectscope.models.systems.ablation import mask_modality
from affectscope.models.systems.base import collate
from affectscope.models.systems.fusical import MODALITIES, FusicalSystem, build
from affectscope.models.systems.fusical_branches import ConvLSTM2d, resnet50_trunk
from affectscope.models.weights import load_state, save_state
from tests.signals_factory import make_signals


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _paper_batch(b: int = 2) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "scene": torch.randn(b, 12, 2048, 10, 15, generator=g),
        "pose": torch.rand(b, 12, 27, generator=g),
        "audio": torch.randn(b, 11, 6144, generator=g),
        "laughter": torch.randn(b, 10, 128, generator=g),
        "face": torch.rand(b, 12, 22, generator=g),
        "caption": torch.randn(b, 384, generator=g),
    }


def test_paper_sizes_forward_backward_and_parameter_counts() -> None:
    model = build(scene_input="features", audio_dim=6144, laughter_dim=128)
    out = model(_paper_batch())
    assert out.logits.shape == (2, 3)
    assert set(out.per_modality) == set(MODALITIES)
    assert all(v.shape == (2, 3) for v in out.per_modality.values())
    # Hidden layers at the fusion input: 3 heads × 10 filters × 8×13 ('valid' 3×3 on 10×15), BiLSTMs, score.
    dims = {k: v.shape[1] for k, v in out.hidden.items()}
    assert dims == {"scene": 3120, "pose": 128, "audio": 256, "laughter": 1, "face": 64, "caption": 16}
    out.logits.sum().backward()
    assert model.branches["scene"].heads[0].input_conv.weight.grad is not None

    br = model.branches
    # One ConvLSTM head on ResNet-50 maps: 3·3·2048·40 + 40 (input kernel, bias) + 3·3·10·40 (recurrent).
    assert _count(br["scene"].heads[0]) == 737_280 + 40 + 3_600
    # Face: BiLSTM(22→32) = 2·(4·32·22 + 4·32·32 + 2·4·32) = 14,336; dense 64·8+8 = 520; 8·3+3 = 27.
    assert _count(br["face"]) == 14_336 + 520 + 27
    # Caption: 384·16+16 and 16·3+3.
    assert _count(br["caption"]) == 6_160 + 51
    # Audio CNN on OpenL3 frames: 6144·64·3+64, 64·512·3+512, 512·512·3+512.
    assert _count(br["audio"].cnn) == 1_179_712 + 98_816 + 786_944


def test_resnet50_trunk_maps_frames_to_the_grid_the_heads_expect() -> None:
    trunk = resnet50_trunk()
    # torchvision ResNet-50 is 25,557,032 parameters; the FC (2048·1000 + 1000) is cut off.
    assert _count(trunk) == 25_557_032 - 2_049_000
    with torch.no_grad():
        assert trunk.eval()(torch.zeros(1, 3, 64, 96)).shape == (
            1,
            2048,
            2,
            3,
        )  # stride 32, as 320×480 → 10×15


def test_convlstm_remembers_order() -> None:
    torch.manual_seed(0)
    cell = ConvLSTM2d(2, 4)
    x = torch.randn(1, 5, 2, 6, 6)
    assert cell(x).shape == (1, 4, 4, 4)
    assert not torch.allclose(cell(x), cell(x.flip(1)))


def test_batch_from_signals_with_everything_and_with_nothing() -> None:
    model = build()
    full = model.batch_from_signals(make_signals(caption=True), 0.0, 5.0)
    assert full["scene"].shape == (1, 12, 10, 10, 15)
    assert full["pose"].shape == (1, 12, 27) and full["face"].shape == (1, 12, 22)
    assert full["audio"].shape == (1, 11, 128) and full["laughter"].shape == (1, 10, 1)
    assert all(float(full[f"{m}_mask"]) == 1.0 for m in MODALITIES)
    assert float(full["face"][0, :, -1].max()) == 2.0  # two faces per frame
    assert float(full["pose"][0, :, -1].max()) == 2.0  # people count
    assert float(full["pose"][0, :, :26].min()) == -1.0  # hidden ankles are marked undetected
    assert full["scene"][0, :, 0].sum() > 0  # face boxes land on the grid

    bare = make_signals(faces=False, audio=False, pose=False, laughter=False)
    empty = model.batch_from_signals(bare, 0.0, 5.0)
    for m in ("pose", "audio", "laughter", "face", "caption"):
        assert float(empty[f"{m}_mask"]) == 0.0 and not empty[m].any()
    assert float(empty["scene_mask"]) == 1.0  # frames were analysed: the scene map exists, empty
    out = model(collate([full, empty]))
    assert out.logits.shape == (2, 3) and torch.isfinite(out.logits).all()
    assert not out.hidden["audio"][1].any()  # absent modality enters the fusion as zeros


@pytest.mark.parametrize("fusion", ["fc", "soft", "hard", "weighted", "vae"])
def test_every_fusion_method_trains(fusion: str) -> None:
    torch.manual_seed(0)
    model = build(fusion=fusion)
    batch = collate([model.batch_from_signals(make_signals(seed=s), 0.0, 5.0) for s in range(2)])
    labels = torch.tensor([0, 2])
    loss = model.training_loss(model(batch), labels, batch, stage="branches")
    loss.backward()
    assert model.branches["face"].fc.weight.grad is not None
    model.zero_grad()
    model.freeze_branches()
    out = model(batch)
    probs = out.logits.softmax(-1)
    assert torch.allclose(probs.sum(-1), torch.ones(2), atol=1e-5)
    if fusion in ("fc", "vae"):
        model.training_loss(out, labels, batch, stage="fusion").backward()
        assert all(p.grad is None for p in model.branches.parameters())  # frozen branches
        assert any(p.grad is not None for p in model.fusion_parameters())


def test_fc_fusion_learns_a_small_labelled_set() -> None:
    """Stage 2 on frozen branches: the fusion fits labels carried by the laughter input."""
    torch.manual_seed(0)
    model = build()
    model.freeze_branches()
    batches = [model.batch_from_signals(make_signals(seed=s), 0.0, 5.0) for s in range(6)]
    batch = collate(batches)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    batch["caption"] = torch.nn.functional.one_hot(labels, 384).float() * 3  # a label-bearing input
    batch["caption_mask"] = torch.ones(6)
    model.branches["caption"].dense[0].weight.data[:3, :3] += torch.eye(3) * 2
    opt = torch.optim.Adam(model.fusion_parameters(), lr=0.01)
    for _ in range(200):
        opt.zero_grad()
        model.training_loss(model(batch), labels, batch).backward()
        opt.step()
    assert (model(batch).logits.argmax(-1) == labels).all()


def test_ablation_masks_one_modality() -> None:
    model = build().eval()
    batch = model.batch_from_signals(make_signals(), 0.0, 5.0)
    ablated = mask_modality(batch, "audio")
    assert float(ablated["audio_mask"]) == 0.0 and not ablated["audio"].any()
    assert torch.equal(ablated["pose"], batch["pose"])
    with torch.no_grad():
        assert not torch.allclose(model(batch).logits, model(ablated).logits)


def test_weights_round_trip_and_clear_errors(tmp_path: Path) -> None:
    spec = registry.get("fusical")
    model: FusicalSystem = spec.build()
    path = save_state(model, tmp_path / "fusical.safetensors", {"name": spec.name})
    other: FusicalSystem = spec.build()
    load_state(other, path)
    batch = model.batch_from_signals(make_signals(), 0.0, 5.0)
    with torch.no_grad():
        assert torch.equal(model.eval()(batch).logits, other.eval()(batch).logits)

    with pytest.raises(WeightsError, match="not found"):
        load_state(other, tmp_path / "missing.safetensors")
    with pytest.raises(WeightsError, match="does not fit"):
        load_state(build(num_classes=7), path)
    wrong = tmp_path / "wrong.safetensors"
    save_file({"something.else": torch.zeros(2)}, str(wrong))
    with pytest.raises(WeightsError, match="missing keys"):
        load_state(other, wrong)
    pickled = tmp_path / "ckpt.pth"
    torch.save({"a": torch.zeros(1)}, pickled)
    with pytest.raises(WeightsError, match="not a readable safetensors"):
        load_state(other, pickled)
    with pytest.raises(WeightsError, match="ResNet-50"):
        build(scene_input="frames").load_scene_backbone(None)
