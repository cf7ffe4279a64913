"""Score seed 003 weights trained from ``seed003_cache`` on the test sets, here, and write the card.

The accelerator never sees a test set: this runs afterwards where the shared data is, on the same
model code. Tests (the declared protocol of docs/models.md): EmoDB speakers 03 + 08 (per file,
audio only), RAVDESS actors 13–20 (cross-corpus, per file, audio only; the development actors 1–12
chose the checkpoint and are not reported as a test) and the FER-2013 test sample minus every image
whose bytes also appear in the training folder (face only). Each with UAR, 95 % bootstrap CI,
per-class recall and the collapse guard.

``python -m affectscope.models.training.seed003_report WEIGHTS TRAINING_JSON [--data DIR]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from affectscope import strict_json
from affectscope.analysis.metrics import classification_report
from affectscope.models.registry import get
from affectscope.models.training import datasets as ds
from affectscope.models.training import system_data as sd
from affectscope.models.training.card_records import card_metrics
from affectscope.models.training.seed003_accel import per_file, predict
from affectscope.models.training.seed003_cache import EMODB_TEST, content_hash
from affectscope.models.training.splits import by_speakers

RAVDESS_TEST = tuple(range(13, 21))


def fer_unseen_test(fer_root: Path) -> tuple[list[ds.Sample], int]:
    """The FER-2013 test sample without the images whose bytes are also in ``train`` (FER-2013
    repeats images across its splits); returns the kept samples and how many were dropped."""
    train_hashes = {content_hash(p) for p in (fer_root / "train").rglob("*.jpg")}
    sample = ds.fer(fer_root / "test_sample")
    kept = [s for s in sample if content_hash(s.path) not in train_hashes]
    return kept, len(sample) - len(kept)


def _report(y: np.ndarray, probs: np.ndarray, what: str) -> dict[str, Any]:
    return {"set": what, **classification_report(y, probs.argmax(1), get("crossmodal-attention").labels)}


def test_sets(model: Any, data: Path, limit: int | None = None) -> dict[str, Any]:
    """Per-file reports of ``model`` on the three test sets (``limit``: files per set, quick runs)."""

    def cut(items: list[ds.Sample]) -> list[ds.Sample]:
        return items if not limit else items[:: max(1, len(items) // limit)][:limit]

    def speech(samples: list[ds.Sample], kind: str) -> sd.Split:
        return sd.build_split(
            model,
            [lambda s=s: sd.speech_signals(s.path, False) for s in samples],
            [s.label for s in samples],
            kind,
        )

    _, emodb_test = by_speakers(ds.emodb(data / "emodb"), EMODB_TEST)
    rav = ds.ravdess(data / "ravdess_speech", actors=set(RAVDESS_TEST))
    faces, dropped = fer_unseen_test(data / "fer2013")
    emodb_test, rav, faces = cut(emodb_test), cut(rav), cut(faces)
    arrays = sd.face_arrays([s.path for s in faces])
    face_split = sd.face_split(model, faces, arrays, squeeze_static=True)
    out = {}
    for key, split, what in (
        ("emodb_test", speech(emodb_test, "emodb"), "EmoDB speakers 03, 08 (per file, audio only)"),
        (
            "ravdess_test",
            speech(rav, "ravdess"),
            "RAVDESS actors 13-20, cross-corpus (per file, audio only; never trained or chosen on)",
        ),
        (
            "fer_unseen_test",
            face_split,
            f"FER-2013 test sample minus {dropped} images also in train (face only)",
        ),
    ):
        probs = per_file(predict(model, split, "cpu", batch=32), split)
        out[key] = _report(split.file_labels, probs, what)
    return out


def goal(rav: dict[str, Any]) -> dict[str, Any]:
    """Issue 19's goal for every shipped system, on unseen speakers: met or not, with the numbers."""
    recalls = {c: v["recall"] for c, v in rav["per_class"].items()}
    return {
        "text": "UAR >= 0.45 and no class recall below 0.15 on unseen speakers (RAVDESS 13-20)",
        "met": bool(rav["uar"] >= 0.45 and min(recalls.values()) >= 0.15),
        "uar": rav["uar"],
        "uar_ci": rav.get("ci", {}).get("uar"),
        "recall": recalls,
    }


