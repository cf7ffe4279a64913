"""Readers for the labelled corpora and CSV manifests, with speakers, mapped onto label sets.

Every reader returns ``Sample``s: a file, its class index in the chosen label set, its speaker
(actor) for speaker-independent splits, and its corpus. The 3-class sentiment mapping follows the
seed 004 paper and data README: positive = happy; neutral = neutral, calm, boredom; negative =
angry, sad, fearful, disgust; surprise is left out (it is neither), as the paper's authors did.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affectscope.errors import UserFacingError
from affectscope.media.files import IMAGE_EXTENSIONS
from affectscope.models.registry import LABEL_SETS

SENTIMENT3 = {
    "happy": "positive",
    "happiness": "positive",
    "joy": "positive",
    "positive": "positive",
    "neutral": "neutral",
    "calm": "neutral",
    "boredom": "neutral",
    "angry": "negative",
    "anger": "negative",
    "sad": "negative",
    "sadness": "negative",
    "fear": "negative",
    "fearful": "negative",
    "disgust": "negative",
    "negative": "negative",
}  # surprise / surprised: deliberately absent (left out)
EMOTION7 = {
    "anger": "angry",
    "happiness": "happy",
    "sadness": "sad",
    "fearful": "fear",
    "calm": "neutral",
    "boredom": "neutral",
}  # other names are already emotion7 names

EMODB_EMOTIONS = {
    "W": "angry",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
_EMODB = re.compile(r"^(\d\d)[a-z]\d\d([A-Z])[a-z]?$")
_RAVDESS = re.compile(r"^\d\d-\d\d-(\d\d)-\d\d-\d\d-\d\d-(\d\d)$")


class ManifestError(UserFacingError):
    """A manifest CSV that cannot be read or whose rows cannot be used."""


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int
    speaker: str
    corpus: str
    emotion: str = ""  # the corpus's own emotion name


def map_label(name: str, label_set: str) -> str | None:
    """A corpus emotion name in ``label_set``, or None when the set leaves it out (surprise in 3 classes)."""
    key = name.strip().lower()
    labels = LABEL_SETS[label_set]
    if key in labels:
        return key
    if label_set == "sentiment3":
        return SENTIMENT3.get(key)
    if label_set == "emotion7":
        mapped = EMOTION7.get(key, "surprise" if key == "surprised" else key)
        return mapped if mapped in labels else None
    return None


def known_speaker(path: str | Path) -> str | None:
    """The speaker a corpus's file name states (EmoDB: its first two digits, ``emodb:03``; RAVDESS:
    its last field, ``ravdess:12``), whatever the file's extension; None for other names."""
    stem = Path(path).stem
    if m := _EMODB.match(stem):
        return f"emodb:{m.group(1)}"
    if m := _RAVDESS.match(stem):
        return f"ravdess:{m.group(2)}"
    return None


def speaker_of(path: str | Path) -> str:
    """The speaker/actor of a corpus file (EmoDB, RAVDESS), else a stand-in that keeps files apart.

    FER-2013 images have no identity: each image is its own "speaker". Other files: the folder.
    """
    p = Path(path)
    known = known_speaker(p)
    if known is not None:
        return known
    if p.suffix.lower() in IMAGE_EXTENSIONS:
        return f"image:{p.stem}"
    return f"dir:{p.parent.name}"


def emodb(root: str | Path, label_set: str = "sentiment3") -> list[Sample]:
    out = []
    for f in sorted(Path(root).glob("*.wav")):
        m = _EMODB.match(f.stem)
        if not m:
            continue
        emo = EMODB_EMOTIONS[m.group(2)]
        lab = map_label(emo, label_set)
        if lab is not None:
            out.append(Sample(f, LABEL_SETS[label_set].index(lab), speaker_of(f), "emodb", emo))
    if not out:
        raise ManifestError(f"no EmoDB files (like 03a01Fa.wav) found in {root}")
    return out


def ravdess(root: str | Path, label_set: str = "sentiment3", actors: set[int] | None = None) -> list[Sample]:
    out = []
    for f in sorted(Path(root).glob("Actor_*/*")):
        m = _RAVDESS.match(f.stem)
        if not m or (actors is not None and int(m.group(2)) not in actors):
            continue
        emo = RAVDESS_EMOTIONS[m.group(1)]
        lab = map_label(emo, label_set)
        if lab is not None:
            out.append(Sample(f, LABEL_SETS[label_set].index(lab), speaker_of(f), "ravdess", emo))
    if not out:
        raise ManifestError(f"no RAVDESS files (Actor_NN/03-01-...) found in {root}")
    return out


def fer(
    root: str | Path, label_set: str = "sentiment3", per_class: int | None = None, seed: int = 0
) -> list[Sample]:
    """FER-2013 in the Kaggle layout (``<emotion>/*.jpg``); ``per_class`` balances by sentiment class."""
    by_class: dict[int, list[Sample]] = {}
    for folder in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        lab = map_label(folder.name, label_set)
        if lab is None:
            continue
        idx = LABEL_SETS[label_set].index(lab)
        for f in sorted(folder.glob("*.jpg")) + sorted(folder.glob("*.png")):
            by_class.setdefault(idx, []).append(Sample(f, idx, speaker_of(f), "fer2013", folder.name))
    if not by_class:
        raise ManifestError(f"no FER-2013 folders (angry/, happy/, ...) found in {root}")
    rng = np.random.default_rng(seed)
    out: list[Sample] = []
    for idx in sorted(by_class):
        items = by_class[idx]
        if per_class is not None and len(items) > per_class:
            items = [items[i] for i in sorted(rng.choice(len(items), per_class, replace=False))]
        out.extend(items)
    return out


def read_manifest(path: str | Path, label_set: str = "sentiment3") -> tuple[list[Sample], int]:
    """Rows ``path,label`` (header optional; relative paths from the manifest's folder).

    Returns the samples and how many rows were left out because the label set has no such class
    (e.g. surprise in 3 classes). Unknown labels or missing files raise ``ManifestError``.
    """
    mpath = Path(path)
    if not mpath.is_file():
        raise ManifestError(f"manifest not found: {mpath}")
    out: list[Sample] = []
    skipped = 0
    with mpath.open(newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or not row[0].strip() or row[0].startswith("#"):
                continue
            if lineno == 1 and row[0].strip().lower() == "path":
                continue
            if len(row) < 2:
                raise ManifestError(f"{mpath}:{lineno}: expected 'path,label', got {','.join(row)!r}")
            file = Path(row[0].strip())
            file = file if file.is_absolute() else (mpath.parent / file)
            raw = row[1].strip()
            lab = map_label(raw, label_set)
            if lab is None:
                if raw.lower() in ("surprise", "surprised"):
                    skipped += 1
                    continue
                known = ", ".join(LABEL_SETS[label_set])
                raise ManifestError(f"{mpath}:{lineno}: label {raw!r} is not in {label_set} ({known})")
            if not file.exists():
                raise ManifestError(f"{mpath}:{lineno}: file not found: {file}")
            out.append(Sample(file, LABEL_SETS[label_set].index(lab), speaker_of(file), "manifest", raw))
    if not out:
        raise ManifestError(f"{mpath} has no usable rows (expected 'path,label' lines)")
    return out, skipped
