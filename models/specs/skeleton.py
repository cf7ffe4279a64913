"""Seed 002 (skeleton fusion with NeXtVLAD + squeeze-excitation): registry entries, torch-free."""

from __future__ import annotations

from affectscope.models.registry import ModelSpec, register

# The paper's architecture (Peng et al., MiGA@IJCAI 2023, §2 and §3.2); T = 100 steps per window.
ARCHITECTURE = {
    "seq_len": 100,
    "heads": 4,
    "groups": 8,
    "clusters": 4,
    "expansion": 2,
    "fusion_dim": 512,
    "se_reduction": 8,
    "mlp_hidden": 512,
    "num_classes": 3,
}
_WINDOW = 4.0  # seconds per prediction: 100 steps at 25 Hz

SKELETON_FUSION = register(
    ModelSpec(
        name="skeleton-fusion",
        title="Skeleton fusion: transformer + NeXtVLAD + SE gating (seed 002)",
        seed="002",
        factory="affectscope.models.systems.skeleton:build",
        modalities=("visual", "audio", "skeleton"),
        label_set="sentiment3",
        input_rates={"visual": 25.0, "audio": 25.0, "skeleton": 25.0},
        weights="seed002_skeleton.safetensors",
        config={
            **ARCHITECTURE,
            "inputs": "signals",
            "window_seconds": _WINDOW,
            "hop_seconds": 1.0,
            "whole_clip": True,  # §2.1: T = 100 steps over the whole video
            "audio_level_db": -20.0,  # each clip's speech brought to one level first (audio_level.py)
            # no real labelled skeleton data here: that stream stays untrained and off
            "off_modalities": ("skeleton",),
        },
        description=(
            "Per-modality transformer encoder (4 heads) → NeXtVLAD (groups 8, clusters 4) → concatenation → "
            "squeeze-excitation gating (eqs. 1–4) → MLP 512 → classes, on T = 100 steps spread over the "
            "whole clip (§2.1; one prediction per clip). "
            "Stand-ins for the paper's extractors: visual Swin features (768) ← the 22 per-frame face "
            "features (min/max/mean over faces of mini-Xception's 7 expression probabilities + face count); "
            "audio VGGish embeddings (128) ← 64-band log-mel frames of the 16 kHz waveform (VGGish's front "
            "end); skeleton BlazePose 33×3 ← BlazePose 33 × (x/width, y/height, visibility). Each stream is "
            "projected to 128 "
            "features first (99 splits into neither 4 heads nor 8 groups). Per-modality logits: detached "
            "linear probes on each NeXtVLAD descriptor. The paper's own inputs: build with inputs='paper' "
            "(tracks swin768 and vggish128, visual stream at 768)."
        ),
    )
)
