"""The cross-corpus reference (eGeMAPS + class-balanced linear classifier): registry entry, torch-free."""

from __future__ import annotations

from affectscope.models.registry import ModelSpec, register

SPEC = register(
    ModelSpec(
        name="egemaps-linear",
        title="Reference: eGeMAPS functionals, per-speaker standardised, + linear classifier",
        seed="reference",
        factory="affectscope.models.systems.reference:build",
        modalities=("audio",),
        label_set="sentiment3",
        input_rates={"audio": 16000.0},
        weights="reference_egemaps_linear.safetensors",
        config={"num_classes": 3, "min_group": 5},
        description=(
            "The field's standard cross-corpus baseline, reported beside every system: openSMILE "
            "eGeMAPSv02 (88 functionals over the whole clip), standardised per speaker with statistics "
            "from the clips being analysed (per speaker with >= 5 clips; else all clips of the run; a lone "
            "clip: the training set's), then scikit-learn's class-balanced logistic regression stored as a "
            "linear layer. Shipped weights: EmoDB only (CC0); `--recipe reference-egemaps`."
        ),
    )
)
