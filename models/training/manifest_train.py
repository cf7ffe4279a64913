"""Training any registered system on labelled files (a CSV manifest or a project's labelled clips).

Each file becomes ``ClipSignals`` (videos through perception, which caches them; audio files as a
waveform; face images as a one-frame clip), each window of the system over the file a training
example with the file's label. Validation holds out whole speakers (``--split speaker``) or random
files (``--split random``); early stopping watches validation loss. The model card records the
data, split, per-file validation metrics, date and code version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from affectscope.analysis.metrics import classification_report
from affectscope.errors import UserFacingError
from affectscope.jobs import Job, ensure_job
from affectscope.models.inference import analyse_signals, signals_for_file, window_starts
from affectscope.models.registry import LABEL_SETS, get
from affectscope.models.signals import ClipSignals
from affectscope.models.training.datasets import Sample
from affectscope.models.training.splits import speakers, split
from affectscope.models.training.trainer import fit_system


@dataclass
class _Window:
    signals: int
    t0: float
    label: int


class SystemWindows(Dataset):
    """(system batch of 1, label) for every window of every file; batches are built on demand."""

    def __init__(
        self, model: Any, signals: list[ClipSignals], labels: list[int], max_windows: int = 8
    ) -> None:
        self.model, self.signals = model, signals
        self.items: list[_Window] = []
        win, hop = float(model.window_seconds), float(model.hop_seconds)
        for i, (sig, lab) in enumerate(zip(signals, labels, strict=True)):
            starts = window_starts(max(sig.duration, 1e-3), win, max(hop, win / 2))
            if len(starts) > max_windows:
                starts = starts[np.linspace(0, len(starts) - 1, max_windows).round().astype(int)]
            self.items += [_Window(i, float(t), lab) for t in starts]
        self.labels = np.array([w.label for w in self.items])

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k: int) -> tuple[dict[str, torch.Tensor], int]:
        w = self.items[k]
        return self.model.batch_from_signals(
            self.signals[w.signals], w.t0, w.t0 + self.model.window_seconds
        ), w.label


def train_on_samples(
    name: str,
    samples: list[Sample],
    out: str | Path,
    how: str = "speaker",
    label_set: str | None = None,
    epochs: int = 10,
    lr: float | None = None,
    batch_size: int = 8,
    init_weights: str | Path | None = None,
    job: Job | None = None,
    source: str = "manifest",
) -> dict[str, Any]:
    """Train system ``name`` on labelled files; write weights + card to ``out``; return the card.

    ``lr`` defaults to the system's paper ``learning_rate`` (else 1e-3); the staged schedule, losses
    and parameter groups are the system's own (``fit_system``) and are recorded in ``card["training"]``.
    """
    from affectscope.models.provenance import data_records
    from affectscope.models.systems.base import EmotionSystem
    from affectscope.models.weights import load_state, save_state

    job = ensure_job(job)
    spec = get(name)
    label_set = label_set or spec.label_set
    model = (
        spec.build(num_classes=len(LABEL_SETS[label_set])) if "num_classes" in spec.config else spec.build()
    )
    if not isinstance(model, EmotionSystem):
        raise UserFacingError(f"{name} is not a trainable system here (it is a perception model)")
    if init_weights is not None:
        load_state(model, init_weights)
    try:
        train, val = split(samples, how, 0.2)
    except ValueError as exc:
        raise UserFacingError(str(exc)) from None
    if not train or not val:
        raise UserFacingError("too few files to hold out a validation set; add files or use --split random")
    job.progress(0, len(samples), "reading inputs")
    sig_train = [signals_for_file(s.path, tuple(spec.modalities)) for s in train]
    sig_val = [signals_for_file(s.path, tuple(spec.modalities)) for s in val]
    res, training = fit_system(
        model,
        lambda m, x: m(x),
        SystemWindows(model, sig_train, [s.label for s in train]),
        SystemWindows(model, sig_val, [s.label for s in val]),
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        patience=3,
        job=job,
        what=f"{name}",
    )
    model.eval()
    preds = [int(np.argmax(analyse_signals(spec, model, s).clip_probs)) for s in sig_val]
    report = classification_report([s.label for s in val], preds, LABEL_SETS[label_set])
    card = {
        "model": name,
        "source": source,
        "label_set": label_set,
        "n_files": len(samples),
        "split": {
            "how": how,
            "train_speakers": speakers(train) if how == "speaker" else None,
            "val_speakers": speakers(val) if how == "speaker" else None,
            "n_train": len(train),
            "n_val": len(val),
        },
        "fit": {
            "epochs_run": len(res.history),
            "best_epoch": res.best_epoch,
            "best_val_loss": res.best_val_loss,
            "stopped_early": res.stopped_early,
            "history": res.history,
            "seconds": round(res.seconds, 1),
        },
        "training": training,
        "metrics": {"val_accuracy": report["accuracy"], "val_macro_f1": report["macro_f1"]},
        "validation": report,
        "init_weights": str(init_weights) if init_weights else None,
        "data_records": data_records(
            train,
            val,
            notes={
                "train": f"{source}: the files trained on",
                "validation": "held out by the split; chose the epoch (early stopping)",
                "tuning": "not known to the code: record what chose these settings yourself",
            },
        ),
    }
    save_state(model.cpu(), out, card)
    return card
