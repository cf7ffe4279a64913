"""A made project for the relabel loop: short clips whose audio is real EmoDB speech, labelled.

Clips are named after their EmoDB utterance (``03a01Fa.mp4``), so the speaker of each clip is known
(``speaker_of``) and retraining holds out whole speakers. Labels map EmoDB emotions to sentiment3;
annotator "alice" labels every clip, "bob" a few with some disagreement.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from affectscope.app.services.commands import LabelCommand
from affectscope.app.services.project import Project
from tests.clipfactory import make_clip

SENTIMENT = {"F": "positive", "N": "neutral", "L": "neutral", "W": "negative", "T": "negative"}


def emodb_files(shared_data: Path, per_class: int) -> list[tuple[Path, str]]:
    """``per_class`` files per sentiment, spread over speakers (deterministic)."""
    out: dict[str, list[Path]] = {"positive": [], "neutral": [], "negative": []}
    for f in sorted((shared_data / "emodb").glob("*.wav")):
        lab = SENTIMENT.get(f.stem[5])
        if lab is not None:
            out[lab].append(f)
    picked = []
    for lab, files in out.items():
        step = max(1, len(files) // per_class)
        picked += [(f, lab) for f in files[::step][:per_class]]
    return picked


def make_project(folder: Path, shared_data: Path, per_class: int = 6, seconds: float = 2.4) -> Project:
    import soundfile
    from scipy.signal import resample_poly

    clips = folder / "clips"
    clips.mkdir(parents=True)
    for wav, _ in emodb_files(shared_data, per_class):
        y, rate = soundfile.read(str(wav), dtype="float32")
        y = resample_poly(y, 16000, rate).astype(np.float32)
        y = np.resize(y, int(seconds * 16000))
        make_clip(
            clips / f"{wav.stem}.mp4",
            n_frames=int(seconds * 10),
            fps=10,
            size=(64, 48),
            audio=y,
            audio_rate=16000,
        )
    project = Project.init(clips)  # the project folder holds its clips, as the window creates it
    project.import_clips(clips)
    project.choose_label_set("sentiment3")
    for wav, lab in emodb_files(shared_data, per_class):
        LabelCommand(project.db, project.clip(f"{wav.stem}.mp4").id, "sentiment3", lab, "alice").do()
    return project
