"""An imported ONNX or TorchScript file as an ``EmotionSystem``: inference, storage, evaluation, the queue
and the window drive it like the built-in systems.

The file never runs before it is checked against its spec: ONNX inputs and outputs by name, shape and
type from the session's metadata; TorchScript by its ``forward`` signature and one run on zeros of the
declared shapes (never on user data), whose outputs must have the declared count and class width.
Files are read by onnxruntime (protobuf: no code) or ``torch.jit.load`` after ``archive`` has walked
every pickle in the TorchScript zip as data and found only tensors and TorchScript types (a plain
``torch.save`` pickle, a crafted data.pkl, a cut file are refused before torch sees them); the code is
TorchScript, run by the TorchScript interpreter. Windows run one at a time (the files are traced at a
batch of 1). The device is chosen by ``onnx_providers`` (onnxruntime's CUDA provider when offered,
else CPU) and, for TorchScript, by ``inference.device`` (CUDA when torch sees a GPU: ``load_model``
moves the module there), and said by ``ImportedSystem.runs_on`` (``predict --json``'s ``device``).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from affectscope.errors import UserFacingError
from affectscope.models.exchange.spec import ModelFileSpec, parse_spec
from affectscope.models.systems.base import Batch, EmotionSystem, SystemOutput, collate


class ModelFileError(UserFacingError):
    """A model file that does not match its spec, or cannot be read."""


def _check_shape(what: str, declared: tuple[int, ...], found: list[Any]) -> None:
    if len(found) != len(declared) or any(
        isinstance(f, int) and f != d for f, d in zip(found, declared, strict=False)
    ):
        raise ModelFileError(f"{what} has shape {list(found)} in the file; the spec says {list(declared)}")


def _one_line(exc: BaseException) -> str:
    """An engine's error text on one line (torch's and onnxruntime's span several)."""
    return " ".join(str(exc).split())[:300]


def onnx_providers(available: list[str] | tuple[str, ...]) -> list[str]:
    """onnxruntime's providers in the order to try: CUDA first when this onnxruntime offers it, CPU always
    (the fallback onnxruntime uses when CUDA cannot start)."""
    wanted = ["CUDAExecutionProvider"] if "CUDAExecutionProvider" in available else []
    return [*wanted, "CPUExecutionProvider"]


