"""Mouth open/closed training data for seed 004, labelled by landmark geometry.

The paper labelled 832 RAVDESS mouth crops by hand; no such labels exist here, so every frame of the
given clips is run through dlib (perception's detector + 68 landmarks), each face's inner-lip
opening ratio labels its 28×28 crop open (ratio ≥ 0.15) or closed (≤ 0.05), and the ambiguous
middle is left out so the labels stay clean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from affectscope.jobs import Job, ensure_job

OPEN_AT = 0.15
CLOSED_AT = 0.05


def mouth_samples(
    clips: list[Path], step: int = 1, job: Job | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crops (N, 28, 28, 3) uint8, labels (N,) 1 = open, and clip index (N,) from every ``step``-th frame."""
    from affectscope.media.reader import VideoReader
    from affectscope.models.extractors.faces import detect_faces
    from affectscope.models.extractors.mouth import mouth_crop, mouth_open_ratio

    job = ensure_job(job)
    crops, labels, groups = [], [], []
    for g, clip in enumerate(clips):
        with VideoReader(clip) as reader:
            n = len(reader)
            for i in range(0, n, step):
                job.check()
                rgb = reader.frame(i)
                for face in detect_faces(rgb):
                    ratio = mouth_open_ratio(face.landmarks)
                    if CLOSED_AT < ratio < OPEN_AT:
                        continue
                    crops.append(mouth_crop(rgb, face.landmarks))
                    labels.append(int(ratio >= OPEN_AT))
                    groups.append(g)
                job.progress(i + 1, n, f"mouth labels: {clip.name} frame {i + 1}/{n}")
    if not crops:
        return np.zeros((0, 28, 28, 3), np.uint8), np.zeros(0, int), np.zeros(0, int)
    return np.stack(crops), np.asarray(labels), np.asarray(groups)
