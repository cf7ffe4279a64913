"""Seed 001 (temporal multimodal fusion, Vielzeuf et al., EmotiW 2017): registry entries, torch-free."""

from __future__ import annotations

from affectscope.models.registry import ModelSpec, register

_SHARED = (
    "VGG-LSTM: per-frame face descriptors → one-layer LSTM (2230 units, variable length) → FC 297 → "
    "softmax; C3D-LSTM: descriptors of 16-frame windows (no overlap or 8/15 frames) → LSTM (1324) → FC 304; "
    "the window classifier is trained with score-weighted windows, w = exp(-s/T(t)) normalised per video, "
    "T decreasing; audio: functionals → FC 279 (batch norm, ReLU, dropout) → softmax. Fusion: ModDrop "
    "(modality dropout + the decaying weight decay on the off-diagonal blocks of the first layer), score "
    "trees, weighted mean with weights chosen on validation, mean, majority vote, max. ModDrop blocks (128) "
    "and score-tree width (64) are not given by the paper."
)
_RATES = {"face": 16.0, "c3d": 1.0, "audio": 0.25}

TEMPORAL = register(
    ModelSpec(
        name="temporal-fusion",
        title="Temporal multimodal fusion (seed 001), on perception signals",
        seed="001",
        factory="affectscope.models.systems.temporal:build",
        modalities=("face", "c3d", "audio"),
        label_set="sentiment3",
        input_rates=_RATES,
        weights="seed001_temporal.safetensors",
        config={
            "num_classes": 3,
            "fusion": "moddrop",
            "face_steps": 64,
            "overlap": 0,
            "audio_dim": 1582,  # openSMILE IS10 paralinguistic functionals
            "audio_level_db": -20.0,  # each clip's speech brought to one level first (audio_level.py)
            # LSTM widths scaled to the 144/432-d stand-in descriptors (2230/1324 in the paper for 4096)
            "face_hidden": 256,
            "c3d_hidden": 128,
        },
        description=(
            _SHARED + " Stand-ins trainable here: VGG-Face fc6 (4096) ← the longest face track's "
            "mini-Xception expression probabilities + box-normalised 68 landmarks + mouth openness (144 per "
            "frame, 16 per second); C3D fc7 (4096) ← mean, std and mean frame-to-frame change of those over "
            "each 16-frame window (432), fine-tuned by the score-weighted window stage (Eq. 1) whose "
            "features the "
            "C3D-LSTM reads; openSMILE emobase2010 (1582) ← openSMILE's IS10 paralinguistic functionals "
            "(1582, the opensmile package). LSTMs 256 (face) and 128 (C3D) wide for these small inputs."
        ),
    )
)

TEMPORAL_PAPER = register(
    ModelSpec(
        name="temporal-fusion-paper",
        title="Temporal multimodal fusion (seed 001), paper configuration: VGG-Face, C3D, openSMILE",
        seed="001",
        factory="affectscope.models.systems.temporal:build",
        modalities=("face", "c3d", "audio"),
        label_set="sentiment3",
        input_rates={"face": 25.0, "c3d": 25.0 / 16, "audio": 0.25},
        weights=None,
        config={
            "num_classes": 3,
            "fusion": "moddrop",
            "face_dim": 4096,
            "c3d_dim": 4096,
            "audio_dim": 1582,
            "face_steps": 272,
            "overlap": 8,
        },
        description=(
            _SHARED + " Inputs as published, supplied by the caller: VGG-Face fc6 per frame (vgg_face_fc6, "
            "weights=None), C3D fc7 per window (models.systems.c3d.C3D, Sports-1M weights via "
            "load_pretrained) and openSMILE emobase2010 vectors; none of these weights can be "
            "downloaded here."
        ),
    )
)
