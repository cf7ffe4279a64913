"""Which FER-2013 faces the face heads of seeds 000–002 learn from and are tested on.

Every face input of those systems is built from the mini-Xception's expression probabilities. The
shared FER-2013 ``train`` images are heavily blurred (median Laplacian variance 6.1 against 2,052
for ``test_sample``) and the mini-Xception is near chance on them (UAR 0.39 against 0.755 on sharp
faces), so heads trained there learnt from noise and never answered "negative" on sharp faces.
"sharp-half" therefore learns from the even-indexed half of ``test_sample`` (85/15 into train and
validation) and tests on the odd-indexed half, which no stage ever reads; "train" is the earlier
recipe (``per_class`` blurred training images per class, 85/15; the whole sample tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from affectscope.models.training import datasets as ds
from affectscope.models.training.splits import random_split

FACE_SOURCES = ("sharp-half", "train")


def fer_halves(test_sample: Sequence[ds.Sample]) -> tuple[list[ds.Sample], list[ds.Sample]]:
    """(even-indexed, odd-indexed) halves of the FER-2013 test sample: face heads learn from the
    first; every face test (recipes, ``packaging/model_table.py``) reads the second."""
    return list(test_sample[0::2]), list(test_sample[1::2])


@dataclass
class FaceSets:
    """Train, validation and test faces, and the model card's words for where they came from."""

    source: str
    train: list[ds.Sample]
    val: list[ds.Sample]
    test: list[ds.Sample]
    per_class: int

    def card(self) -> dict[str, str]:
        """``data`` (training data), ``split`` and ``test`` (the face test's name) for the card."""
        counts = f"85/15 random split ({len(self.train)} train, {len(self.val)} validation)"
        if self.source == "train":
            return {
                "data": f"FER-2013 train (research use; images not shipped), {self.per_class} per class, "
                + counts,
                "split": "FER-2013 train random 85/15, test_sample test",
                "test": "FER-2013 test sample (every 7th test image)",
            }
        return {
            "data": f"FER-2013 test_sample, even-indexed half (sharp; research use, images not shipped), "
            f"{counts}; the odd-indexed half ({len(self.test)}) is the face test. The shared FER-2013 "
            "train images are blurred and mini-Xception, whose probabilities every face input is built "
            "from, is near chance on them",
            "split": "FER-2013 test_sample even half 85/15, odd half test",
            "test": "FER-2013 test sample, odd-indexed half (never trained on)",
        }


def face_sets(fer_root: Path, source: str = "sharp-half", per_class: int = 400, seed: int = 0) -> FaceSets:
    """The faces of ``source`` (``FACE_SOURCES``) under ``fer_root`` (the Kaggle layout)."""
    if source not in FACE_SOURCES:
        raise ds.ManifestError(f"faces must be one of {', '.join(FACE_SOURCES)}, not {source!r}")
    sample = ds.fer(fer_root / "test_sample")
    if source == "train":
        fit, test = ds.fer(fer_root / "train", per_class=per_class, seed=seed), sample
    else:
        fit, test = fer_halves(sample)
    return FaceSets(source, *random_split(fit, 0.15, seed), test, per_class)
