"""Evaluation of registered models over manifests; the metrics themselves live in ``analysis.metrics``.

``classification_report`` and ``confusion_matrix`` are re-exported from there (scikit-learn point
estimates, UAR first, bootstrap CIs) so training logs, model cards and ``affectscope evaluate``
report the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from affectscope.analysis.metrics import classification_report, confusion_matrix

__all__ = [
    "classification_report",
    "confusion_matrix",
    "evaluate_manifest",
    "log_loss",
    "predict_samples",
    "to_label_set",
]


def log_loss(probs: np.ndarray, y_true: Sequence[int]) -> float:
    """Mean negative log-likelihood of the true classes (clipped at 1e-12)."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y_true, int)
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0)))) if len(y) else 0.0


def to_label_set(
    probs: np.ndarray, source: Sequence[str], target: Sequence[str], target_set: str
) -> np.ndarray:
    """Marginalise probabilities over ``source`` labels onto ``target`` labels (e.g. 7 emotions → 3
    sentiments); source classes the target set leaves out (surprise in 3 classes) are dropped."""
    from affectscope.models.training.datasets import map_label

    if tuple(source) == tuple(target):
        return probs
    out = np.zeros((probs.shape[0], len(target)))
    for j, name in enumerate(source):
        mapped = map_label(name, target_set)
        if mapped is not None:
            out[:, list(target).index(mapped)] += probs[:, j]
    return out


def _decode_all(
    paths: list[Any], modalities: tuple[str, ...], workers: int, job: Any, expressions: bool = True
) -> list[Any]:
    """Signals for every file, decoded on ``workers`` threads (soundfile, OpenCV and the resampler
    release the GIL); videos go through perception for the model's modalities only (cached); face
    images are classified by the expression network only for a model that reads ``expressions``."""
    from concurrent.futures import ThreadPoolExecutor

    from affectscope.models.inference import image_signals_many, signals_for_file
    from affectscope.models.inputs import kind_of

    if paths and all(kind_of(p) == "image" for p in paths):  # face images: batched expressions
        job.progress(0, len(paths), "decoding")
        return image_signals_many(paths, expressions=expressions)
    if workers <= 1 or len(paths) < 2:
        return [signals_for_file(p, modalities) for p in paths]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(signals_for_file, p, modalities) for p in paths]
        out = []
        for i, f in enumerate(futures):
            job.check()
            out.append(f.result())
            job.progress(i + 1, len(paths), "decoding")
        return out


def evaluate_manifest(
    model_name: str,
    manifest: str,
    label_set: str | None = None,
    weights: str | None = None,
    job: Any = None,
    protocol: str = "broad",
    decision: str = "model",
    fast: bool = True,
    workers: int = 2,
    batch_size: int = 64,
    gate: bool = True,
) -> dict[str, Any]:
    """Run a registered model over a ``path,label`` manifest and report the metrics above.

    Systems get each file's clip prediction (``decision="model"``: the system's own, e.g. seed
    004's EWMA; ``"mean"``: the mean over windows); single-image classifiers (the mini-Xception)
    get 64×64 grey faces. Predictions in another label set than ``label_set`` are marginalised onto
    it. ``protocol="paper"`` keeps the seed 004 paper's test (happy / neutral+calm / angry+sad,
    balanced per actor). ``fast`` decodes on ``workers`` threads and batches windows across files;
    ``fast=False`` is the file-by-file path (kept as the benchmark baseline). ``gate`` (default):
    windows without speech (or any other modality) do not vote in either decision (``clip_gate``:
    the silero-vad track of videos, an energy gate on bare audio files).
    """
    from affectscope.jobs import ensure_job
    from affectscope.models.inference import load_model
    from affectscope.models.registry import LABEL_SETS
    from affectscope.models.training.datasets import read_manifest
    from affectscope.models.training.protocols import apply
    from affectscope.models.weights import weights_contamination

    job = ensure_job(job)
    spec, model = load_model(model_name, weights)
    label_set = label_set or spec.label_set
    if label_set not in LABEL_SETS:
        raise ValueError(f"unknown label set {label_set!r}")
    if decision not in ("model", "mean"):
        raise ValueError(f"unknown decision {decision!r} (model, mean)")
    target = LABEL_SETS[label_set]
    samples, skipped = read_manifest(manifest, label_set)
    n_rows = len(samples)
    samples = apply(protocol, samples)
    probs = predict_samples(spec, model, samples, label_set, job, decision, fast, workers, batch_size, gate)
    pr = np.asarray(probs)
    report = classification_report([s.label for s in samples], pr.argmax(1), target)
    used = weights or (spec.weights_path() if spec.weights else None)
    return {
        "contamination": weights_contamination(used, [s.path for s in samples], [s.speaker for s in samples]),
        "model": model_name,
        "weights": weights or (str(spec.weights_path()) if spec.weights else None),
        "manifest": str(manifest),
        "label_set": label_set,
        "protocol": protocol,
        "decision": decision,
        "gate": "speech" if gate else "none",
        "skipped_rows": skipped,
        "protocol_dropped": n_rows - len(samples),
        **report,
    }


