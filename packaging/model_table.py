"""Regenerate the decision-rule table in docs/models.md from the shipped weights (and their cards).

A validation table, not a test (issue 19): RAVDESS actors 1-20 never trained the shipped weights, but
their results chose the shipped rules (speech windows, vote weights, the averaged EWMA), and this table
compares decision rules on them. Held-out figures: ``packaging/honest_cards.py``.
For every registered model with shipped weights: speech models on RAVDESS actors 1-20, with the
broad 3-class mapping and the seed 004 paper protocol, clip decisions both as the model makes them
(seed 004: its EWMA timeline, averaged) and as the mean over windows; face models on the odd-indexed
half of the FER-2013 test sample, which no face head learnt from (3 classes; the mini-Xception's 7 classes
marginalised onto 3 as the reference). UAR with bootstrap 95 % CIs, per-class recall, and the
collapse guard. Writes between ``<!-- model-table:start -->`` and ``<!-- model-table:end -->``.
Usage: python packaging/model_table.py [--data DIR] [--models a,b] [--limit N] [--check]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

from affectscope import strict_json

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "models.md"
START, END = "<!-- model-table:start -->", "<!-- model-table:end -->"


def _fmt(rep: dict) -> str:
    lo, hi = rep["ci"]["uar"]
    rec = " / ".join(f"{v['recall']:.2f}" for v in rep["per_class"].values())
    flag = " **collapsed**" if rep["collapsed"] else ""
    return (
        f"{rep['uar']:.3f} [{lo:.3f}, {hi:.3f}] | {rep['accuracy']:.3f} | {rep['macro_f1']:.3f} | {rec}{flag}"
    )


def system_rows(name: str, samples: list, test: str, job=None) -> list[tuple[str, str, dict]]:  # noqa: ANN001
    from affectscope.analysis.metrics import classification_report
    from affectscope.models.evaluation import _decode_all, to_label_set
    from affectscope.models.inference import analyse_many, clip_decision, load_model
    from affectscope.models.registry import LABEL_SETS
    from affectscope.models.training.protocols import paper_004

    spec, model = load_model(name)
    target = LABEL_SETS["sentiment3"]
    # One network pass; the four clip decisions: the model's own / the mean, speech-gated / every window.
    got: dict[tuple[str, str], list] = {(d, g): [] for d in ("model", "mean") for g in ("gated", "all")}
    for c0 in range(0, len(samples), 256):
        chunk = samples[c0 : c0 + 256]
        sigs = _decode_all([s.path for s in chunk], tuple(spec.modalities), 2, _Job())
        for f, clip, weights in analyse_many(spec, model, sigs, batch_size=64, return_weights=True):
            for key, p in (
                (("model", "gated"), clip),
                (("model", "all"), clip_decision(model, f)[0]),
                (("mean", "gated"), clip_decision(None, f, weights)[0]),
                (("mean", "all"), f.mean(0)),
            ):
                got[key].append(to_label_set(p[None], spec.labels, target, "sentiment3")[0])
    y = np.array([s.label for s in samples])
    rows = []
    idx = {s.path: i for i, s in enumerate(samples)}
    paper = np.array([idx[s.path] for s in paper_004(samples)], dtype=int) if "RAVDESS" in test else None
    gates = ("gated", "all") if "RAVDESS" in test else ("gated",)  # one window per face image
    for (decision, g), plist in got.items():
        if g not in gates or (decision == "model" and getattr(model, "ewma_alpha", None) is None):
            continue  # the model's own decision is the mean: one row is enough
        probs = np.array(plist)
        what = (
            f"{decision}, {'speech-gated' if g == 'gated' else 'every window'}"
            if len(gates) > 1
            else decision
        )
        rows.append((f"{test}, broad, {what}", name, classification_report(y, probs.argmax(1), target)))
        if paper is not None and len(paper):
            rep = classification_report(y[paper], probs[paper].argmax(1), target)
            rows.append((f"{test}, paper protocol, {what}", name, rep))
    return rows


class _Job:
    def check(self) -> None: ...
    def progress(self, *a: object) -> None: ...


def image_rows(name: str, samples: list) -> list[tuple[str, str, dict]]:
    from affectscope.analysis.metrics import classification_report
    from affectscope.models.evaluation import _classifier_probs, _face64, to_label_set
    from affectscope.models.inference import load_model
    from affectscope.models.registry import LABEL_SETS

    spec, model = load_model(name)
    target = LABEL_SETS["sentiment3"]
    x = torch.cat([_face64(s.path) for s in samples])
    probs = to_label_set(_classifier_probs(model, x), spec.labels, target, "sentiment3")
    y = np.array([s.label for s in samples])
    note = " (7 classes marginalised onto 3)" if len(spec.labels) != 3 else ""
    report = classification_report(y, probs.argmax(1), target)
    return [(f"FER-2013 test sample, held-out half{note}", name, report)]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument(
        "--data", default=os.environ.get("AFFECTSCOPE_SHARED_DATA", str(REPO.parent / "shared" / "data"))
    )
    p.add_argument("--models", help="comma-separated model names (default: all with shipped weights)")
    p.add_argument("--limit", type=int, help="every k-th file so that about N remain (a quick look)")
    p.add_argument("--json", help="also write the reports to this JSON file")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("AFFECTSCOPE_THREADS", "1")))
    from affectscope.models.registry import all_specs, get
    from affectscope.models.systems.base import EmotionSystem
    from affectscope.models.training import datasets as ds
    from affectscope.models.training.face_sets import fer_halves

    data = Path(args.data)
    rav = ds.ravdess(data / "ravdess_speech", actors=set(range(1, 21)))
    fer = fer_halves(ds.fer(data / "fer2013" / "test_sample"))[1]  # the half no face head learnt from
    if args.limit:
        rav, fer = rav[:: max(1, len(rav) // args.limit)], fer[:: max(1, len(fer) // args.limit)]
    names = (
        args.models.split(",")
        if args.models
        else [s.name for s in all_specs() if s.weights_path() and s.weights_path().exists()]
    )
    rows: list[tuple[str, str, dict]] = []
    for name in names:
        spec = get(name)
        print(f"evaluating {name} …", file=sys.stderr)
        model = spec.build()
        if not isinstance(model, EmotionSystem):
            rows += image_rows(name, fer)
            continue
        mods = set(spec.modalities)
        if mods & {"audio", "speech"}:
            rows += system_rows(name, rav, "RAVDESS 1-20 speech")
        if mods & {"face", "faces", "expression", "visual"}:
            rows += system_rows(name, fer, "FER-2013 test sample, held-out half")
    lines = [
        START,
        f"Generated by `python packaging/model_table.py` ({'every k-th file, ' if args.limit else ''}"
        "**validation figures**: RAVDESS 1-20 chose the shipped rules, see Honest figures; "
        "3 classes; UAR with bootstrap 95 % CI; recall positive / neutral / negative; decision: the "
        "model's own clip decision or the mean over windows; speech-gated: only windows with speech vote, "
        "the product's default; every window: the earlier behaviour).",
        "",
        "| test | model | n | UAR [95 % CI] | accuracy | macro-F1 | recall pos / neu / neg |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {test} | {name} | {rep['n']} | {_fmt(rep)} |" for test, name, rep in rows]
    lines.append(END)
    text = DOC.read_text()
    block = "\n".join(lines)
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n## Cross-corpus table\n" + block + "\n"
    DOC.write_text(text)
    if args.json:
        Path(args.json).write_text(
            strict_json.dumps([{"test": t, "model": m, **r} for t, m, r in rows], indent=1)
        )
    print(block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
