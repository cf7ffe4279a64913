"""The model file spec (``FILE.spec.json``): versioned, validated with messages that say what to fix.

A spec declares what a model file reads and what it gives, so a file from anywhere can join:

- ``format``: "onnx" or "torchscript"; ``spec_version``: 1.
- ``labels`` (the order of the model's class outputs) and ``label_set`` (a built-in set holding exactly
  those labels); the outputs are ``logits`` or ``probabilities`` (``output_kind``).
  Or, instead, ``continuous``: named continuous outputs in the model's output order, each with its
  ``range`` [lo, hi] (valence -1..1, arousal 0..10, any): the outputs are the values themselves
  (``output_kind`` "values"), stored like imported continuous predictions and drawn over their ranges.
- ``window_seconds``, ``hop_seconds``: how much media one prediction covers and the step between them.
- ``inputs``: one entry per input tensor, in the order the model takes them, each with its ``name``
  (the tensor's name in the file), ``shape`` (batch of 1 first) and ``dtype``, and where it comes from:
  ``source`` is a name of the perception contract (``CONTRACT``) for a model of your own, or
  ``system:NAME/KEY`` when the registered system NAME builds it as its batch's KEY (Affectscope's own
  exports);
  ``normalise`` ({"scale": s, "offset": o} then optional "mean"/"std") is applied to contract inputs.
- ``outputs``: the tensors it returns, in order: the fused output first, then optional per-modality heads
  as ``{"name": ..., "lane": "face"}``.
- ``ewma_alpha`` (optional): the clip decision accumulates the windows' probabilities with this EWMA
  from zeros, as seed 004 does; without it the decision is the (speech-weighted) mean of the windows.
- ``whole_clip`` (optional): one prediction covers the whole clip (seed 002), whatever its length.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from affectscope.errors import UserFacingError

SPEC_VERSION = 1
FORMATS = ("onnx", "torchscript")
OUTPUT_KINDS = ("logits", "probabilities", "values")
CONTINUOUS = "continuous"  # the label_set of a model whose outputs are named continuous values
DTYPES = ("float32", "int64")

# The perception contract: what Affectscope's perception gives per analysed frame or per window, by name,
# with the shape one window of it takes (T frames at the model's rate, or samples) after the batch of 1.
CONTRACT: dict[str, str] = {
    "face_crop64": "(T, 64, 64) grey face crops, 0..255 before normalise",
    "face_crop96": "(T, 3, 96, 96) RGB face crops, 0..255 before normalise",
    "mouth_crop28": "(T, 28, 28) grey mouth crops, 0..255 before normalise",
    "waveform": "(N,) mono audio at 16 kHz, -1..1 (N = window_seconds * 16000)",
    "log_mel": "(B, F) log-mel spectrogram: B mel bands, F frames of 10 ms (25 ms FFT window) at 16 kHz",
    "pose": "(T, 33, 4) BlazePose keypoints (x, y, z, visibility) of the main person",
    "expression": "(T, 7) facial-expression probabilities (mini-Xception, FER-2013 order)",
    "face_present": "(T,) 1 where a face was found, else 0",
}


class SpecError(UserFacingError):
    """A spec that cannot be used; the message names the field and what it should be."""


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[int, ...]
    source: str  # a CONTRACT name or "system:NAME"
    dtype: str = "float32"
    normalise: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputSpec:
    name: str
    lane: str = "fused"  # "fused" for the decision, else the modality head it is


@dataclass(frozen=True)
class ModelFileSpec:
    format: str
    labels: tuple[str, ...]
    label_set: str
    window_seconds: float
    hop_seconds: float
    inputs: tuple[InputSpec, ...]
    outputs: tuple[OutputSpec, ...]
    output_kind: str = "logits"
    name: str = ""
    description: str = ""
    spec_version: int = SPEC_VERSION
    ewma_alpha: float | None = None
    whole_clip: bool = False  # one prediction over the whole clip (seed 002), not sliding windows
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # continuous: each output's range

    @property
    def continuous(self) -> bool:
        return self.label_set == CONTINUOUS

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["labels"] = list(self.labels)
        del d["ranges"]
        if self.continuous:  # read back by parse_spec: the outputs with their ranges
            d["continuous"] = [{"name": n, "range": list(self.ranges[n])} for n in self.labels]
        d["inputs"] = [{**asdict(i), "shape": list(i.shape)} for i in self.inputs]
        d["outputs"] = [asdict(o) for o in self.outputs]
        return d

    @property
    def system(self) -> str | None:
        """The registered system that builds the inputs (Affectscope's own exports), or None."""
        sources = {i.source for i in self.inputs}
        systems = {s.split(":", 1)[1].split("/", 1)[0] for s in sources if s.startswith("system:")}
        return next(iter(systems)) if systems else None


def _need(doc: dict, key: str, kind: type | tuple, where: str) -> Any:
    if key not in doc:
        raise SpecError(f"{where}: '{key}' is missing")
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise SpecError(f"{where}: '{key}' must be {getattr(kind, '__name__', kind)}, not {value!r}")
    return value


def parse_spec(doc: Any, where: str, label_sets: dict[str, tuple[str, ...]]) -> ModelFileSpec:
    """Check every field of a spec document and build the spec (SpecError naming the first problem)."""
    if not isinstance(doc, dict):
        raise SpecError(f"{where}: a spec is a JSON object")
    version = _need(doc, "spec_version", int, where)
    if version != SPEC_VERSION:
        raise SpecError(f"{where}: spec_version {version}; this Affectscope reads version {SPEC_VERSION}")
    fmt = _need(doc, "format", str, where)
    if fmt not in FORMATS:
        raise SpecError(f"{where}: format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if "continuous" in doc:
        labels, label_set, ranges = _continuous(doc, where)
    else:
        labels, label_set, ranges = (
            tuple(_need(doc, "labels", list, where)),
            _need(doc, "label_set", str, where),
            {},
        )
    if not ranges and (
        label_set not in label_sets
        or set(label_sets[label_set]) != set(labels)
        or len(labels) != len(label_sets[label_set])
    ):
        known = "; ".join(f"{k}: {', '.join(v)}" for k, v in label_sets.items())
        raise SpecError(
            f"{where}: labels {list(labels)} must be exactly the labels of label_set ({known}), or declare "
            "'continuous' outputs"
        )
    window = float(_need(doc, "window_seconds", (int, float), where))
    hop = float(_need(doc, "hop_seconds", (int, float), where))
    if not 0 < hop <= window <= 86400:  # up to a day: whole-clip models declare an hour (the reference)
        raise SpecError(f"{where}: need 0 < hop_seconds <= window_seconds <= 86400 (got {hop}, {window})")
    kind = doc.get("output_kind", "values" if ranges else "logits")
    if kind not in OUTPUT_KINDS or (kind == "values") != bool(ranges):
        allowed = "values" if ranges else "logits, probabilities"
        raise SpecError(f"{where}: output_kind must be {allowed} for these outputs, not {kind!r}")
    raw_inputs = _need(doc, "inputs", list, where)
    if not raw_inputs:
        raise SpecError(f"{where}: 'inputs' lists no input")
    inputs = tuple(_input(i, f"{where}: inputs[{k}]") for k, i in enumerate(raw_inputs))
    if len({i.name for i in inputs}) != len(inputs):
        raise SpecError(f"{where}: two inputs share a name")
    raw_outputs = _need(doc, "outputs", list, where)
    outputs = tuple(_output(o, f"{where}: outputs[{k}]") for k, o in enumerate(raw_outputs))
    if not outputs or outputs[0].lane != "fused":
        raise SpecError(f"{where}: the first output must be the fused decision (lane 'fused')")
    alpha = doc.get("ewma_alpha")
    if alpha is not None and (
        isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 1
    ):
        raise SpecError(f"{where}: ewma_alpha must be a number in (0, 1] or null, not {alpha!r}")
    if alpha is not None and ranges:
        raise SpecError(f"{where}: ewma_alpha accumulates class probabilities; continuous outputs take none")
    return ModelFileSpec(
        fmt, labels, label_set, window, hop, inputs, outputs, kind, str(doc.get("name", "")),
        str(doc.get("description", "")), SPEC_VERSION, None if alpha is None else float(alpha),
        bool(doc.get("whole_clip", False)), ranges,
    )  # fmt: skip


def check_range(name: str, pair: Any, where: str) -> tuple[float, float]:
    """[lo, hi] as two finite numbers with lo < hi (SpecError naming the output otherwise)."""
    if (
        not isinstance(pair, (list, tuple))
        or len(pair) != 2
        or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in pair)
        or not all(math.isfinite(v) for v in pair)
        or not pair[0] < pair[1]
    ):
        raise SpecError(
            f"{where}: the range of {name!r} must be [lo, hi], finite numbers with lo < hi, not {pair!r}"
        )
    return float(pair[0]), float(pair[1])


def _continuous(doc: dict, where: str) -> tuple[tuple[str, ...], str, dict[str, tuple[float, float]]]:
    """(output names, "continuous", ranges) of a spec's ``continuous`` list, every entry checked."""
    items = doc["continuous"]
    if not isinstance(items, list) or not items:
        raise SpecError(
            f'{where}: \'continuous\' lists the outputs, e.g. [{{"name": "valence", "range": [-1, 1]}}]'
        )
    ranges: dict[str, tuple[float, float]] = {}
    for k, item in enumerate(items):
        at = f"{where}: continuous[{k}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise SpecError(f"{at}: an output is an object with a name and a range")
        if item["name"] in ranges:
            raise SpecError(f"{at}: the output {item['name']!r} is named twice")
        ranges[item["name"]] = check_range(item["name"], item.get("range"), at)
    names = tuple(ranges)
    given = doc.get("labels")
    if doc.get("label_set", CONTINUOUS) != CONTINUOUS or (given is not None and tuple(given) != names):
        raise SpecError(f"{where}: give either 'continuous' outputs or 'labels' with a 'label_set', not both")
    return names, CONTINUOUS, ranges


def _input(doc: Any, where: str) -> InputSpec:
    if not isinstance(doc, dict):
        raise SpecError(f"{where}: an input is an object with name, shape, source")
    name = _need(doc, "name", str, where)
    shape = _need(doc, "shape", list, where)
    if (
        not shape
        or shape[0] != 1
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
    ):
        raise SpecError(
            f"{where} ({name}): shape must be positive integers with a batch of 1 first, not {shape}"
        )
    source = _need(doc, "source", str, where)
    if source not in CONTRACT and not source.startswith("system:"):
        raise SpecError(
            f"{where} ({name}): source {source!r} is not a perception contract name ({', '.join(CONTRACT)}) "
            "nor system:NAME"
        )
    dtype = doc.get("dtype", "float32")
    if dtype not in DTYPES:
        raise SpecError(f"{where} ({name}): dtype must be one of {', '.join(DTYPES)}")
    normalise = doc.get("normalise", {}) or {}
    if not isinstance(normalise, dict) or set(normalise) - {"scale", "offset", "mean", "std"}:
        raise SpecError(f"{where} ({name}): normalise takes scale, offset, mean, std")
    if source == "log_mel" and len(shape) != 3:
        raise SpecError(f"{where} ({name}): log_mel's shape is [1, bands, frames]")
    return InputSpec(name, tuple(shape), source, dtype, dict(normalise))


def _output(doc: Any, where: str) -> OutputSpec:
    if not isinstance(doc, dict):
        raise SpecError(f"{where}: an output is an object with name and lane")
    return OutputSpec(_need(doc, "name", str, where), str(doc.get("lane", "fused")))


def load_spec(path: str | Path, label_sets: dict[str, tuple[str, ...]]) -> ModelFileSpec:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SpecError(f"{path} is not a JSON spec ({exc})") from None
    return parse_spec(doc, path.name, label_sets)


def write_spec(spec: ModelFileSpec, path: str | Path) -> None:
    from affectscope import strict_json

    Path(path).write_text(strict_json.dumps(spec.to_json(), indent=1) + "\n", encoding="utf-8")
