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

__all__ = ["classification_report", "confusion_matrix", "evaluate_manifest", "log_loss", "to_label_set"]


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


def evaluate_manifest(
    model_name: str, manifest: str, label_set: str | None = None, weights: str | None = None, job: Any = None
) -> dict[str, Any]:
    """Run a registered model over a ``path,label`` manifest and report the metrics above.

    Systems get each file's clip prediction (``analyse_clip``); single-image classifiers (the
    perception engineer's ``fer-mini-xception``) get 64×64 grey faces. Predictions in another label
    set than ``label_set`` are marginalised onto it.
    """
    from affectscope.jobs import ensure_job
    from affectscope.models.inference import analyse_signals, load_model, signals_for_file
    from affectscope.models.registry import LABEL_SETS
    from affectscope.models.systems.base import EmotionSystem
    from affectscope.models.training.datasets import read_manifest

    job = ensure_job(job)
    spec, model = load_model(model_name, weights)
    label_set = label_set or spec.label_set
    if label_set not in LABEL_SETS:
        raise ValueError(f"unknown label set {label_set!r}")
    target = LABEL_SETS[label_set]
    samples, skipped = read_manifest(manifest, label_set)
    probs = []
    for i, s in enumerate(samples):
        job.check()
        if isinstance(model, EmotionSystem):
            sig = signals_for_file(s.path, tuple(spec.modalities))
            p = analyse_signals(spec, model, sig).clip_probs[None]
        else:
            p = _image_classifier_probs(model, s.path)
        probs.append(to_label_set(p, spec.labels, target, label_set)[0])
        job.progress(i + 1, len(samples), f"evaluate {model_name}: {s.path.name}")
    pr = np.asarray(probs)
    report = classification_report([s.label for s in samples], pr.argmax(1), target)
    return {
        "model": model_name,
        "weights": weights or (str(spec.weights_path()) if spec.weights else None),
        "manifest": str(manifest),
        "label_set": label_set,
        "skipped_rows": skipped,
        **report,
    }


def _image_classifier_probs(model: Any, path: Any) -> np.ndarray:
    import cv2
    import torch

    from affectscope.models.training.loaders import load_face_image

    grey = cv2.resize(load_face_image(path), (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    x = torch.from_numpy(grey / 127.5 - 1.0)[None, None]
    if hasattr(model, "predict_proba"):  # mini-Xception: logits out, Keras's softmax here
        return np.asarray(model.predict_proba(x), dtype=np.float64)
    with torch.no_grad():
        out = model(x.to(next(model.parameters()).device))
    return torch.softmax(getattr(out, "logits", out).float().cpu(), 1).numpy()
