"""A fast audio model for the relabel loop: log-mel statistics and a linear softmax classifier.

The registered systems need perception on video and minutes per epoch; an annotator who just fixed
twenty labels wants a retrained model in seconds. This model reads only the audio track (any clip or
speech file), summarises 40 log-mel bands at 16 kHz by mean, std and 10th/90th percentiles of the bands
and their deltas (320 values), and fits a multinomial logistic regression by SGD one epoch at a time,
so training reports a live loss/UAR curve, can be cancelled between epochs, and keeps the epoch with
the best held-out UAR. Weights are a small ``.npz`` (scaler + coefficients), hashed like any weights.

With tens of clips and 320 values per clip the classes are linearly separable, so the fit drives its
logits apart and said 100 % for nearly every clip (the window's Confidence column), right or wrong.
``calibrate`` divides the logits by a temperature fitted on out-of-fold predictions of the training
files: the class chosen never changes, the probabilities say how often such a fit is right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectscope.analysis.metrics import classification_report
from affectscope.jobs import Job, ensure_job

NAME = "audio-logmel-linear"
RATE = 16000
WINDOW_S, HOP_S = 1.0, 0.5
_MEL: Any = None


def logmel_stats(samples: np.ndarray) -> np.ndarray:
    """320 summary values of 16 kHz mono samples (a silent or empty input gives finite values)."""
    import torch
    import torchaudio

    global _MEL
    if _MEL is None:
        _MEL = torchaudio.transforms.MelSpectrogram(RATE, n_fft=512, hop_length=160, n_mels=40)
    y = np.asarray(samples, dtype=np.float32)
    if len(y) < 1024:
        y = np.pad(y, (0, 1024 - len(y)))
    with torch.no_grad():
        m = torch.log(_MEL(torch.from_numpy(y)) + 1e-6).numpy()
    d = np.diff(m, axis=1) if m.shape[1] > 1 else np.zeros_like(m)
    parts = []
    for a in (m, d):
        parts += [a.mean(1), a.std(1), np.percentile(a, 10, axis=1), np.percentile(a, 90, axis=1)]
    return np.concatenate(parts).astype(np.float32)


def file_features(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(whole-file features, window start times, per-window features) of a file's audio track."""
    from affectscope.media.audio import load_audio

    audio = load_audio(path, rate=RATE)
    y = audio.samples
    whole = logmel_stats(y)
    win, hop = int(WINDOW_S * RATE), int(HOP_S * RATE)
    starts = list(range(0, max(len(y) - win, 0) + 1, hop)) or [0]
    windows = np.stack([logmel_stats(y[s : s + win]) for s in starts])
    return whole, np.asarray(starts, dtype=float) / RATE + audio.start_time, windows


