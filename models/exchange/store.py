"""Where imported model files live and how they join the registry (torch-free, like the registry).

``$AFFECTSCOPE_MODELS_DIR``, else ``models`` in ``$AFFECTSCOPE_DATA_DIR`` or the user's data folder,
holds ``NAME/VERSION.onnx|.pt`` with
``NAME/VERSION.spec.json`` beside it; VERSION is the first 12 hex digits of the file's SHA-256, so
importing the same file again changes nothing and another file under the same name is a new version
(the newest is the one the name runs). The registry lists every NAME through ``models/specs/imported.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from affectscope.errors import UserFacingError

SEED = "imported"
FACTORY = "affectscope.models.exchange.runtime:build_imported"
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt"}


def models_dir() -> Path:
    env = os.environ.get("AFFECTSCOPE_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    data = os.environ.get("AFFECTSCOPE_DATA_DIR")  # the user data folder (tests redirect it)
    if data:
        return Path(data).expanduser() / "models"
    import platformdirs

    return Path(platformdirs.user_data_dir("affectscope")) / "models"


def _versions(folder: Path) -> list[dict[str, Any]]:
    """The versions recorded in one NAME folder, oldest first."""
    out = []
    for spec_file in folder.glob("*.spec.json"):
        try:
            doc = json.loads(spec_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a half-written or damaged record is not a model
        doc["_file"] = str(
            spec_file.with_name(spec_file.name[: -len(".spec.json")] + SUFFIX.get(doc.get("format"), ""))
        )
        out.append(doc)
    return sorted(out, key=lambda d: str(d.get("imported_at", "")))


# What perception a contract input needs, as the registry's modality names (inference.PERCEPTION_FOR).
MODALITY_OF = {
    "face_crop64": "face",
    "face_crop96": "face",
    "expression": "face",
    "face_present": "face",
    "mouth_crop28": "mouth",
    "waveform": "audio",
    "log_mel": "audio",
    "pose": "pose",
}


def modalities_of(inputs: list[dict[str, Any]]) -> tuple[str, ...]:
    """The modalities an imported model reads: its system's (own exports) or its contract inputs'."""
    from affectscope.models.registry import get

    sources = [str(i.get("source", "")) for i in inputs]
    systems = [s.split(":", 1)[1].split("/", 1)[0] for s in sources if s.startswith("system:")]
    if systems:
        return tuple(get(systems[0]).modalities)
    return tuple(dict.fromkeys(MODALITY_OF[s] for s in sources if s in MODALITY_OF))


def model_spec(doc: dict[str, Any]) -> Any:
    """The registry's ``ModelSpec`` of an imported version (its record from ``NAME/VERSION.spec.json``)."""
    from affectscope.models.registry import ModelSpec

    spec = {
        k: v
        for k, v in doc.items()
        if not k.startswith("_") and k not in ("imported_at", "version", "sha256")
    }
    return ModelSpec(
        name=doc["name"],
        title=f"{doc['name']} (imported {doc['format']}, version {doc['version']})",
        seed=SEED,
        factory=FACTORY,
        modalities=modalities_of(doc.get("inputs", [])),
        label_set=doc["label_set"],
        weights=doc["_file"],  # the file holds the weights: versions in projects are its SHA-256
        config={"file": doc["_file"], "spec": spec},
        description=doc.get("description") or f"imported from {doc.get('source_file', '?')}",
        outputs=tuple(doc.get("labels", ())) if doc["label_set"] == "continuous" else (),
    )


def imported_specs() -> list[Any]:
    """The newest version of every imported model."""
    root = models_dir()
    if not root.is_dir():
        return []
    specs = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        versions = [v for v in _versions(folder) if Path(v["_file"]).is_file()]
        if versions:
            specs.append(model_spec(versions[-1]))
    return specs


def store_model(file: Path, spec_doc: dict[str, Any], name: str) -> tuple[dict[str, Any], bool]:
    """Copy ``file`` and its (checked) spec into the models folder; (record, True when newly stored)."""
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    version = digest[:12]
    folder = models_dir() / name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (version + SUFFIX[spec_doc["format"]])
    record_file = folder / f"{version}.spec.json"
    if record_file.is_file() and target.is_file():
        doc = json.loads(record_file.read_text(encoding="utf-8"))
        doc["_file"] = str(target)
        return doc, False
    record = {
        **spec_doc,
        "name": name,
        "version": version,
        "sha256": digest,
        "source_file": str(file.resolve()),
        "imported_at": datetime.now(UTC).isoformat(),
    }
    tmp = target.with_name(target.name + ".part")
    shutil.copyfile(file, tmp)
    os.replace(tmp, target)
    from affectscope import strict_json

    record_file.write_text(strict_json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return {**record, "_file": str(target)}, True


class ImportError_(UserFacingError):  # noqa: N801 - not the builtin ImportError
    """A model file that cannot be imported as asked."""
