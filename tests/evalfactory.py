"""A real project with labelled clips and stored model predictions, for evaluation runs and figures.

Clips are real files (clipfactory); labels are appended through db.labels; predictions are stored
for the shipped lightweight-streaming weights' version (fused timeline plus face/mouth/audio heads),
so ``evaluate_project`` reuses them instead of running the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from affectscope.app.services.analysis_store import record_version
from affectscope.app.services.project import Project
from affectscope.db import labels as label_rows
from affectscope.db import predictions as pred_rows
from affectscope.db.uow import unit_of_work
from affectscope.models.registry import get
from tests.clipfactory import make_clip

MODEL = "lightweight-streaming"
LABELS = ("positive", "neutral", "negative")
HEADS = ("face", "mouth", "audio")


def make_eval_project(
    tmp_path: Path, n_clips: int = 9, seed: int = 0, distinct: bool = False
) -> tuple[Project, dict]:
    """Project with ``n_clips`` 1-second clips, each labelled by two annotators, with predictions.

    ``distinct`` gives each clip its own tone (otherwise the clips are byte-identical files).
    Returns the project and what was stored: clip ids, true and predicted classes, fused timelines.
    """
    rng = np.random.default_rng(seed)
    clips = tmp_path / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    t = np.arange(48000) / 48000
    for i in range(n_clips):
        audio = (0.2 * np.sin(2 * np.pi * (300 + 40 * i) * t)).astype(np.float32) if distinct else "tone"
        make_clip(clips / f"c{i:02d}.mp4", n_frames=25, fps=25.0, size=(128, 96), audio=audio, gop=5)
    project = Project.init(tmp_path / "proj")
    project.import_clips(clips)
    records = sorted(project.clips(), key=lambda c: c.path)
    spec = get(MODEL)
    version = record_version(project, MODEL, spec.label_set, spec.labels, spec.weights_path())
    truth, pred, fused_tl = {}, {}, {}
    with unit_of_work(project.db, write=True) as s:
        for i, clip in enumerate(records):
            t = i % 3
            label_rows.add_label(s, clip.id, "sentiment3", LABELS[t], "ann")
            label_rows.add_label(s, clip.id, "sentiment3", LABELS[(t + (i % 2)) % 3], "bob")
            label_rows.add_label(s, clip.id, "sentiment3", LABELS[t], "cat")
            times = [(k * 0.2, k * 0.2 + 0.4) for k in range(4)]
            windows = rng.dirichlet(np.ones(3), size=4)
            clip_probs = windows.mean(0)
            pred_rows.add_predictions(
                s,
                version,
                clip.id,
                clip_probs=clip_probs.tolist(),
                timeline=[(a, b, w.tolist()) for (a, b), w in zip(times, windows, strict=True)],
            )
            for head in HEADS:
                hw = rng.dirichlet(np.ones(3), size=4)
                tl = [(a, b, w.tolist()) for (a, b), w in zip(times, hw, strict=True)]
                pred_rows.add_predictions(s, version, clip.id, timeline=tl, modality=head)
            truth[clip.id], pred[clip.id], fused_tl[clip.id] = t, int(clip_probs.argmax()), (times, windows)
    # "current" is the newest label: cat's, which equals ann's (the majority as well).
    return project, {"version": version, "clips": records, "true": truth, "pred": pred, "fused": fused_tl}
