"""``models import``: check a model file against its spec, then keep it and register it by name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from affectscope.models.exchange.runtime import ImportedSystem
from affectscope.models.exchange.spec import load_spec
from affectscope.models.exchange.store import SEED, ImportError_, model_spec, store_model

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _forget_loaded(name: str) -> None:
    """Drop the loaded copy of an older version of ``name`` (inference keeps loaded models by name)."""
    from affectscope.models import inference

    with inference._models_lock:
        for key in [k for k in inference._models if k[0] == name]:
            del inference._models[key]


def import_model(file: str | Path, spec_path: str | Path, name: str | None = None) -> dict[str, Any]:
    """Import ``file`` (.onnx or TorchScript) described by ``spec_path`` as model ``name`` (default: the
    spec's name, else the file's stem). Nothing is stored when the file does not match its spec."""
    from affectscope.models.registry import LABEL_SETS, all_specs, register

    file = Path(file)
    if not file.is_file():
        raise ImportError_(f"{file}: no such model file")
    spec = load_spec(spec_path, LABEL_SETS)
    name = name or spec.name or file.stem
    if not _NAME.match(name):
        raise ImportError_(
            f"--name {name!r}: letters, digits, '.', '_' or '-' (up to 64), starting with a letter or digit"
        )
    builtin = {s.name: s for s in all_specs() if s.seed != SEED}
    if name in builtin:
        raise ImportError_(f"{name} is a built-in model; import the file under another --name")
    if spec.system is not None and spec.system not in builtin:
        raise ImportError_(
            f"the spec's inputs come from system {spec.system!r}, which is not registered here"
        )
    ImportedSystem(str(file), spec.to_json())  # checks the file against the spec; raises ModelFileError
    record, new = store_model(file, spec.to_json(), name)
    register(model_spec(record), replace=True)
    _forget_loaded(name)
    return {
        "name": name,
        "version": record["version"],
        "format": spec.format,
        "file": record["_file"],
        "label_set": spec.label_set,
        "labels": list(spec.labels),
        "window_seconds": spec.window_seconds,
        "hop_seconds": spec.hop_seconds,
        "inputs": [i.name for i in spec.inputs],
        "outputs": [o.name for o in spec.outputs],
        "new": new,
    }
