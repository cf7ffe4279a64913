"""The second face detector (``more_faces``) on real frames: two faces where HOG alone found one or none
in the real group clip, the HOG faces kept as they were, and still exactly one face on the real
talking-face clip; the option is part of the cache key only when it is on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from affectscope.models.extractors.faces import SECOND_PASS_SCORE, detect_faces
from affectscope.models.extractors.pipeline import ExtractSettings

GROUP_FRAMES = (18, 27, 72, 78, 81)  # frames of the group clip where two people face the camera
TALKING_FRAMES = (0, 60, 150)


def _frames(path: Path, indices: tuple[int, ...]) -> list[np.ndarray]:
    from affectscope.media import VideoReader

    with VideoReader(path) as reader:
        return [np.array(reader.frame(i)) for i in indices]


def test_more_faces_in_the_group_clip_and_none_invented(shared_data: Path) -> None:
    group = _frames(shared_data / "clips" / "vgaf_val_1_1_negative.mp4", GROUP_FRAMES)
    two = 0
    for frame in group:
        hog = detect_faces(frame)
        more = detect_faces(frame, more=True)
        assert len(hog) <= 1 and len(more) >= len(hog)
        assert {f.box for f in hog} <= {f.box for f in more}  # HOG's faces stay, with their scores
        added = [f for f in more if f.score == SECOND_PASS_SCORE]
        assert len(added) == len(more) - len(hog)
        assert all(f.landmarks.shape == (68, 2) for f in added)
        two += len(more) >= 2
    assert two >= 4, f"two faces in only {two} of {len(group)} frames"
    for frame in _frames(shared_data / "clips" / "woman2_unlabelled.mp4", TALKING_FRAMES):
        assert len(detect_faces(frame, more=True)) == 1  # one woman: no window, hair or lamp faces


@pytest.mark.parametrize("more", [False, True])
def test_more_faces_is_in_the_cache_key_only_when_on(more: bool) -> None:
    settings = ExtractSettings(more_faces=more).to_json()
    assert ("more_faces" in settings) is more