def build_card(training: dict[str, Any], tests: dict[str, Any], weights: str, code: dict[str, Any]) -> dict:
    labels = list(get("crossmodal-attention").labels)
    return {
        "model": "crossmodal-attention",
        "recipe": "seed003-accel",
        "command": "python -m affectscope.models.training.seed003_cache (pack) → on a GPU: python -m "
        "affectscope.models.training.seed003_accel cache003.npz OUT → here: python -m "
        f"affectscope.models.training.seed003_report OUT/{weights} OUT/seed003_training.json",
        "code": code,
        "code_version": f"0.1.0+g{code['commit'][:7]}",  # the code that trained, not this report's
        "labels": labels,
        "label_mapping": "positive = happy; neutral = neutral, calm, boredom; negative = angry, sad, fear, "
        "disgust; surprise left out",
        "trained_branches": ["visual", "audio"],
        "training_data": {
            "speech": "EmoDB (CC0 1.0, may ship), speakers other than 03, 08 (test) and 09 (development)",
            "faces": "FER-2013 train (the sharp originals; research use, images not shipped), 1,500 per "
            "sentiment class, 85/15 train/validation",
            "pairs": "synthetic label-matched pairs drawn afresh every step (a training speech window under "
            "a training face of the same class): no labelled audio-visual set exists here, so the "
            "cross-modal attention learnt to combine modalities that each carry the label, not real "
            "audio-visual behaviour",
        },
        "licences": "EmoDB CC0 (weights may ship); FER-2013 research use (weights trained on it ship as the "
        "project does for seed 004); RAVDESS CC BY-NC-SA read for development and testing only",
        "split": "speaker independent: EmoDB 03 + 08 and RAVDESS 13-20 test; EmoDB 09 and RAVDESS 1-12 "
        "(repetition 1) development; FER-2013 train 85/15; FER test sample (minus train duplicates) test",
        "training": training | {"data_records": None},
        "data_records": training["data_records"],
        "tests": tests,
        "metrics": card_metrics(tests, labels),
        "collapsed": {k: v["collapsed"] for k, v in tests.items()},
        "goal": goal(tests["ravdess_test"]),
        "known_limits": [
            "speech tests are audio-only and the face test face-only: the attention sees one modality at "
            "a time there; no real audio-visual labelled clips exist here",
            "the speech encoder (a 2-layer HuBERT-layout network) learnt from random weights on ~400 "
            "EmoDB files; the paper's HuBERT Base and ResNet101d are not pretrained here",
            "frames are face crops (FER-2013 faces in training), not the paper's whole frames",
        ],
    }


def main() -> None:
    from affectscope.models.weights import load_state, read_card, write_card

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights", type=Path)
    ap.add_argument("training", type=Path, help="seed003_training.json written by seed003_accel")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--commit", required=True, help="the commit whose code trained the weights")
    ap.add_argument("--rebuild", action="store_true", help="rewrite the card from its stored tests")
    a = ap.parse_args()
    torch.set_num_threads(2)
    model = load_state(get("crossmodal-attention").build(), a.weights).eval()
    training = json.loads(a.training.read_text())
    tests = read_card(a.weights)["tests"] if a.rebuild else test_sets(model, a.data)
    code = {"commit": a.commit, "dirty": False, "dirty_paths": [], "allow_dirty": False}
    write_card(a.weights, build_card(training, tests, a.weights.name, code))
    summary = {k: (v["uar"], v.get("ci", {}).get("uar"), v["collapsed"]) for k, v in tests.items()}
    print(strict_json.dumps(summary))


if __name__ == "__main__":
    main()
