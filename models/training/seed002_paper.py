"""Seed 002's own evaluation protocol (§3.2): ten fresh runs on per-class 2/3-1/3 splits.

Kept apart from the speaker-independent recipes (``recipes_systems``) because it is not one: the
paper splits per class, and its figure (mean ± sd accuracy) is reproduced here as the paper reports
it, beside the UAR.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from affectscope.jobs import Job, ensure_job
from affectscope.models.provenance import data_records
from affectscope.models.registry import get
from affectscope.models.systems.base import EmotionSystem
from affectscope.models.training import datasets as ds
from affectscope.models.training import system_data as sd
from affectscope.models.training.recipes_systems import _classify, _inputs, outputs


def per_class_split(labels: np.ndarray, rng: np.random.Generator, train_share: float = 2 / 3) -> np.ndarray:
    """A boolean train mask taking ``train_share`` of each class (the seed 002 paper's split, §3.2)."""
    mask = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        mask[idx[: int(round(train_share * len(idx)))]] = True
    return mask


def seed002_paper(
    out: Path,
    data: Path,
    job: Job | None = None,
    runs: int = 10,
    epochs: int = 100,
    batch_size: int = 16,
    lr: float = 1e-4,
    fer_per_class: int = 300,
    seed: int = 0,
) -> dict[str, Any]:
    """§3.2's protocol for skeleton-fusion: ``runs`` runs, each a fresh model trained ``epochs``
    epochs (Adam ``lr``, batch 16, no early stopping) on 2/3 of each class and tested on the rest;
    reports mean ± sd accuracy (the paper's figure) and UAR. Data: EmoDB speech and FER-2013 faces
    (the paper's VideoEmotion-8 is not here); the split is per class, not per speaker, as the paper's."""
    job = ensure_job(job)
    spec = get("skeleton-fusion")
    proto: EmotionSystem = spec.build()
    emodb = ds.emodb(data / "emodb")
    faces = ds.fer(data / "fer2013" / "train", per_class=fer_per_class, seed=seed)
    arrays = sd.face_arrays([f.path for f in faces], job)
    speech = sd.build_split(
        proto,
        [lambda s=s: sd.speech_signals(s.path, False) for s in emodb],
        [s.label for s in emodb],
        "speech",
        job,
        max_windows=1,
    )
    face = sd.face_split(proto, faces, arrays, "faces", job)
    every = sd.concat([speech, face])
    rng = np.random.default_rng(seed)
    results = []
    for run in range(runs):
        torch.manual_seed(seed + run)
        model: EmotionSystem = spec.build()
        train_mask = per_class_split(every.labels, rng)
        tr, te = np.flatnonzero(train_mask), np.flatnonzero(~train_mask)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for epoch in range(epochs):
            model.train()
            order = rng.permutation(tr)
            for b0 in range(0, len(order), batch_size):
                job.check()
                idx = order[b0 : b0 + batch_size]
                if len(idx) < 2:
                    continue
                x = _inputs(every.subset(idx))
                loss = model.loss_fn(model(x), torch.from_numpy(every.labels[idx]).long())
                opt.zero_grad()
                loss.backward()
                opt.step()
            job.progress(run * epochs + epoch + 1, runs * epochs, f"seed002-paper run {run + 1}/{runs}")
        test = sd.Split(
            {k: v[torch.from_numpy(te)] for k, v in every.batch.items()},
            every.labels[te],
            np.arange(len(te)),
            every.labels[te],
        )
        probs = outputs(model, test)["fused"]
        results.append(_classify(test.labels, probs, f"run {run + 1}: per-class 1/3 held out"))
    acc = np.array([r["accuracy"] for r in results])
    uar = np.array([r["uar"] for r in results])
    card = {
        "model": spec.name,
        "recipe": "seed002-paper",
        "command": f"affectscope train {spec.name} --recipe seed002-paper -o {out}",
        "protocol": f"{runs} runs x {epochs} epochs, Adam {lr:g}, batch {batch_size}, per-class 2/3-1/3 "
        "split (not speaker independent: the paper's protocol)",
        "data": "EmoDB speech (CC0) and FER-2013 faces; the paper's VideoEmotion-8 is not available here",
        "accuracy_mean": float(acc.mean()),
        "accuracy_sd": float(acc.std(ddof=1)) if runs > 1 else 0.0,
        "uar_mean": float(uar.mean()),
        "uar_sd": float(uar.std(ddof=1)) if runs > 1 else 0.0,
        "runs": results,
        "data_records": data_records([*emodb, *faces], notes={"train": "2/3 of these train each run"}),
    }
    from affectscope.models.weights import save_state

    save_state(model.cpu(), out, card, half=True)  # the last run's weights
    return card