def predict_samples(
    spec: Any,
    model: Any,
    samples: Sequence[Any],
    label_set: str,
    job: Any = None,
    decision: str = "model",
    fast: bool = True,
    workers: int = 2,
    batch_size: int = 64,
    gate: bool = True,
) -> np.ndarray:
    """Each sample's clip probabilities in ``label_set`` by the product path ``evaluate`` runs
    (``evaluate_manifest``'s options); ``packaging/honest_cards.py`` scores several sets from one pass."""
    import torch

    from affectscope.jobs import ensure_job
    from affectscope.models.inference import analyse_many, analyse_signals, clip_decision, signals_for_file
    from affectscope.models.registry import LABEL_SETS
    from affectscope.models.systems.base import EmotionSystem

    job = ensure_job(job)
    target = LABEL_SETS[label_set]
    probs: list[np.ndarray] = []
    adapt_to(model, samples, spec, job, workers)
    if isinstance(model, EmotionSystem) and fast:
        mods = tuple(spec.modalities)
        for c0 in range(0, len(samples), 256):  # chunks bound memory on large folders
            chunk = samples[c0 : c0 + 256]
            sigs = _decode_all([s.path for s in chunk], mods, workers, job, model.reads_expressions)
            for _, p in analyse_many(spec, model, sigs, job, batch_size, gate, decision == "mean"):
                probs.append(to_label_set(p[None], spec.labels, target, label_set)[0])
    elif isinstance(model, EmotionSystem):
        for i, s in enumerate(samples):
            job.check()
            sig = signals_for_file(s.path, tuple(spec.modalities))
            a = analyse_signals(spec, model, sig, gate=gate)
            p = clip_decision(None, a.fused, a.vote_weights)[0] if decision == "mean" else a.clip_probs
            probs.append(to_label_set(p[None], spec.labels, target, label_set)[0])
            job.progress(i + 1, len(samples), f"evaluate {spec.name}: {s.path.name}")
    elif fast:
        if hasattr(model, "for_inference"):  # an evaluated classifier is not saved again
            model.for_inference()
        for c0 in range(0, len(samples), 512):
            x = torch.cat([_face64(s.path) for s in samples[c0 : c0 + 512]])
            probs.extend(to_label_set(_classifier_probs(model, x), spec.labels, target, label_set))
            job.progress(min(c0 + 512, len(samples)), len(samples), f"evaluate {spec.name}")
    else:
        for s in samples:
            job.check()
            probs.append(
                to_label_set(_image_classifier_probs(model, s.path), spec.labels, target, label_set)[0]
            )
    return np.asarray(probs)


def adapt_to(model: Any, samples: Sequence[Any], spec: Any, job: Any, workers: int = 2) -> None:
    """Let a system that normalises with the analysed clips' statistics see them first (no-op else)."""
    from affectscope.models.systems.base import EmotionSystem

    if isinstance(model, EmotionSystem) and hasattr(model, "adapt"):  # only what adapting reads
        _adapt(model, samples, tuple(getattr(model, "adapt_modalities", spec.modalities)), workers, job)


def _adapt(model: Any, samples: Sequence[Any], modalities: tuple[str, ...], workers: int, job: Any) -> None:
    """Systems that normalise with statistics of the clips analysed (the eGeMAPS reference's
    per-speaker standardisation) see every clip, with its speaker, before any is classified."""

    def clips():  # noqa: ANN202 (decoded chunk by chunk: memory stays bounded)
        for c0 in range(0, len(samples), 256):
            chunk = samples[c0 : c0 + 256]
            sigs = _decode_all([s.path for s in chunk], modalities, workers, job, False)
            yield from zip(sigs, [s.speaker for s in chunk], strict=True)

    model.adapt(clips())


def _face64(path: Any) -> Any:
    import cv2
    import torch

    from affectscope.models.inputs import load_face_image

    grey = cv2.resize(load_face_image(path), (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    return torch.from_numpy(grey / 127.5 - 1.0)[None, None]


def _classifier_probs(model: Any, x: Any) -> np.ndarray:
    import torch

    from affectscope.models.finite import check_outputs

    if hasattr(model, "predict_proba"):  # mini-Xception: logits out, Keras's softmax here
        probs = np.asarray(model.predict_proba(x), dtype=np.float64)
    else:
        with torch.no_grad():
            out = model(x.to(next(model.parameters()).device))
        probs = torch.softmax(getattr(out, "logits", out).float().cpu(), 1).numpy()
    check_outputs(type(model).__name__, {"image": probs})
    return probs


def _image_classifier_probs(model: Any, path: Any) -> np.ndarray:
    return _classifier_probs(model, _face64(path))
