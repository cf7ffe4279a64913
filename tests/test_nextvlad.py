"""NeXtVLAD (seed 002's aggregator) and the SE fusion block against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from affectscope.models.systems.nextvlad import NeXtVLAD
from affectscope.models.systems.se_gating import SqueezeExcitationFusion


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _reference_nextvlad(vlad: NeXtVLAD, x: np.ndarray) -> np.ndarray:
    """NeXtVLAD written out as its equation with loops, from the module's weights (eval-mode BN).

    v[j, k] = Σ_t Σ_g att_g(t) · softmax_k(assign_gk(t)) · (x̃_tg[j] − c[j, k]), then L2 over j per
    cluster, flattened j-major, then batch norm with running statistics.
    """
    p = {k: v.detach().double().numpy() for k, v in vlad.state_dict().items()}
    g_count, k_count, gd = vlad.groups, vlad.clusters, vlad.group_dim
    eps = vlad.assignment_bn.eps
    out = []
    for seq in x.astype(np.float64):
        v = np.zeros((gd, k_count))
        for frame in seq:
            wide = p["expand.weight"] @ frame + p["expand.bias"]
            att = 1 / (1 + np.exp(-(p["group_attention.weight"] @ wide + p["group_attention.bias"])))
            logits = p["assignment.weight"] @ wide
            logits = (logits - p["assignment_bn.running_mean"]) / np.sqrt(
                p["assignment_bn.running_var"] + eps
            )
            logits = logits * p["assignment_bn.weight"] + p["assignment_bn.bias"]
            for g in range(g_count):
                z = logits[g * k_count : (g + 1) * k_count]
                soft = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
                part = wide[g * gd : (g + 1) * gd]
                for k in range(k_count):
                    v[:, k] += att[g] * soft[k] * (part - p["centres"][:, k])
        v = v / np.maximum(np.linalg.norm(v, axis=0, keepdims=True), 1e-12)
        flat = v.reshape(-1)
        flat = (flat - p["out_bn.running_mean"]) / np.sqrt(p["out_bn.running_var"] + vlad.out_bn.eps)
        out.append(flat * p["out_bn.weight"] + p["out_bn.bias"])
    return np.stack(out)


def _randomise_bn(module: torch.nn.Module, gen: torch.Generator) -> None:
    """Non-trivial running statistics and affine terms, so the reference checks BN is wired right."""
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm1d):
            bn.running_mean.copy_(torch.randn(bn.num_features, generator=gen) * 0.1)
            bn.running_var.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
            bn.weight.data.copy_(torch.rand(bn.num_features, generator=gen) + 0.5)
            bn.bias.data.copy_(torch.randn(bn.num_features, generator=gen) * 0.1)


def test_matches_the_equation_written_out() -> None:
    gen = torch.Generator().manual_seed(0)
    vlad = NeXtVLAD(16, clusters=4, groups=8, expansion=2).eval()
    _randomise_bn(vlad, gen)
    x = torch.randn(2, 5, 16, generator=gen)
    with torch.no_grad():
        got = vlad(x).numpy()
    assert got.shape == (2, 4 * 2 * 16 // 8)
    np.testing.assert_allclose(got, _reference_nextvlad(vlad, x.numpy()), rtol=1e-4, atol=1e-5)


def test_parameter_counts_by_hand() -> None:
    # dim D, expansion 2, groups 8, clusters 4 (seed 002):
    #   expand D·2D + 2D; group attention 2D·8 + 8; assignment 2D·32 (no bias); its BN 2·32;
    #   centres (2D/8)·4; output BN 2·(4·2D/8)
    for d, expected in ((128, 33_024 + 2_056 + 8_192 + 64 + 128 + 256), (768, 1_245_000)):
        vlad = NeXtVLAD(d, clusters=4, groups=8, expansion=2)
        assert _count(vlad) == expected
        assert vlad.out_features == 4 * 2 * d // 8


def test_frames_are_an_orderless_set_and_masked_frames_drop_out() -> None:
    gen = torch.Generator().manual_seed(1)
    vlad = NeXtVLAD(32).eval()
    x = torch.randn(1, 10, 32, generator=gen)
    with torch.no_grad():
        base = vlad(x)
        shuffled = vlad(x[:, torch.randperm(10, generator=gen)])
        mask = torch.ones(1, 10)
        mask[0, 7:] = 0
        masked = vlad(x, mask)
        changed = x.clone()
        changed[0, 7:] = torch.randn(3, 32, generator=gen) * 5
        masked_changed = vlad(changed, mask)
    torch.testing.assert_close(base, shuffled, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(masked, masked_changed, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(base, masked, atol=1e-3)


def test_rejects_widths_the_groups_do_not_divide() -> None:
    with pytest.raises(ValueError, match="divisible"):
        NeXtVLAD(99, groups=8, expansion=1)


def test_se_fusion_follows_equations_2_to_4() -> None:
    gen = torch.Generator().manual_seed(2)
    se = SqueezeExcitationFusion(384, 512, reduction=8).eval()
    _randomise_bn(se, gen)
    f = torch.randn(3, 384, generator=gen)
    with torch.no_grad():
        fused, gates = se(f)
        f1 = torch.relu(se.bn1(f @ se.w1.weight.T))
        f2 = torch.sigmoid(se.bn2(torch.relu(f1 @ se.w2.weight.T + se.w2.bias)) @ se.w3.weight.T + se.w3.bias)
    torch.testing.assert_close(fused, f1 * f2)
    torch.testing.assert_close(gates, f2)
    assert bool(((gates > 0) & (gates < 1)).all())
    # W1 384·512 (no bias) + BN 2·512 + W2 512·64 + 64 + BN 2·64 + W3 64·512 + 512
    assert _count(se) == 196_608 + 1_024 + 32_832 + 128 + 33_280
