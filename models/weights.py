"""Loading and saving model weights as safetensors, with errors a person can act on, and model cards.

Weights are only ever read with ``safetensors`` (never ``torch.load``): a checkpoint is data, and
unpickling an untrusted file runs code. Every failure (missing file, a file that is not
safetensors, the wrong architecture) raises ``WeightsError`` whose message says which file, what
is wrong (the first few missing/unexpected/mis-shaped keys) and how to get the right one.

A model card is a small JSON file beside the weights (``<name>.card.json``): what data trained it,
how it was split, its metrics, when, with which code version.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from affectscope import strict_json
from affectscope.errors import WeightsError

CARD_SUFFIX = ".card.json"
_SHOW = 5  # how many offending keys a message lists


def card_path(weights: str | Path) -> Path:
    """The model card beside a weights file: ``x.safetensors`` -> ``x.card.json``."""
    p = Path(weights)
    return p.with_name(p.name.removesuffix(".safetensors") + CARD_SUFFIX)


def _listing(keys: list[str]) -> str:
    shown = ", ".join(keys[:_SHOW])
    return shown + (f" (and {len(keys) - _SHOW} more)" if len(keys) > _SHOW else "")


def read_tensors(path: str | Path, what: str = "model weights", how: str = "") -> dict[str, torch.Tensor]:
    """All tensors of a safetensors file, or a ``WeightsError`` saying what is wrong and what to do."""
    p = Path(path)
    hint = f" {how}" if how else ""
    if not p.exists():
        raise WeightsError(f"{what}: file not found: {p}.{hint}")
    if p.is_dir():
        raise WeightsError(f"{what}: {p} is a folder, not a .safetensors file.{hint}")
    try:
        tensors = load_file(str(p), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        with open(p, "rb") as fh:
            head = fh.read(4)
        kind = ""
        if head[:2] == b"PK" or head[:1] == b"\x80":
            kind = " It looks like a pickled PyTorch checkpoint, which is never unpickled here;"
            kind += " convert it once, in a trusted step, to safetensors."
        elif head[:4] == b"\x89HDF":
            kind = " It looks like a Keras/HDF5 file; convert it to safetensors first."
        raise WeightsError(f"{what}: {p} is not a readable safetensors file ({exc}).{kind}{hint}") from None
    check_finite(tensors, p, what)
    return tensors


def check_finite(tensors: Mapping[str, torch.Tensor], path: str | Path, what: str = "model weights") -> None:
    """Refuse weights holding NaN or infinite values: they make NaN outputs that must never be labelled."""
    bad = [
        k
        for k, t in tensors.items()
        if (t.is_floating_point() or t.is_complex()) and not bool(torch.isfinite(t).all())
    ]
    if bad:
        raise WeightsError(
            f"{what}: {path} holds NaN or infinite values in {len(bad)} tensor(s) ({_listing(bad)}); "
            "these weights are broken: retrain or restore them"
        )


def check_state(
    expected: Mapping[str, torch.Tensor], found: Mapping[str, torch.Tensor], path: str | Path, what: str
) -> None:
    """Raise ``WeightsError`` listing missing, unexpected and mis-shaped keys, if any."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    shapes = [
        f"{k} {tuple(found[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items()
        if k in found and tuple(found[k].shape) != tuple(v.shape)
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing keys: {_listing(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys: {_listing(unexpected)}")
    if shapes:
        problems.append(f"{len(shapes)} shape mismatches (file != model): {_listing(shapes)}")
    if problems:
        raise WeightsError(
            f"{what}: {path} does not fit this model ({'; '.join(problems)}). "
            "Were these weights trained for another model or another configuration (e.g. num_classes)?"
        )


def load_state(model: nn.Module, path: str | Path, what: str | None = None, how: str = "") -> nn.Module:
    """Load a safetensors file into ``model`` strictly (every key, every shape) and return the model.

    ``how`` says how to obtain the file (e.g. "Train them with: affectscope train ..."), shown when
    the file is missing or wrong.
    """
    what = what or f"weights of {type(model).__name__}"
    tensors = read_tensors(path, what, how)
    expected = model.state_dict()
    try:
        check_state(expected, tensors, path, what)
    except WeightsError as exc:
        raise WeightsError(f"{exc} {how}".strip()) from None
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()}, strict=True)
    return model


def load_backbone_weights(module: nn.Module, path: str | Path | None, what: str) -> nn.Module:
    """Load pretrained backbone weights (ImageNet ResNet, VGG-Face, C3D, ...) from safetensors.

    Such weights cannot be downloaded here; users who have them convert them to safetensors and
    name the file. ``None`` or a missing file raises ``WeightsError`` saying so.
    """
    how = (
        f"Pretrained {what} weights are not shipped and never downloaded: convert the published "
        "checkpoint to safetensors (keys as in this module's state_dict) and pass its path."
    )
    if path is None:
        raise WeightsError(f"{what}: no weights file given. {how}")
    return load_state(module, path, what=what, how=how)


def code_version() -> str:
    """The package version plus the git commit when run from a checkout (for model cards)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("affectscope")
    except PackageNotFoundError:
        ver = "unknown"
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
        if out.returncode == 0 and out.stdout.strip():
            ver += f"+g{out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return ver


def save_state(
    model: nn.Module, path: str | Path, card: dict[str, Any] | None = None, half: bool = False
) -> Path:
    """Write the model's state as safetensors (and ``card`` as ``<name>.card.json``); return the path.

    Tensors are made contiguous and de-aliased (safetensors refuses shared storage). ``half`` stores
    floating-point tensors as float16 (shipped weights: half the size; ``load_state`` casts back).
    """
    from affectscope.models.provenance import code_state

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    # The code state before the weights exist: written inside the work tree, the new file itself
    # would make the card say "dirty" (and name itself) although the code that trained was committed.
    code = code_state()
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    save_file(state, str(p), metadata={"format": "pt"})
    if card is not None:
        write_card(p, card, code=code)
    return p


def write_card(weights: str | Path, card: dict[str, Any], code: dict[str, Any] | None = None) -> Path:
    """Write a model card beside ``weights``, adding date, code version and code state when absent.

    ``code`` is the commit the code ran from and whether the work tree held uncommitted changes
    (``provenance.code_state``): ``code_version`` alone once named a commit older than the code that
    trained the weights. ``code``: that state read before the weights were written (``save_state``)."""
    from affectscope.models.provenance import code_state

    full = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "code": code if code is not None else code_state(),
        **card,
    }
    full.setdefault("weights", Path(weights).name)
    out = card_path(weights)
    out.write_text(strict_json.dumps(full, indent=2, sort_keys=False, default=_json_default) + "\n")
    return out


def read_card(weights: str | Path) -> dict[str, Any] | None:
    """The model card beside ``weights``, or None when there is none."""
    p = card_path(weights)
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise WeightsError(f"model card {p} is not valid JSON ({exc}); delete or regenerate it") from None


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def weights_contamination(
    weights: str | Path | None, paths: Sequence[str | Path], speakers: Sequence[str | None] = ()
) -> dict[str, Any] | None:
    """``contamination`` against the card beside ``weights`` (None without weights, card or records)."""
    from affectscope.models.provenance import contamination, records_of

    if weights is None or not Path(weights).exists():
        return None
    return contamination(records_of(read_card(weights)), paths, speakers)
