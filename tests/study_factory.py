"""A small real study for tests: made clips (tests/clipfactory.py) imported into a SQLite project, each
labelled (the truth), a model version with predictions, and a study with an unassisted and a
model-assisted arm."""

from __future__ import annotations

from pathlib import Path

from affectscope.app.services import studies
from affectscope.app.services.project import Project
from affectscope.db import labels as label_rows
from affectscope.db import predictions
from affectscope.db.uow import unit_of_work
from tests.clipfactory import make_clip

TRUTH = ["positive", "neutral", "negative", "positive"]


def make_study_project(
    tmp: Path, readers: tuple[str, ...] = ("ada", "bo"), seed: int = 7
) -> tuple[Project, int]:
    clips = tmp / "clips"
    for i in range(len(TRUTH)):
        make_clip(clips / f"c{i}.mp4", n_frames=12, fps=12.0, size=(96, 64), audio="tone")
    project = Project.init(tmp / "proj")
    project.import_clips(clips)
    labels = ("positive", "neutral", "negative")
    with unit_of_work(project.db, write=True) as s:
        mv = predictions.record_model_version(s, "toy", "1", "sentiment3", labels)
        for cid, truth in enumerate(TRUTH, start=1):
            label_rows.add_label(s, cid, "sentiment3", truth, "lead")
            probs = [0.1, 0.1, 0.1]
            probs[(labels.index(truth) + (cid == 4)) % 3] = 0.8  # wrong on the last clip
            predictions.add_predictions(s, mv.id, cid, clip_probs=probs)
    cases = studies.select_cases(project.db, "sentiment3")
    sid = studies.create_study(
        project.db,
        "pilot",
        "sentiment3",
        [
            studies.ArmSpec("plain", "audiovisual"),
            studies.ArmSpec("helped", "audiovisual", "model", mv.id),
        ],
        cases,
        seed=seed,
        readers=readers,
    )
    return project, sid