class ImportedSystem(EmotionSystem):
    """A model file behind the ``EmotionSystem`` interface (see the module docstring)."""

    carries_weights = True  # the file holds its weights: there is no safetensors file to load

    def __init__(self, file: str, spec: dict) -> None:
        super().__init__()
        from affectscope.models.registry import LABEL_SETS

        self.file = Path(file)
        self.spec: ModelFileSpec = parse_spec(spec, self.file.name, LABEL_SETS)
        self.window_seconds = self.spec.window_seconds
        self.hop_seconds = self.spec.hop_seconds
        self.whole_clip = self.spec.whole_clip
        self.num_classes = len(self.spec.labels)
        self.heads = [o.lane for o in self.spec.outputs[1:]]
        from affectscope.models.exchange.store import modalities_of

        self.modalities = modalities_of([{"source": i.source} for i in self.spec.inputs])
        # outputs in the file's label order -> the label set's order; continuous outputs keep theirs and
        # are values, not logits (inference leaves them unsquashed)
        self.continuous = self.spec.continuous
        self.ranges = dict(self.spec.ranges)
        wanted = self.spec.labels if self.continuous else LABEL_SETS[self.spec.label_set]
        self.order = [self.spec.labels.index(label) for label in wanted]
        if self.spec.ewma_alpha is not None:  # the clip decision of inference.clip_decision
            self.ewma_alpha, self.ewma_y0 = self.spec.ewma_alpha, np.zeros(self.num_classes)
        self._session: Any = None
        self._module: Any = None
        self._builder: Any = None
        self._batchable = False  # an ONNX file whose batch axis is free runs many windows at once
        self.check()

    # -- the file ---------------------------------------------------------------------------------
    def check(self) -> None:
        """Refuse a file whose inputs or outputs differ from the spec (before it sees any data)."""
        if not self.file.is_file():
            raise ModelFileError(f"{self.file}: no such model file")
        if self.spec.format == "onnx":
            self._check_onnx()
        else:
            self._check_torchscript()

    def _check_onnx(self) -> None:
        import onnxruntime as ort

        providers = onnx_providers(ort.get_available_providers())
        try:
            self._session = ort.InferenceSession(str(self.file), providers=providers)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ModelFileError(
                f"{self.file.name} is not an ONNX model onnxruntime can load ({_one_line(exc)})"
            ) from None
        found = {i.name: i for i in self._session.get_inputs()}
        declared = {i.name: i for i in self.spec.inputs}
        if set(found) != set(declared):
            raise ModelFileError(
                f"{self.file.name} takes inputs {sorted(found)}; the spec declares {sorted(declared)}"
            )
        for name, inp in declared.items():
            _check_shape(f"input {name}", inp.shape, found[name].shape)
            want = "tensor(int64)" if inp.dtype == "int64" else "tensor(float)"
            if found[name].type != want:
                raise ModelFileError(
                    f"input {name} is {found[name].type} in the file; the spec says {inp.dtype}"
                )
        outputs = self._session.get_outputs()
        if [o.name for o in outputs] != [o.name for o in self.spec.outputs]:
            raise ModelFileError(
                f"{self.file.name} gives outputs {[o.name for o in outputs]}; the spec declares "
                f"{[o.name for o in self.spec.outputs]}"
            )
        for o in outputs:
            _check_shape(f"output {o.name}", (1, self.num_classes), o.shape)
        dims = [i.shape[0] for i in self._session.get_inputs()] + [o.shape[0] for o in outputs]
        self._batchable = all(not isinstance(d, int) for d in dims)

    def _check_torchscript(self) -> None:
        from affectscope.models.exchange.archive import check_torchscript_archive

        check_torchscript_archive(self.file)  # as data, before torch.jit.load reads any of it
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                self._module = torch.jit.load(str(self.file), map_location="cpu").eval()
        except Exception as exc:  # noqa: BLE001 - TorchScript raises RuntimeError with its own text
            raise ModelFileError(
                f"{self.file.name} is not a TorchScript archive torch.jit.load can read ({_one_line(exc)})"
            ) from None
        n_args = len(self._module.forward.schema.arguments) - 1  # without self
        if n_args != len(self.spec.inputs):
            raise ModelFileError(
                f"{self.file.name}'s forward takes {n_args} inputs; the spec declares {len(self.spec.inputs)}"
            )
        zeros = [
            torch.zeros(i.shape, dtype=torch.int64 if i.dtype == "int64" else torch.float32)
            for i in self.spec.inputs
        ]
        for z, i in zip(zeros, self.spec.inputs, strict=True):
            if i.dtype == "int64":
                z.fill_(1)  # lengths: at least one step
        try:
            with torch.no_grad():
                got = self._module(*zeros)
        except Exception as exc:  # noqa: BLE001 - a shape mismatch surfaces as a TorchScript RuntimeError
            raise ModelFileError(
                f"{self.file.name} does not run on inputs of the declared shapes ({_one_line(exc)})"
            ) from None
        got = list(got) if isinstance(got, (tuple, list)) else [got]
        if len(got) != len(self.spec.outputs):
            raise ModelFileError(
                f"{self.file.name} gives {len(got)} outputs; the spec declares {len(self.spec.outputs)}"
            )
        for o, t in zip(self.spec.outputs, got, strict=True):
            _check_shape(f"output {o.name}", (1, self.num_classes), list(t.shape))

    @property
    def runs_on(self) -> dict[str, str]:
        """Which engine, provider and device run this file now (reported with its predictions)."""
        if self._session is not None:
            provider = self._session.get_providers()[0]  # the one onnxruntime actually started
            dev = "cuda" if provider == "CUDAExecutionProvider" else "cpu"
            return {"engine": "onnxruntime", "provider": provider, "device": dev}
        dev = next(iter(self._module.parameters()), torch.zeros(0)).device.type
        return {"engine": "torchscript", "provider": "torch", "device": dev}

    # -- EmotionSystem ----------------------------------------------------------------------------
    def _system(self) -> Any:
        if self._builder is None:
            from affectscope.models.inference import load_model

            self._builder = load_model(self.spec.system)[1]
        return self._builder

    def batch_from_windows(self, windows: list) -> Batch:
        if self.spec.system is not None:  # Affectscope's own export: the system builds its batch
            return self._system().batch_from_windows(windows)
        from affectscope.models.exchange.inputs import contract_input, present

        batch = {
            i.name: torch.from_numpy(np.concatenate([contract_input(s, i, t0, t1) for s, t0, t1 in windows]))
            for i in self.spec.inputs
        }
        # <modality>_mask as the systems have them: explanation masks a modality through it, the clip
        # gate reads which windows hold a face; forward gives a masked modality's inputs their absent value
        for m in self.modalities:
            batch[f"{m}_mask"] = torch.tensor(
                [present(s, m, t0, t1) for s, t0, t1 in windows], dtype=torch.float32
            )
        return batch

    def batch_from_signals(self, signals: Any, t0: float, t1: float) -> Batch:
        return self.batch_from_windows([(signals, t0, t1)])

    def _key(self, name: str, source: str) -> str:
        return source.split("/", 1)[1] if source.startswith("system:") else name

    def forward(self, batch: Batch) -> SystemOutput:  # type: ignore[override]
        n = len(next(iter(batch.values())))
        wants_grad = torch.is_grad_enabled() and any(v.requires_grad for v in batch.values())
        if wants_grad and self._session is not None:
            raise ModelFileError(
                f"{self.file.name} is an ONNX file: it gives no gradients, so gradient explanations "
                "(Grad-CAM, Integrated Gradients, SmoothGrad) cannot run on it; use --method occlusion"
            )
        rows: list[list[torch.Tensor]] = []
        step = n if self._batchable else 1  # occlusion's perturbed copies: one run where the file allows
        for b0 in range(0, n, step):
            feeds = [self._feed(batch, i, b0, min(b0 + step, n)) for i in self.spec.inputs]
            feeds = [
                f.long() if i.dtype == "int64" else f.float()
                for f, i in zip(feeds, self.spec.inputs, strict=True)
            ]
            rows.append(self._run(feeds))
        # TorchScript outputs stay tensors, so gradients reach the inputs (captum's methods)
        outs = [torch.cat([r[k] for r in rows])[:, self.order] for k in range(len(rows[0]))]
        if self.spec.output_kind == "probabilities":  # softmax(log p) = p downstream
            outs = [torch.log(o.clamp_min(1e-12)) for o in outs]
        return SystemOutput(logits=outs[0], per_modality=dict(zip(self.heads, outs[1:], strict=True)))

    def _feed(self, batch: Batch, i: Any, b0: int, b1: int) -> torch.Tensor:
        """Input ``i`` of windows b0..b1-1; a contract input of a masked modality reads its absent value."""
        x = batch[self._key(i.name, i.source)][b0:b1]
        if self.spec.system is None:
            from affectscope.models.exchange.inputs import absent_input
            from affectscope.models.exchange.store import MODALITY_OF

            mask = batch.get(f"{MODALITY_OF.get(i.source)}_mask")
            off = None if mask is None else (mask.reshape(-1)[b0:b1] <= 0)
            if off is not None and bool(off.any()):
                absent = torch.from_numpy(absent_input(i)).to(x.device, x.dtype)
                x = torch.where(off.reshape(-1, *[1] * (x.ndim - 1)).to(x.device), absent, x)
        return x

    def _run(self, feeds: list[torch.Tensor]) -> list[torch.Tensor]:
        if self._session is not None:
            names = [i.name for i in self.spec.inputs]
            got = self._session.run(
                None, {k: f.detach().cpu().numpy() for k, f in zip(names, feeds, strict=True)}
            )
            return [torch.from_numpy(np.asarray(o, np.float32)) for o in got]
        dev = next(iter(self._module.parameters()), torch.zeros(0)).device  # CUDA after .to(device())
        got = self._module(*[f.to(dev) for f in feeds])
        got = got if isinstance(got, (tuple, list)) else [got]
        return [g.float().cpu() for g in got]


def build_imported(file: str, spec: dict) -> ImportedSystem:
    """The registry factory of imported models."""
    return ImportedSystem(file, spec)


__all__ = ["ImportedSystem", "ModelFileError", "build_imported", "collate"]
