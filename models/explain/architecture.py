"""A system's own weights, read as explanation: gates, attention, fusion and voting weights.

Per system, ``gate_weights`` returns one (B,) array per modality, normalised to sum to 1 over the
modalities that have one (so they stand beside the Shapley bars), or None when the architecture has
no such weights:

* seed 002 (SE gating): each modality's share of the gated fused feature, Σ_j g_j·|W1[j, m]·x_m|;
* seed 003 (self- and cross-attention): the self-attention mass queries put on each modality's tokens;
* seed 001 (late fusion): the chosen fusion weights (equal for plain mean), zero where masked;
* seed 000 (voting): the voting weights of the present voters (laughter does not vote);
* seed 004 (routing): which networks decided — the face CNN always with a face, audio when the
  mouth router sends the moment to the audio-visual net (the router's open probability for mouth).

``attention_over_time`` gives, for the transformer systems (002, 003), the last layer's attention
averaged over queries and heads as (B, S) weights over the window's time steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from affectscope.models.systems.base import Batch, EmotionSystem


@contextmanager
def capture_attention(module: nn.Module) -> Iterator[dict[str, torch.Tensor]]:
    """Record the averaged attention weights (B, L, S) of every ``nn.MultiheadAttention`` under
    ``module`` by asking each for its weights (callers set ``need_weights=False``)."""
    seen: dict[str, torch.Tensor] = {}
    handles = []
    for name, sub in module.named_modules():
        if not isinstance(sub, nn.MultiheadAttention):
            continue

        def pre(_m, args, kwargs):
            kwargs = {**kwargs, "need_weights": True, "average_attn_weights": True}
            return args, kwargs

        def post(_m, _args, _kwargs, output, name=name):
            if isinstance(output, tuple) and output[1] is not None:
                seen[name] = output[1].detach()

        handles.append(sub.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(sub.register_forward_hook(post, with_kwargs=True))
    try:
        yield seen
    finally:
        for h in handles:
            h.remove()


def _run_capturing(system: EmotionSystem, batch: Batch) -> dict[str, torch.Tensor]:
    # Grad mode keeps nn.TransformerEncoderLayer off its fused fast path, which never calls the
    # attention module (so no hook would fire); nothing is backpropagated.
    with capture_attention(system) as seen, torch.enable_grad():
        system(batch)
    return seen


def _normalise(raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    total = np.sum(list(raw.values()), axis=0)
    return {m: np.where(total > 0, v / np.where(total > 0, total, 1.0), 0.0) for m, v in raw.items()}


def _masks(system: EmotionSystem, batch: Batch, b: int) -> dict[str, np.ndarray]:
    return {
        m: batch[f"{m}_mask"].float().reshape(b).cpu().numpy() if f"{m}_mask" in batch else np.ones(b)
        for m in system.modalities
    }


def gate_weights(system: EmotionSystem, batch: Batch) -> dict[str, np.ndarray] | None:
    """The architecture's own per-modality weights (see module doc), or None."""
    kind = type(system).__name__
    b = next(iter(batch.values())).shape[0]
    masks = _masks(system, batch, b)
    if kind == "SkeletonFusionSystem":
        return _se_shares(system, batch)
    if kind == "CrossModalSystem":
        seen = _run_capturing(system, batch)
        w = seen.get("attention.self_attention")
        if w is None:
            return None
        s_a = w.shape[-1] - _visual_tokens(system, batch)
        mass_a = w[..., :s_a].sum(-1).mean(-1).cpu().numpy()
        mass_v = w[..., s_a:].sum(-1).mean(-1).cpu().numpy()
        return _normalise({"visual": mass_v, "audio": mass_a})
    if kind == "TemporalFusionSystem":
        if system.fusion_method not in ("weighted_mean", "mean"):
            return None
        w = system.fusion_weight_map() if system.fusion_method == "weighted_mean" else {}
        return _normalise({m: masks[m] * float(w.get(m, 1.0)) for m in system.modalities})
    if kind == "FusicalSystem":
        if system.fusion_method not in ("weighted", "soft"):
            return None
        w = system.vote_weights if system.fusion_method == "weighted" else {}
        from affectscope.models.systems.fusical import VOTERS

        return _normalise(
            {m: masks[m] * float(w.get(m, 1.0)) if m in VOTERS else np.zeros(b) for m in system.modalities}
        )
    if kind == "LightweightStreaming":
        with torch.no_grad():
            out = system(batch)
        route = out.hidden["route_audiovisual"].reshape(b).cpu().numpy()
        p_open = out.hidden["mouth"].reshape(b).cpu().numpy() * masks["mouth"]
        return {"face": masks["face"], "mouth": p_open, "audio": route}
    return None


def _visual_tokens(system: EmotionSystem, batch: Batch) -> int:
    with torch.no_grad():
        f = batch["visual"][:1, :1].flatten(0, 1)
        return int(np.prod(system.vision(f).shape[-2:]))


def _se_shares(system: EmotionSystem, batch: Batch) -> dict[str, np.ndarray]:
    """Seed 002: Σ_j g_j·|W1[j, slice_m] x_m| per modality, normalised over modalities."""
    with torch.no_grad():
        out = system(batch)
        feats = [out.hidden[m] for m in system.modalities]
        x = torch.cat(feats, dim=1)
        _, gates = system.fusion(x)
        w1 = system.fusion.w1.weight  # (out, in)
        raw, start = {}, 0
        for m, f in zip(system.modalities, feats, strict=True):
            part = f @ w1[:, start : start + f.shape[1]].T  # (B, out)
            raw[m] = (gates * part.abs()).sum(1).cpu().numpy()
            start += f.shape[1]
    return _normalise(raw)


def attention_over_time(system: EmotionSystem, batch: Batch) -> dict[str, np.ndarray] | None:
    """Per modality, the last attention layer's weights over the window's time steps (B, S), each
    row summing to 1; None for systems without attention over time."""
    kind = type(system).__name__
    if kind == "SkeletonFusionSystem":
        seen = _run_capturing(system, batch)
        out = {}
        for m in system.modalities:
            w = seen.get(f"streams.{m}.encoder.self_attn")
            if w is not None:
                out[m] = w.mean(1).cpu().numpy()  # average over queries → (B, S)
        return out or None
    if kind == "CrossModalSystem":
        seen = _run_capturing(system, batch)
        w = seen.get("attention.visual_to_audio")  # Q = visual tokens, K = audio time steps
        if w is None:
            return None
        return {"audio": w.mean(1).cpu().numpy()}
    return None