@dataclass
class LinearAudioModel:
    labels: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        z = ((np.atleast_2d(x) - self.mean) / self.scale) @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        with open(path, "wb") as fh:  # np.savez would append .npz to other suffixes
            np.savez(
                fh,
                labels=np.array(self.labels),
                mean=self.mean,
                scale=self.scale,
                coef=self.coef,
                intercept=self.intercept,
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> LinearAudioModel:
        d = np.load(path, allow_pickle=False)
        arrays = {k: d[k] for k in ("mean", "scale", "coef", "intercept")}
        bad = [k for k, a in arrays.items() if not np.isfinite(a).all()]
        if bad:
            from affectscope.errors import WeightsError

            raise WeightsError(
                f"{Path(path).name} holds NaN or infinite values ({', '.join(bad)}); "
                "these weights are broken: retrain them"
            )
        labels = tuple(d["labels"].tolist())
        if len(labels) == 2:  # weights saved before two-class fits kept both rows
            arrays["coef"], arrays["intercept"] = _softmax_weights(arrays["coef"], arrays["intercept"])
        return cls(labels, **arrays)


def aside_rows(y_train: Sequence[int], seed: int = 0) -> np.ndarray:
    """The training rows ``fit_linear`` holds aside to choose its epoch (a random fifth; none when
    too few files or one class): the card records them as validation."""
    y_train = np.asarray(y_train, dtype=int)
    aside = np.random.default_rng(seed + 1).permutation(len(y_train))[: len(y_train) // 5]
    if len(aside) < 2 or len(np.unique(y_train[aside])) < 2:
        return np.zeros(0, dtype=int)  # too few files to hold some aside: the last epoch is kept
    return aside


def fit_linear(
    x_train: np.ndarray,
    y_train: Sequence[int],
    x_val: np.ndarray,
    y_val: Sequence[int],
    labels: Sequence[str],
    epochs: int = 30,
    seed: int = 0,
    job: Job | None = None,
) -> tuple[LinearAudioModel, list[dict[str, float]]]:
    """SGD logistic regression, one ``partial_fit`` pass per epoch; keeps the epoch with the best UAR on
    a fifth of the *training* files held aside (``select_uar``), never on ``x_val``: the held-out clips
    then score the version (issue 19: choosing the epoch on them made their UAR a validation figure).

    Each epoch's row (train/val log loss, val UAR, select UAR) goes to ``job.partial`` as it is measured.
    The kept model is calibrated (``out_of_fold_temperature``, from the training files only); the history's
    losses are the uncalibrated fit's, as it was trained.
    """
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import balanced_accuracy_score, log_loss

    job = ensure_job(job)
    classes = np.arange(len(labels))
    y_train, y_val = np.asarray(y_train, dtype=int), np.asarray(y_val, dtype=int)
    aside = aside_rows(y_train, seed)
    fit_rows = np.setdiff1d(np.arange(len(y_train)), aside)
    x_sel, y_sel = x_train[aside], y_train[aside]
    x_train, y_train = x_train[fit_rows], y_train[fit_rows]
    mean = x_train.mean(axis=0)
    scale = np.where(x_train.std(axis=0) > 1e-8, x_train.std(axis=0), 1.0)
    xt, xv, xs = (x_train - mean) / scale, (x_val - mean) / scale, (x_sel - mean) / scale
    # Balanced class weights from the training labels (absent classes weigh nothing).
    counts = np.bincount(y_train, minlength=len(labels)).astype(float)
    weight = {c: (len(y_train) / (len(labels) * counts[c]) if counts[c] else 0.0) for c in classes}
    clf = SGDClassifier(loss="log_loss", alpha=1e-2, learning_rate="optimal", random_state=seed)
    sample_w = np.array([weight[c] for c in y_train])
    best: tuple[float, LinearAudioModel] | None = None
    history: list[dict[str, float]] = []
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        job.check()
        order = rng.permutation(len(y_train))
        clf.partial_fit(xt[order], y_train[order], classes=classes, sample_weight=sample_w[order])
        pt, pv = clf.predict_proba(xt), clf.predict_proba(xv)
        row = {
            "epoch": epoch + 1,
            "train_loss": float(log_loss(y_train, pt, labels=classes)),
            "val_loss": float(log_loss(y_val, pv, labels=classes)) if len(y_val) else float("nan"),
            "val_uar": float(balanced_accuracy_score(y_val, pv.argmax(1))) if len(y_val) else float("nan"),
            # nothing held aside: a later epoch always wins (the last one is kept)
            "select_uar": float(balanced_accuracy_score(y_sel, clf.predict(xs)) if len(y_sel) else epoch),
        }
        history.append(row)
        job.partial(row)
        job.progress(epoch + 1, epochs, f"{NAME}: epoch {epoch + 1}/{epochs}, val UAR {row['val_uar']:.3f}")
        model = LinearAudioModel(tuple(labels), mean, scale, *_softmax_weights(clf.coef_, clf.intercept_))
        if best is None or row["select_uar"] > best[0]:
            best = (row["select_uar"], model)
    assert best is not None
    chosen = max(history, key=lambda r: r["select_uar"])["epoch"]  # the epoch ``best`` holds (first max)
    temperature = out_of_fold_temperature(x_train, y_train, len(labels), int(chosen), seed)
    return calibrate(best[1], temperature), history


def _sgd_logits(
    x_fit: np.ndarray, y_fit: np.ndarray, x_out: np.ndarray, n_classes: int, epochs: int, seed: int
) -> np.ndarray:
    """Logits for ``x_out`` of the model ``fit_linear`` trains on ``x_fit`` for ``epochs`` passes."""
    from sklearn.linear_model import SGDClassifier

    mean = x_fit.mean(axis=0)
    scale = np.where(x_fit.std(axis=0) > 1e-8, x_fit.std(axis=0), 1.0)
    counts = np.bincount(y_fit, minlength=n_classes).astype(float)
    weight = np.where(counts > 0, len(y_fit) / (n_classes * np.maximum(counts, 1.0)), 0.0)
    clf = SGDClassifier(loss="log_loss", alpha=1e-2, learning_rate="optimal", random_state=seed)
    rng = np.random.default_rng(seed)
    xf = (x_fit - mean) / scale
    for _ in range(epochs):
        order = rng.permutation(len(y_fit))
        clf.partial_fit(
            xf[order], y_fit[order], classes=np.arange(n_classes), sample_weight=weight[y_fit[order]]
        )
    coef, intercept = _softmax_weights(clf.coef_, clf.intercept_)
    return ((x_out - mean) / scale) @ coef.T + intercept


def _softmax_weights(coef: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One row of weights per class. For two classes scikit-learn keeps a single row (the second class's
    logit against the first); taken as it was, the softmax over one logit said 100 % of the first class
    for every clip. Softmax over (0, z) is that logistic model."""
    if coef.shape[0] == 1:
        return np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    return coef.copy(), intercept.copy()


def out_of_fold_temperature(
    x: np.ndarray, y: Sequence[int], n_classes: int, epochs: int, seed: int = 0, max_folds: int = 5
) -> float:
    """The temperature (>= 1: never sharper than the fit) that minimises the log loss of out-of-fold
    predictions: each file is predicted by the same recipe trained without it. With fewer than two files
    per fold, or a single class, there is nothing to measure and 1.0 is returned. A fold may miss a class
    (few files): its model then never picks that class, and the temperature counts that against it."""
    y = np.asarray(y, dtype=int)
    folds = min(max_folds, len(y) // 2)
    if folds < 2 or len(np.unique(y)) < 2:
        return 1.0
    fold_of = np.random.default_rng(seed + 2).permutation(len(y)) % folds
    z = np.zeros((len(y), n_classes))
    for k in range(folds):
        out, fit = fold_of == k, fold_of != k
        z[out] = _sgd_logits(x[fit], y[fit], x[out], n_classes, epochs, seed)
    temps = np.geomspace(1.0, 1000.0, 121)
    return float(temps[int(np.argmin([_nll(z / t, y) for t in temps]))])


def _nll(z: np.ndarray, y: np.ndarray) -> float:
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


def calibrate(model: LinearAudioModel, temperature: float) -> LinearAudioModel:
    """``model`` with its logits divided by ``temperature`` (folded into the weights: same file format)."""
    t = max(float(temperature), 1.0)
    return LinearAudioModel(model.labels, model.mean, model.scale, model.coef / t, model.intercept / t)


def heldout_report(model: LinearAudioModel, x_val: np.ndarray, y_val: Sequence[int]) -> dict[str, Any]:
    pred = model.predict_proba(x_val).argmax(1)
    return classification_report(np.asarray(y_val), pred, list(model.labels))
