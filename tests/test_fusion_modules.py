"""Early fusion modules: FC fusion, ModDrop (off-diagonal decay), score trees, VAE fusion."""

from __future__ import annotations

import pytest
import torch

from affectscope.models.fusion.early import FCEarlyFusion
from affectscope.models.fusion.moddrop import GammaSchedule, ModDropFusion
from affectscope.models.fusion.score_tree import ScoreTree
from affectscope.models.fusion.vae import VAEFusion


def test_fc_early_fusion_concatenates_and_zeroes_absent_modalities() -> None:
    fusion = FCEarlyFusion({"a": 4, "b": 2}, num_classes=3, hidden=5)
    assert sum(p.numel() for p in fusion.parameters()) == (6 * 5 + 5) + (5 * 3 + 3)
    h = {"a": torch.ones(2, 4), "b": torch.full((2, 2), 2.0)}
    x = fusion.concat(h, {"b": torch.tensor([1.0, 0.0])})
    assert x.shape == (2, 6) and x[1, 4:].eq(0).all() and x[0, 4:].eq(2).all()
    assert fusion(h).shape == (2, 3)


def test_moddrop_blocks_and_off_diagonal_penalty() -> None:
    torch.manual_seed(0)
    fusion = ModDropFusion([3, 2, 4], [5, 6, 7], num_classes=3)
    assert fusion.block(1, 2).shape == (6, 4)
    with torch.no_grad():
        fusion.first.weight.zero_()
        fusion.block(0, 0).fill_(1.0)  # a diagonal block: no penalty
        assert fusion.off_diagonal_penalty() == 0
        fusion.block(2, 0).fill_(1.0)  # 7×3 ones: Frobenius norm sqrt(21)
    assert fusion.off_diagonal_penalty().item() == pytest.approx(21**0.5)


def test_decaying_gamma_zeroes_cross_modal_blocks_then_releases_them() -> None:
    torch.manual_seed(0)
    fusion = ModDropFusion([2, 2], 4, num_classes=2, p_drop=0.0, dropout=0.0)
    x = [torch.randn(64, 2), torch.randn(64, 2)]
    y = ((x[0][:, 0] * x[1][:, 0]) > 0).long()  # needs both modalities: cross-modal information
    opt = torch.optim.SGD(fusion.parameters(), lr=0.05)
    off = lambda: fusion.off_diagonal_penalty().item()  # noqa: E731
    start = off()
    for _ in range(200):  # gamma high: the off-diagonal blocks shrink
        opt.zero_grad()
        (torch.nn.functional.cross_entropy(fusion(x)[0], y) + 1.0 * fusion.off_diagonal_penalty()).backward()
        opt.step()
    shrunk = off()
    assert shrunk < 0.2 * start
    schedule = GammaSchedule(1.0, 0.5, stop=5)
    assert schedule(0) == 1.0 and schedule(1) == 0.5 and schedule(5) == 0.0
    for _ in range(200):  # gamma 0: cross-modal weights come back
        opt.zero_grad()
        torch.nn.functional.cross_entropy(fusion(x)[0], y).backward()
        opt.step()
    assert off() > shrunk


def test_moddrop_drops_whole_modalities_only_while_training() -> None:
    torch.manual_seed(0)
    fusion = ModDropFusion([3, 3], 4, num_classes=2, p_drop=0.5)
    keep = fusion.modality_keep(1000, torch.device("cpu"))
    assert keep.sum(1).min() >= 1  # never every modality at once
    assert 0.35 < float(keep.mean()) < 0.8
    x = [torch.randn(4, 3), torch.randn(4, 3)]
    fusion.eval()
    assert torch.equal(fusion(x)[0], fusion(x)[0])
    fusion.cross_modal = False  # Neverova's warm-up: off-diagonal blocks ignored
    with torch.no_grad():
        fusion.block(1, 0).fill_(100.0)
    only_b = fusion(x, torch.tensor([[0.0, 1.0]] * 4))[1]
    assert torch.allclose(only_b[:, :4], torch.relu(fusion.first.bias[:4]).expand(4, -1))


def test_score_tree_levels_and_shapes() -> None:
    torch.manual_seed(0)
    tree = ScoreTree([5, 6, 7], num_classes=7, hidden=8)
    feats = [torch.randn(2, d) for d in (5, 6, 7)]
    scores = [torch.softmax(torch.randn(2, 7), -1) for _ in range(3)]
    out = tree(feats, scores)
    assert out.logits.shape == (2, 7) and len(out.level1) == len(out.level2) == 3
    assert tree.level2[0][0].in_features == 21  # own 7 + two other modalities' 7 each, as in the paper
    out.logits.sum().backward()
    assert tree.level1[2][0].weight.grad is not None
    masked = tree.eval()(feats, scores, torch.tensor([[1.0, 1.0, 0.0]] * 2))
    changed = [s.clone() for s in scores]
    changed[2] = torch.softmax(torch.randn(2, 7), -1)
    again = tree(feats[:2] + [torch.randn(2, 7)], changed, torch.tensor([[1.0, 1.0, 0.0]] * 2))
    assert torch.allclose(masked.logits, again.logits)  # a masked modality's inputs do not matter


def test_vae_fusion_has_a_20d_latent_and_learns() -> None:
    torch.manual_seed(0)
    vae = VAEFusion(in_dim=12, num_classes=3)
    assert vae.mu.out_features == 20
    x = torch.randn(30, 12)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 1).long()
    opt = torch.optim.Adam(vae.parameters(), lr=1e-2)
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = vae.loss(x, vae(x), y, beta=0.1)
        first = first if first is not None else loss.item()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first
    vae.eval()
    a, b = vae(x), vae(x)
    assert torch.equal(a.z, a.mu) and torch.equal(a.logits, b.logits)  # deterministic at inference
