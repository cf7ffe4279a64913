"""Which FER-2013 faces the face heads of seeds 000–002 learn from and are tested on.

Every face input of those systems is built from the mini-Xception's expression probabilities.
"train" (the default) learns from ``per_class`` FER-2013 ``train`` images per sentiment class (85/15
into train and validation) and tests on the FER-2013 test sample minus every image byte-identical to
a train image (FER-2013 repeats images across its splits). The shared train images are the sharp
originals now; the copy shared before was blurred (median Laplacian variance 6.1 against 2,052 for
``test_sample``) and the mini-Xception was near chance on it (UAR 0.39 against 0.755), so heads were
then trained by "sharp-half": the even-indexed half of ``test_sample`` (85/15), tested on the
odd-indexed half, which no stage ever reads. It stays selectable to reproduce those weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from affectscope.models.provenance import item_hash
from affectscope.models.training import datasets as ds
from affectscope.models.training.splits import random_split

FACE_SOURCES = ("train", "sharp-half")


def fer_halves(test_sample: Sequence[ds.Sample]) -> tuple[list[ds.Sample], list[ds.Sample]]:
    """(even-indexed, odd-indexed) halves of the FER-2013 test sample: "sharp-half" face heads learn
    from the first and are tested on the second."""
    return list(test_sample[0::2]), list(test_sample[1::2])


def without_train_twins(test: Sequence[ds.Sample], train_root: Path) -> list[ds.Sample]:
    """``test`` minus every image byte-identical to one under ``train_root`` (any class folder)."""
    twins = {item_hash(p) for p in Path(train_root).glob("*/*") if p.is_file()}
    return [s for s in test if item_hash(s.path) not in twins]


@dataclass
class FaceSets:
    """Train, validation and test faces, and the model card's words for where they came from."""

    source: str
    train: list[ds.Sample]
    val: list[ds.Sample]
    test: list[ds.Sample]
    per_class: int
    twins_dropped: int = 0

    def card(self) -> dict[str, str]:
        """``data`` (training data), ``split`` and ``test`` (the face test's name) for the card."""
        counts = f"85/15 random split ({len(self.train)} train, {len(self.val)} validation)"
        if self.source == "train":
            return {
                "data": f"FER-2013 train, the sharp originals (research use; images not shipped), "
                f"{self.per_class} per class, " + counts,
                "split": "FER-2013 train random 85/15; test: FER-2013 test_sample minus train duplicates",
                "test": f"FER-2013 test sample minus {self.twins_dropped} images byte-identical to FER-2013 "
                "train images (never trained on)",
            }
        return {
            "data": f"FER-2013 test_sample, even-indexed half (sharp; research use, images not shipped), "
            f"{counts}; the odd-indexed half ({len(self.test)}) is the face test. The FER-2013 train "
            "images shared when these heads were trained were blurred, and mini-Xception, whose "
            "probabilities every face input is built from, was near chance on them",
            "split": "FER-2013 test_sample even half 85/15, odd half test",
            "test": "FER-2013 test sample, odd-indexed half (never trained on)",
        }

    def known_limit(self) -> str:
        """The card's word on what the face heads learnt from."""
        common = "the face input is mini-Xception's expression probabilities (trained on FER-2013 train), "
        if self.source == "train":
            return common + (
                "so the heads learnt from FER-2013 train images the mini-Xception itself was fitted on: its "
                "probabilities there are more confident than on unseen faces, and the heads inherit its "
                "confusions (neutral is its weakest class)"
            )
        return common + (
            "the face heads learnt from a few hundred sharp FER-2013 test-sample faces (the train images "
            "shared then were blurred), so they inherit mini-Xception's confusions (neutral is its weakest "
            "class)"
        )


def face_sets(fer_root: Path, source: str = "train", per_class: int = 400, seed: int = 0) -> FaceSets:
    """The faces of ``source`` (``FACE_SOURCES``) under ``fer_root`` (the Kaggle layout)."""
    if source not in FACE_SOURCES:
        raise ds.ManifestError(f"faces must be one of {', '.join(FACE_SOURCES)}, not {source!r}")
    sample = ds.fer(fer_root / "test_sample")
    if source == "train":
        fit = ds.fer(fer_root / "train", per_class=per_class, seed=seed)
        test = without_train_twins(sample, fer_root / "train")
        return FaceSets(source, *random_split(fit, 0.15, seed), test, per_class, len(sample) - len(test))
    fit, test = fer_halves(sample)
    return FaceSets(source, *random_split(fit, 0.15, seed), test, per_class)
