"""Export a registered system with its weights as ONNX or TorchScript, with its spec beside it.

A system's ``forward`` takes a dict and returns a dataclass, and some branch on their inputs in Python
(seed 004 skips the face network when no window has a face). The exported graph is traced through a
wrapper with fixed, positional inputs, on an example window in which every modality is present (masks 1,
seeded random values, full lengths), so every branch is in the graph. Seed 001's LSTMs pack variable-length
sequences, which neither exporter can trace; during export they read the last valid step of the unpacked
LSTM instead, which is the same number (a one-layer, one-direction LSTM). ONNX prunes inputs the graph
never reads (masks of branches without weights): the spec lists the inputs the file really has. Before
anything is written the file is run on the example and must match the PyTorch model within ``TOLERANCE``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from affectscope.errors import UserFacingError
from affectscope.models.exchange.spec import InputSpec, ModelFileSpec, OutputSpec, write_spec

TOLERANCE = 1e-4
OPSET = 17


class ExportError(UserFacingError):
    """A model that cannot be exported as asked."""


class PositionalSystem(nn.Module):
    """A system behind fixed positional inputs and a tuple of outputs: fused logits, then each head."""

    def __init__(self, system: nn.Module, keys: list[str], heads: list[str]) -> None:
        super().__init__()
        self.system, self.keys, self.heads = system, keys, heads

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.system(dict(zip(self.keys, tensors, strict=True)))
        return (out.logits, *[out.per_modality[h] for h in self.heads])


def _last_step_forward(
    self: nn.Module, x: torch.Tensor, lengths: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    out, _ = self.lstm(x)
    last = (lengths.reshape(-1).clamp(1, x.shape[1]) - 1).long()
    h = out[torch.arange(x.shape[0]), last]
    descriptor = self.fc(self.dropout(h))
    return self.classifier(descriptor), descriptor


@contextlib.contextmanager
def traceable() -> Iterator[None]:
    """Seed 001's packed LSTMs as the equivalent last-step read while a graph is traced."""
    from affectscope.models.systems import temporal

    original = temporal.SequenceBranch.forward
    temporal.SequenceBranch.forward = _last_step_forward
    try:
        yield
    finally:
        temporal.SequenceBranch.forward = original


def example_batch(system: nn.Module, seed: int = 0) -> dict[str, torch.Tensor]:
    """One window's batch with every modality present: the system's own batch of an empty clip gives
    the shapes; values are seeded noise, masks 1 and lengths full."""
    from affectscope.models.signals import ClipSignals

    empty = ClipSignals("example", float(system.window_seconds), 0, 0, np.zeros(0), [], {})
    shapes = system.batch_from_windows([(empty, 0.0, float(system.window_seconds))])
    gen = torch.Generator().manual_seed(seed)
    batch = {}
    for key, t in shapes.items():
        if key.endswith("_mask"):
            batch[key] = torch.ones_like(t)
        elif key.endswith("_len"):
            data = shapes[key[: -len("_len")]]
            batch[key] = torch.full_like(t, data.shape[1])
        elif t.is_floating_point():
            batch[key] = torch.randn(t.shape, generator=gen, dtype=t.dtype)
        else:
            batch[key] = t
    return batch


def _outputs(system: nn.Module, batch: dict[str, torch.Tensor]) -> list[np.ndarray]:
    with torch.no_grad():
        out = system(batch)
    return [out.logits.numpy(), *[v.numpy() for v in out.per_modality.values()]]


def export_system(name: str, fmt: str, out: str | Path, weights: str | Path | None = None) -> dict:
    """Write system ``name`` (shipped or given weights) to ``out`` as ``fmt`` and ``out.spec.json``;
    return what was written and the largest difference to PyTorch on the example."""
    from affectscope.models.inference import load_model
    from affectscope.models.systems.base import EmotionSystem

    if fmt not in ("onnx", "torchscript"):
        raise ExportError(f"--format {fmt!r}: choose onnx or torchscript")
    out = Path(out)
    if not out.parent.is_dir():
        raise ExportError(f"{out}: its folder does not exist")
    spec, model = load_model(name, weights)
    if not isinstance(model, EmotionSystem):
        raise ExportError(f"{name} is a perception network, not a system; only systems export (see: models)")
    model = model.cpu().eval()
    batch = example_batch(model)
    keys = list(batch)
    with traceable():
        expected = _outputs(model, batch)
        heads = list(model(batch).per_modality)
        wrapper = PositionalSystem(model, keys, heads).eval()
        args = tuple(batch[k] for k in keys)
        tmp = Path(tempfile.mkstemp(suffix=out.suffix or ".bin", dir=out.parent)[1])
        try:
            input_names = _write(wrapper, args, keys, heads, fmt, tmp)
            got = run_file(tmp, fmt, {n: batch[n[len("in_") :]].numpy() for n in input_names})
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    diff = max(float(np.abs(a - b).max()) for a, b in zip(got, expected, strict=True))
    if diff > TOLERANCE:
        tmp.unlink(missing_ok=True)
        raise ExportError(
            f"{name}: the exported {fmt} file differs from PyTorch by {diff:.2e} (> {TOLERANCE})"
        )
    os.replace(tmp, out)
    file_spec = ModelFileSpec(
        format=fmt,
        labels=tuple(spec.labels),
        label_set=spec.label_set,
        window_seconds=float(model.window_seconds),
        hop_seconds=float(model.hop_seconds),
        inputs=tuple(
            InputSpec(n, tuple(batch[n[3:]].shape), f"system:{name}/{n[3:]}", _dtype(batch[n[3:]]))
            for n in input_names
        ),
        outputs=(OutputSpec("out_logits"), *[OutputSpec(f"out_{h}", h) for h in heads]),
        name=name,
        description=f"{spec.title}, exported by Affectscope",
        ewma_alpha=getattr(model, "ewma_alpha", None),
        whole_clip=bool(getattr(model, "whole_clip", False)),
    )
    spec_path = Path(str(out) + ".spec.json")
    write_spec(file_spec, spec_path)
    return {
        "model": name,
        "format": fmt,
        "output": str(out),
        "spec": str(spec_path),
        "max_abs_diff": diff,
        "inputs": [i.name for i in file_spec.inputs],
        "outputs": [o.name for o in file_spec.outputs],
    }


def _dtype(t: torch.Tensor) -> str:
    return "int64" if t.dtype == torch.int64 else "float32"


def _write(
    wrapper: nn.Module, args: tuple, keys: list[str], heads: list[str], fmt: str, path: Path
) -> list[str]:
    """Write the file; return the names of the inputs it keeps (ONNX prunes unread ones)."""
    names = [f"in_{k}" for k in keys]  # "in_" keeps inputs apart from submodules of the same name
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on Python branches: expected, see module doc
            traced = torch.jit.trace(wrapper, args, check_trace=False)
        traced.save(str(path))
        return names
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outputs = ["out_logits", *[f"out_{h}" for h in heads]]
        torch.onnx.export(
            wrapper,
            args,
            str(path),
            input_names=names,
            output_names=outputs,
            opset_version=OPSET,
            dynamo=False,
        )
    import onnx

    return [i.name for i in onnx.load(str(path)).graph.input]


def run_file(path: Path, fmt: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Run an exported file once on ``feeds`` (name -> array) on the CPU."""
    if fmt == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, feeds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, not gone; see runtime
        module = torch.jit.load(str(path), map_location="cpu")
    with torch.no_grad():
        got = module(*[torch.from_numpy(v) for v in feeds.values()])
    return [g.numpy() for g in got]
