"""One clip explained by one model: the clip's perception signals joined to ``models.explain``.

``ClipExplainer`` builds a system's window batches once from the clip's cached perception signals
(no new extraction), then answers the window and the CLI: the subset table (exact Shapley,
leave-one-out and live ablation as lookups), the architecture's own weights, attention over time,
and saliency maps at a time, drawn back at their crop boxes in the frame. The mini-Xception
expression model (a face-image classifier) is explained on the largest face at the playhead.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from affectscope.errors import UserFacingError
from affectscope.jobs import Job, ensure_job
from affectscope.models.explain import architecture, frames
from affectscope.models.explain.imported import method_for
from affectscope.models.explain.saliency import METHODS, InputMap, image_map, last_conv, system_maps
from affectscope.models.explain.shapley import ModalityTable, masked_batch, subset_bits, subset_table
from affectscope.models.inference import load_model, window_starts
from affectscope.models.signals import ClipSignals
from affectscope.models.systems.base import Batch, EmotionSystem, collate


class ExplainError(UserFacingError):
    """An explanation that cannot be made as asked (unknown method or target, no input at the time)."""


@dataclass
class Explanation:
    """What the window draws and ``affectscope explain --json`` prints for one time (or the clip)."""

    model: str
    labels: tuple[str, ...]
    target: str
    time: float | None
    method: str
    modalities: dict[str, dict[str, float | None]]
    fused_all: float
    fused_none: float
    maps: dict[str, InputMap] = field(default_factory=dict)
    frame_size: tuple[int, int] = (0, 0)  # (width, height)
    attention: dict[str, np.ndarray] = field(default_factory=dict)  # modality -> (S,) over the window
    request: int = 0  # the window's request number (the newest wins)

    def to_json(self, out_dir: str | Path | None = None, frame: np.ndarray | None = None) -> dict[str, Any]:
        """The CLI contract (docs/cli.md); writes maps as .npy (+ .png overlays) under ``out_dir``."""
        maps, keypoints = {}, None
        for key, m in self.maps.items():
            entry: dict[str, Any] = {
                "kind": m.kind,
                "method": m.method,
                "shape": list(m.values.shape),
                "box": [round(float(v), 2) for v in m.box] if m.box else None,
                "convergence_delta": m.convergence_delta,
                "paths": [],
            }
            if m.kind in ("features", "signal"):
                entry["ranked"] = [{"name": n, "value": round(v, 6)} for n, v in m.ranked(20)]
            if m.kind == "keypoints":
                keypoints = {n: round(float(v), 6) for n, v in zip(m.names, m.values, strict=True)}
            if out_dir is not None:
                entry["paths"] = write_map(Path(out_dir), self, key, m, frame)
            maps[key] = entry
        return {
            "model": self.model,
            "labels": list(self.labels),
            "target": self.target,
            "time": self.time,
            "method": self.method,
            "modalities": self.modalities,
            "fused_all": round(self.fused_all, 6),
            "fused_none": round(self.fused_none, 6),
            "maps": maps,
            "keypoints": keypoints,
            "attention": {k: np.round(v, 6).tolist() for k, v in self.attention.items()} or None,
        }


def write_map(out: Path, ex: Explanation, key: str, m: InputMap, frame: np.ndarray | None) -> list[str]:
    """``<key>_<method>_<t>.npy`` and, for pictures, a ``.png`` overlay (on the frame where given)."""
    from affectscope.models.explain.render import overlay_png

    out.mkdir(parents=True, exist_ok=True)
    stem = f"{key}_{m.method}" + (f"_{ex.time:.2f}s" if ex.time is not None else "")
    paths = [out / f"{stem}.npy"]
    np.save(paths[0], m.values)
    if m.kind in ("image", "spectrogram"):
        png = out / f"{stem}.png"
        overlay_png(png, m.values, frame if m.box is not None else None, m.box)
        paths.append(png)
    return [str(p) for p in paths]


class ClipExplainer:
    """One (clip, model) pair with its window inputs built once from the cached signals."""

    def __init__(
        self,
        model_name: str,
        signals: ClipSignals,
        weights: str | Path | None = None,
        allow_untrained: bool = False,
    ) -> None:
        self.spec, self.model = load_model(model_name, weights, allow_untrained)
        self.signals = signals
        self.labels = self.spec.labels
        self._table: ModalityTable | None = None
        # captum hooks layers of the one shared model: two workers explaining at once would see
        # each other's activations, so explanations run one at a time (the newest is drawn).
        self._lock = threading.RLock()
        if isinstance(self.model, EmotionSystem):
            self.modalities = tuple(self.model.modalities)
            win, hop = float(self.model.window_seconds), float(self.model.hop_seconds)
            self.starts = window_starts(max(signals.duration, 1e-3), win, hop)
            self.times = self.starts + win / 2
            # The cached features: each window's input tensors, built once (no re-extraction later).
            self.batches = [
                self.model.batch_from_signals(signals, float(t), float(t) + win) for t in self.starts
            ]
            self.batch = collate(self.batches)
        else:
            self.modalities = ("face",)
            self.times = np.asarray(signals.track("face_crop64").times)
            self.batches, self.batch = [], {}

    @property
    def lock(self) -> threading.RLock:
        """Held while the shared model runs (clip-wide lanes take it one window at a time)."""
        return self._lock

    @property
    def cached_table(self) -> ModalityTable | None:
        """The subset table once built, read without the lock (it never changes after)."""
        return self._table

    @property
    def is_system(self) -> bool:
        return isinstance(self.model, EmotionSystem)

    @property
    def has_gradients(self) -> bool:
        """False for an imported ONNX file: its maps are Occlusion whatever method is asked."""
        from affectscope.models.explain.imported import has_gradients

        return has_gradients(self.model)

    # -- modality table: Shapley, leave-one-out, live ablation -----------------------------------
    def table(self, job: Job | None = None) -> ModalityTable:
        """Every modality subset over every window (computed once, in chunks, cancellable)."""
        with self._lock:
            return self._build_table(job)

    def _build_table(self, job: Job | None) -> ModalityTable:
        if self._table is None:
            job = ensure_job(job)
            if self.is_system:
                parts = []
                step = 8
                for b0 in range(0, len(self.batches), step):
                    job.check()
                    chunk = collate(self.batches[b0 : b0 + step])
                    parts.append(subset_table(self.model, chunk, self.modalities))
                    job.progress(min(b0 + step, len(self.batches)), len(self.batches), "modality subsets")
                probs = np.concatenate(parts, axis=1)
            else:
                probs = self._face_table()
            self._table = ModalityTable(self.modalities, self.labels, np.asarray(self.times), probs)
        return self._table

    def _face_table(self) -> np.ndarray:
        from affectscope.models.extractors.mini_xception import preprocess

        crops = np.asarray(self.signals.track("face_crop64").values)
        with torch.no_grad():
            x = preprocess(crops) if len(crops) else torch.zeros(0, 1, 64, 64)
            full = torch.softmax(self.model(x), 1).double().numpy()
            none = torch.softmax(self.model(torch.zeros_like(x)), 1).double().numpy()
        return np.stack([none, full])

    def refuse(self, present: Sequence[str]) -> np.ndarray:
        """(T, C) fused probabilities with only ``present`` modalities, re-running the fusion on the
        cached inputs (the baseline the table lookup is measured against)."""
        bits = subset_bits(present, self.modalities)
        with torch.no_grad():
            out = self.model(masked_batch(self.batch, self.modalities, bits))
        return out.logits.double().softmax(-1).numpy()

    def fused(self, present: Sequence[str]) -> np.ndarray:
        """Live ablation: (T, C) fused probabilities with only ``present`` ticked (a table lookup)."""
        return self.table().fused(present)

    # -- one time, or the whole clip ----------------------------------------------------------------
    def explain(
        self,
        time: float | None,
        target: str | None = None,
        method: str = "gradcam",
        maps: bool = True,
        job: Job | None = None,
    ) -> Explanation:
        """Bars (Shapley, leave-one-out, gate) and maps at ``time`` (None: the whole clip, no maps)."""
        with self._lock:
            return self._explain(time, target, method, maps, job)

    def _explain(
        self, time: float | None, target: str | None, method: str, maps: bool, job: Job | None
    ) -> Explanation:
        if method not in METHODS:
            raise ExplainError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        if target is not None and target not in self.labels:
            raise ExplainError(f"unknown target {target!r}; labels: {', '.join(self.labels)}")
        table = self.table(job)
        if len(table.times) == 0:
            raise ExplainError("nothing to explain: the model found no input in this clip (no face?)")
        w = table.nearest(time) if time is not None else None
        c = table.target_index(target, w)
        shap, loo = table.shapley(c, w), table.leave_one_out(c, w)
        gates = self._gates(w)
        v = table.values(c, w)
        ex = Explanation(
            model=self.spec.name,
            labels=tuple(self.labels),
            target=self.labels[c],
            time=float(table.times[w]) if w is not None else None,
            method=method_for(self.model, method),  # an ONNX file: occlusion
            modalities={
                m: {
                    "shapley": round(shap[m], 9),
                    "leave_one_out": round(loo[m], 9),
                    "gate": None if gates is None else round(float(gates[m]), 6),
                }
                for m in self.modalities
            },
            fused_all=float(v[-1]),
            fused_none=float(v[0]),
            frame_size=(int(self.signals.width), int(self.signals.height)),
        )
        if w is not None and maps:
            ex.maps = self._maps(w, c, method)
            if self.is_system:
                att = architecture.attention_over_time(self.model, self._window_batch(w))
                ex.attention = {k: a[0] for k, a in (att or {}).items()}
        return ex

    def _window_batch(self, w: int) -> Batch:
        return self.batches[w]

    def _gates(self, w: int | None) -> dict[str, float] | None:
        if not self.is_system:
            return None
        g = architecture.gate_weights(self.model, self._window_batch(w) if w is not None else self.batch)
        if g is None:
            return None
        return {m: float(np.mean(g[m])) if m in g else None for m in self.modalities}

    def _maps(self, w: int, c: int, method: str) -> dict[str, InputMap]:
        t = float(self.times[w])
        if not self.is_system:
            from affectscope.models.extractors.mini_xception import preprocess

            x = preprocess(np.asarray(self.signals.track("face_crop64").values[w : w + 1]))
            values, delta = image_map(self.model, x, c, method, last_conv(self.model))
            return {
                "face": InputMap("face", "image", values, method, delta, box=frames.face_box(self.signals, t))
            }
        out = system_maps(self.model, self._window_batch(w), c, method, feature_names=self._names())
        for key, m in out.items():
            if m.kind == "image":
                mouth = key == "mouth" or m.extra.get("source") == "mouth_crop28"
                m.box = frames.mouth_box(self.signals, t) if mouth else frames.face_box(self.signals, t)
            if m.kind == "spectrogram":
                m.extra["t0"], m.extra["t1"] = (
                    float(self.starts[w]),
                    float(self.starts[w] + self.model.window_seconds),
                )
        return out

    def _names(self) -> dict[str, tuple[str, ...]]:
        """Feature names per input: the signal track's column names, seed 000's 22 face features."""
        from affectscope.models.extractors.expression import feature22_names

        names: dict[str, tuple[str, ...]] = {}
        for key in self.modalities:
            x = self.batch.get(key)
            if x is None:
                continue
            if x.shape[-1] == 22 and key == "face":
                names[key] = feature22_names()
            elif self.signals.track(key).names and len(self.signals.track(key).names) == x.shape[-1]:
                names[key] = tuple(self.signals.track(key).names)
        return names
