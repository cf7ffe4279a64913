"""The memory switches of the paper-sized encoders (issue 19, item 8; ``models/systems/memory.py``).

Checkpointed encoders must train exactly as plain ones (same loss, same gradients) and keep their
parameter names; frozen encoders must not change at all in a training step (weights and batch-norm
statistics) while the rest of the system still learns. The peak-memory figures themselves need a
GPU: ``bench/bench_paper_memory.py``, reported in docs/models.md.
"""

from __future__ import annotations

import copy

import pytest
import torch

from affectscope.models.registry import get
from affectscope.models.systems.fusical_branches import SceneBranch


def _small_crossmodal(**overrides):
    torch.manual_seed(0)
    return get("crossmodal-attention").build(vision_backbone="resnet18", frame_size=32, **overrides)


def _batch(model, b: int = 2) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {
        "visual": torch.randn(b, 2, 3, 32, 32, generator=g),
        "visual_mask": torch.ones(b),
        "audio": torch.randn(b, 8000, generator=g) * 0.1,
        "audio_mask": torch.ones(b),
    }


def _step(model, batch):
    model.train()
    torch.manual_seed(3)  # the same dropout masks in both models
    loss = model.loss_fn(model(batch), torch.tensor([0, 2]))
    loss.backward()
    return loss


def test_checkpointed_encoders_train_exactly_like_plain_ones():
    plain, ckpt = _small_crossmodal(), _small_crossmodal(checkpointed_encoders=True)
    ckpt.load_state_dict(plain.state_dict())
    assert list(ckpt.state_dict()) == list(plain.state_dict())  # saved weights stay interchangeable
    batch = _batch(plain)
    la, lb = _step(plain, batch), _step(ckpt, batch)
    assert torch.allclose(la, lb, atol=1e-6)
    for (name, pa), (_, pb) in zip(plain.named_parameters(), ckpt.named_parameters(), strict=True):
        if pa.grad is None:
            assert pb.grad is None, name
            continue
        assert torch.allclose(pa.grad, pb.grad, atol=1e-5, rtol=1e-4), name
    assert any(p.grad is not None for p in ckpt.speech.parameters())


def test_frozen_encoders_do_not_change_in_a_training_step_but_the_head_learns():
    model = _small_crossmodal(frozen_encoders=True)
    before = copy.deepcopy(model.state_dict())
    opt = torch.optim.Adam([p for g in model.param_groups(1e-2) for p in g["params"]], lr=1e-2)
    _step(model, _batch(model))
    opt.step()
    after = model.state_dict()
    enc = [k for k in after if k.startswith(("vision.", "speech."))]
    head = [k for k in after if k.startswith("attention.") and after[k].is_floating_point()]
    assert enc and head
    assert all(torch.equal(before[k], after[k]) for k in enc)  # weights and batch-norm statistics
    assert any(not torch.equal(before[k], after[k]) for k in head)
    assert {g["name"] for g in model.param_groups(1e-3)} == {"head"}


def test_frozen_scene_trunk_stays_frozen_after_the_fusion_stage_unfreezes_branches():
    model = get("fusical-paper").build(frozen_backbone=True)
    model.freeze_branches(True)
    model.freeze_branches(False)
    trunk = model.branches["scene"].backbone
    assert not any(p.requires_grad for p in trunk.parameters())
    assert any(p.requires_grad for p in model.branches["scene"].heads.parameters())


@pytest.mark.parametrize("switch", ["frozen_backbone", "checkpointed_backbone"])
def test_scene_branch_switches_keep_the_outputs_of_the_plain_trunk(switch):
    torch.manual_seed(0)
    plain = SceneBranch(2048, 3, grid=(3, 4), with_backbone=True).eval()
    other = SceneBranch(2048, 3, grid=(3, 4), with_backbone=True, **{switch: True}).eval()
    other.load_state_dict(plain.state_dict())
    x = torch.randn(1, 2, 3, 96, 128)
    with torch.no_grad():
        assert torch.allclose(plain(x)[0], other(x)[0], atol=1e-5)
