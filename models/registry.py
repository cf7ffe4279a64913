"""Declarative, lazy model registry (STYLE.md §6).

A ``ModelSpec`` says what a model is (modalities, label set, input rates, weights file) and where
its code lives (``"module:factory"``), so listing models never imports torch. Systems register in
``BUILTIN`` below; third-party models join through the ``affectscope.models`` entry-point group,
whose objects are ``ModelSpec`` instances.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from affectscope.resources import resource_path

LABEL_SETS: dict[str, tuple[str, ...]] = {
    "sentiment3": ("positive", "neutral", "negative"),
    "emotion7": ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"),
    "plutchik8": ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"),
}


@dataclass(frozen=True)
class ModelSpec:
    """What a registered model is, without importing it."""

    name: str
    title: str
    seed: str  # which published system: "000".."004", or "perception"
    factory: str  # "affectscope.models.systems.lightweight:build" -> callable(**config) -> nn.Module
    modalities: tuple[str, ...]  # e.g. ("face", "mouth", "audio")
    label_set: str  # a key of LABEL_SETS
    input_rates: dict[str, float] = field(default_factory=dict)  # modality -> Hz (frames, windows)
    weights: str | None = None  # file name under resources/weights/ (an absolute path: an imported
    # model's own file), or None when none is shipped
    config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    outputs: tuple[str, ...] = ()  # label_set "continuous": the named continuous outputs (valence, ...)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.outputs if self.label_set == "continuous" else LABEL_SETS[self.label_set]

    def weights_path(self) -> Path | None:
        if not self.weights:
            return None
        return (
            Path(self.weights) if Path(self.weights).is_absolute() else resource_path("weights", self.weights)
        )

    def build(self, **overrides: Any) -> Any:
        """Import the model's module and build it (untrained) with its config."""
        module_name, _, attr = self.factory.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        return factory(**{**self.config, **overrides})


_REGISTRY: dict[str, ModelSpec] = {}
_LOADED = False


def register(spec: ModelSpec, replace: bool = False) -> ModelSpec:
    """Add ``spec``; ``replace`` lets a newer version of an imported model take its name's place."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name] != spec and not replace:
        raise ValueError(f"a different model is already registered as {spec.name!r}")
    _REGISTRY[spec.name] = spec
    return spec


def _load_builtin() -> None:
    """Import the built-in specs and entry points once, whatever was registered before."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    # The spec list lives in a torch-free module so that listing stays cheap.
    importlib.import_module("affectscope.models.catalog")
    for ep in entry_points(group="affectscope.models"):
        register(ep.load())


def all_specs() -> list[ModelSpec]:
    _load_builtin()
    return sorted(_REGISTRY.values(), key=lambda s: (s.seed, s.name))


def get(name: str) -> ModelSpec:
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"no model named {name!r}; registered: {known}") from None
