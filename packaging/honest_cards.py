"""Honest figures for the shipped weights, into their cards and docs/models.md, by one command (issue 19).

``python packaging/honest_cards.py [--data DIR] [--models a,b] [--docs-only] [--check]``

For every shipped model (weights with one of our cards) it runs the product path (``affectscope
evaluate``: speech-gated, speech-weighted clip decisions; ``models.evaluation.predict_samples``) once
over each whole set and reports, with bootstrap 95 % CIs, per-class recall and the collapse guard:

- RAVDESS actors 1–20 and, from the same predictions, actors 13–20 (the declared report set);
  never a favourable subset;
- EmoDB speakers 03 and 08 (the recipes' held-out speakers);
- the FER-2013 test sample minus every image byte-identical to a FER-2013 train image (the published
  mini-Xception, which every face input of seeds 000–002 is built from, and seed 004's face CNN
  learnt from that split) and minus the images the weights' own records hold.

Each figure carries its ``contamination`` against the card's ``data_records`` and a ``status``:
"test" only when the set overlaps nothing that trained, validated or tuned the weights, else
"validation" with the reason. The card's ``honest`` section holds them, with the status of the
recipe's own figures (``recipe_figures``: e.g. seed 004's fusion pairs are its early-stopping set).
Then docs/models.md's tables between ``<!-- honest-table:start/end -->`` and
``<!-- cards-table:start/end -->`` are rewritten from the cards, with the goals table
(``<!-- goals-table:start/end -->``: issue 19's goals against each card's figures, ``models.goals``,
also kept in the card's ``honest.goals``). ``--docs-only``: only that, measuring nothing; ``--check``:
exit 1 when the docs or a card's goals differ from the cards' figures, write nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from affectscope import strict_json
from affectscope.models.goals import assess

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "models.md"
REFERENCE = "fer-mini-xception"
LABELS = ("positive", "neutral", "negative")
PROTOCOL = (
    "declared development protocol (docs/models.md): rules and checkpoints may be chosen on RAVDESS "
    "actors 1-12 and EmoDB speaker 09; RAVDESS 13-20 and the FER-2013 test sample minus train duplicates "
    "are reported, never chosen on. Product path: affectscope evaluate (speech-gated, speech-weighted)."
)
#: the status of each recipe's own figures in the card (what chose them, read from the recipes)
RECIPE_FIGURES = {
    "lightweight-streaming": {
        "face_fer_test": "test for the face CNN, but the whole FER-2013 test sample: it holds images "
        "byte-identical to FER-2013 train images, which trained the face CNN (see the honest figures)",
        "audio_emodb_test": "test: EmoDB speakers 03 and 08 chose nothing",
        "audio_ravdess_1_20_broad": "validation: RAVDESS 1-20 chose the recipe's rules (tuning)",
        "audio_ravdess_1_20_paper": "validation: RAVDESS 1-20 chose the recipe's rules (tuning)",
        "fusion_synthetic_pairs": "validation: the fusion's own early-stopping pairs, built from the face "
        "and speech validation sets that chose the CNN checkpoints; not held out",
    },
    "systems": {
        "emodb_test": "test: EmoDB speakers 03 and 08 chose nothing",
        "ravdess_cross_corpus": "validation: RAVDESS chose the recipe's rules (tuning); seeds 001-003 "
        "report only actors 17-20 here, a subset: the whole-set figures are in the honest figures",
        "fer_test": "test for the face heads (odd half of the FER-2013 test sample), but it holds images "
        "byte-identical to FER-2013 train images, which trained the mini-Xception their input comes from",
        "pairs_test": "test on synthetic label-matched pairs (test speech under test faces), not real "
        "audio-visual clips",
    },
}
#: seed 003 (GPU recipe) and the eGeMAPS reference were developed on RAVDESS 1-12 + EmoDB 09 only
RECIPE_FIGURES["crossmodal-attention"] = {
    "emodb_test": "test: EmoDB speakers 03 and 08 chose nothing",
    "ravdess_test": "test: RAVDESS 13-20 chose nothing (development: actors 1-12 and EmoDB 09)",
    "fer_unseen_test": "test: FER-2013 test sample minus train duplicates; faces trained on FER-2013 train",
}
RECIPE_FIGURES["egemaps-linear"] = {
    "emodb_test": "test: EmoDB speakers 03 and 08 chose nothing",
    "ravdess_test": "test: RAVDESS 13-20 chose nothing (C was chosen on actors 1-12 and EmoDB 09)",
    "emodb_test_without_speaker_norm": "test: the same set, without per-speaker standardisation",
    "ravdess_test_without_speaker_norm": "test: the same set, without per-speaker standardisation",
}
#: seeds 000-002 retrained with ``faces="train"`` (the sharp FER-2013 train images; issue 19, item 5)
RECIPE_FER_TRAIN = (
    "test: FER-2013 test sample minus train duplicates; the face heads learnt from FER-2013 train"
)
#: a face head retrained alone (``--parts face``): the layers kept from --init learnt from the test
#: sample's even half, which the recipe's own face and pair tests hold
RECIPE_FACE_PART = {
    "fer_test": "validation: the FER-2013 test sample minus train duplicates; the new face head learnt from "
    "FER-2013 train, but the layers kept from --init learnt from the sample's even half (the honest figure "
    "leaves those images out)",
    "pairs_test": "validation: synthetic pairs whose faces include the FER-2013 test sample's even half, "
    "which trained the layers kept from --init; not real audio-visual clips",
}
RECIPE_FUSICAL = {"emodb_test": "validation: EmoDB 03+08 judged fusical's epochs and audio rate (tuning)"}


def shipped_models() -> list[str]:
    """Every registered model whose shipped weights carry one of our cards, once per weights file (in
    registry order: ``fusical`` before ``fusical-best5``, which runs the same weights)."""
    from affectscope.models.registry import all_specs
    from affectscope.models.weights import card_path

    seen, out = set(), []
    for spec in all_specs():
        path = spec.weights_path() if spec.weights else None
        if path is None or not path.exists() or not card_path(path).exists() or path in seen:
            continue
        seen.add(path)
        out.append(spec.name)
    return out


def _sets(data: Path) -> dict[str, tuple[str, list[Any]]]:
    """The evaluation sets (name -> (description, samples)); FER train duplicates already removed."""
    from affectscope.models.training import datasets as ds
    from affectscope.models.training.face_sets import without_train_twins

    rav = ds.ravdess(data / "ravdess_speech", actors=set(range(1, 21)))
    emodb = [s for s in ds.emodb(data / "emodb") if s.speaker in ("emodb:03", "emodb:08")]
    sample = ds.fer(data / "fer2013" / "test_sample")
    fer = without_train_twins(sample, data / "fer2013" / "train")
    return {
        "ravdess_1_20": ("RAVDESS actors 1-20, broad mapping (speech)", rav),
        "emodb_03_08": ("EmoDB speakers 03 and 08 (speech)", emodb),
        "fer_test": (
            f"FER-2013 test sample minus {len(sample) - len(fer)} train duplicates (faces)",
            fer,
        ),
    }


def _report(samples: list[Any], probs: np.ndarray) -> dict[str, Any]:
    from affectscope.analysis.metrics import classification_report

    rep = classification_report([s.label for s in samples], probs.argmax(1), LABELS)
    keep = ("n", "uar", "accuracy", "macro_f1", "ci", "collapsed", "warnings")
    return {
        **{k: rep[k] for k in keep},
        "per_class_recall": {c: rep["per_class"][c]["recall"] for c in LABELS},
    }


def _figure(name: str, what: str, samples: list[Any], probs: np.ndarray, records: Any) -> dict[str, Any]:
    from affectscope.models.provenance import ROLES, contamination, is_contaminated

    c = contamination(records, [s.path for s in samples], [s.speaker for s in samples])
    if c is None:
        status = "unknown: the weights carry no records"
    elif is_contaminated(c):
        roles = sorted({r for r in ROLES if c[r]} | {r for v in c["speaker_roles"].values() for r in v})
        status = "validation: the set overlaps the weights' " + ", ".join(roles) + " data"
    else:
        status = "test"
    return {"set": name, "what": what, **_report(samples, probs), "contamination": c, "status": status}


def measure(name: str, data: Path, sets: dict[str, tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """The product path's figures for one shipped model on every set it can read."""
    from affectscope.jobs import Job
    from affectscope.models.evaluation import predict_samples
    from affectscope.models.inference import load_model
    from affectscope.models.provenance import item_hash, records_of
    from affectscope.models.weights import read_card

    spec, model = load_model(name)
    card = read_card(spec.weights_path()) if spec.weights else None
    records = records_of(card)
    own = set()
    if records:
        own = set(records["train"]["items"]) | set(records["validation"]["items"])
    out = []
    speech = "audio" in spec.modalities
    faces = any(m in spec.modalities for m in ("face", "visual")) or name == REFERENCE
    for key, (what, samples) in sets.items():
        if (key == "fer_test" and not faces) or (key != "fer_test" and not speech):
            continue
        if key == "fer_test" and own:  # what the weights learnt from is never a face test
            dropped = [s for s in samples if item_hash(s.path) in own]
            samples = [s for s in samples if item_hash(s.path) not in own]
            what += f", minus {len(dropped)} the weights trained or validated on" if dropped else ""
        probs = predict_samples(spec, model, samples, "sentiment3", Job())
        if key == "ravdess_1_20":
            out.append(_figure(key, what, samples, probs, records))
            sub = np.array([int(s.speaker.split(":")[1]) >= 13 for s in samples])
            part = [s for s, k in zip(samples, sub, strict=True) if k]
            out.append(
                _figure(
                    "ravdess_13_20", "RAVDESS actors 13-20, broad mapping (speech)", part, probs[sub], records
                )
            )
        else:
            out.append(_figure(key, what, samples, probs, records))
    return out


def write_honest(name: str, figures: list[dict[str, Any]]) -> None:
    from affectscope.models.provenance import code_state
    from affectscope.models.registry import get
    from affectscope.models.weights import card_path, read_card

    path = get(name).weights_path()
    card = read_card(path)
    recipe = dict(RECIPE_FIGURES.get(name, RECIPE_FIGURES["systems"]))
    if name == "fusical":
        recipe.update(RECIPE_FUSICAL)
    if card.get("face_source") == "train" and "fer_test" in recipe:
        recipe["fer_test"] = RECIPE_FER_TRAIN
    if card.get("retrained_parts") == ["face"] and card.get("init"):
        recipe.update(RECIPE_FACE_PART)
    card["honest"] = {
        "protocol": PROTOCOL,
        "command": "python packaging/honest_cards.py",
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code_state(),
        "weights_sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        "figures": figures,
        "recipe_figures": recipe,
        "goals": assess(name, figures),
    }
    card_path(path).write_text(strict_json.dumps(card, indent=2) + "\n")


def stale_goals(write: bool) -> list[str]:
    """The shipped cards whose ``honest.goals`` differ from what their figures say (``models.goals``);
    with ``write``, they are rewritten (derived data: no figure is measured again)."""
    from affectscope.models.registry import get
    from affectscope.models.weights import card_path, read_card

    stale = []
    for name in shipped_models():
        path = get(name).weights_path()
        card = read_card(path)
        honest = (card or {}).get("honest")
        if not honest or honest.get("goals") == assess(name, honest["figures"]):
            continue
        stale.append(name)
        if write:
            honest["goals"] = assess(name, honest["figures"])
            card_path(path).write_text(strict_json.dumps(card, indent=2) + "\n")
    return stale


# ---- docs --------------------------------------------------------------------------------------------


def _ci(f: dict[str, Any], key: str) -> str:
    lo, hi = f["ci"][key]
    return f"{f[key]:.3f} [{lo:.2f}, {hi:.2f}]"


def honest_rows() -> list[str]:
    """The honest table, from the cards (and the reference's figures kept in a JSON beside the docs)."""
    from affectscope.models.registry import get
    from affectscope.models.weights import read_card

    out = [
        "| system | set | n | UAR [95 % CI] | accuracy [CI] | macro-F1 [CI] | recall pos / neu / neg "
        "| collapse | status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in shipped_models():
        card = read_card(get(name).weights_path())
        if "honest" not in card:
            out.append(
                f"| {name} | — | | not measured yet: run `python packaging/honest_cards.py` | | | | | |"
            )
            continue
        for f in card["honest"]["figures"]:
            out.append(_row(name, f))
    ref = _reference_file()
    if ref.exists():
        for f in strict_json.loads(ref.read_text())["figures"]:
            out.append(_row(REFERENCE, f))
    return out


def _row(name: str, f: dict[str, Any]) -> str:
    rec = " / ".join(f"{f['per_class_recall'][c]:.2f}" for c in LABELS)
    flag = "**yes**" if f["collapsed"] else "no"
    status = f["status"] if f["status"].startswith("test") else f"**{f['status']}**"
    return (
        f"| {name} | {f['what']} | {f['n']} | {_ci(f, 'uar')} | {_ci(f, 'accuracy')} | "
        f"{_ci(f, 'macro_f1')} | {rec} | {flag} | {status} |"
    )


def _reference_file() -> Path:
    return REPO / "docs" / "reference_mini_xception.json"


def _replace(text: str, start: str, end: str, lines: list[str]) -> str:
    if start not in text or end not in text:
        raise SystemExit(f"docs/models.md lacks the markers {start} ... {end}")
    head, rest = text.split(start, 1)
    _old, tail = rest.split(end, 1)
    return head + start + "\n" + "\n".join(lines) + "\n" + end + tail


def goal_rows() -> list[str]:
    """The goals table: each shipped system's issue 19 goals against its honest figures."""
    from affectscope.models.registry import get
    from affectscope.models.weights import read_card

    out = [
        "| system | goal | set (n) | UAR | lowest recall | status of the data | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in shipped_models():
        honest = (read_card(get(name).weights_path()) or {}).get("honest") or {}
        for g in assess(name, honest.get("figures", [])):
            met = {True: "yes", False: "**no**", None: "cannot be measured here"}[g["met"]]
            where = f"{g['set']} ({g['n']})" if g.get("n") else "—"
            uar = f"{g['uar']:.3f}" if g["uar"] is not None else "—"
            low = f"{g['lowest_recall']:.2f}" if g["lowest_recall"] is not None else "—"
            out.append(f"| {name} | {g['goal']} | {where} | {uar} | {low} | {g['status']} | {met} |")
    return out


def render_docs(text: str) -> str:
    """docs/models.md with the generated tables rewritten from the cards."""
    from affectscope.models.training.cards_table import rows

    text = _replace(text, "<!-- honest-table:start -->", "<!-- honest-table:end -->", honest_rows())
    text = _replace(text, "<!-- goals-table:start -->", "<!-- goals-table:end -->", goal_rows())
    return _replace(text, "<!-- cards-table:start -->", "<!-- cards-table:end -->", rows())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("AFFECTSCOPE_SHARED_DATA", str(REPO.parent / "shared" / "data"))
    p.add_argument("--data", default=default)
    p.add_argument("--models", help="comma-separated subset (default: every shipped system + the reference)")
    p.add_argument(
        "--docs-only",
        action="store_true",
        help="rewrite the docs tables and the cards' goals, measuring nothing",
    )
    p.add_argument("--check", action="store_true", help="exit 1 when docs/models.md differs from the cards")
    args = p.parse_args(argv)
    if args.check:
        same = render_docs(DOC.read_text()) == DOC.read_text()
        print("docs/models.md matches the cards" if same else "docs/models.md differs from the cards")
        stale = stale_goals(write=False)
        if stale:
            print(f"cards whose goals differ from their figures: {', '.join(stale)}")
        return 0 if same and not stale else 1
    if not args.docs_only:
        from affectscope.models.registry import get

        data = Path(args.data)
        names = args.models.split(",") if args.models else [*shipped_models(), REFERENCE]
        sets = _sets(data)
        for name in names:
            spec = get(name)
            if not spec.weights or not spec.weights_path().exists():
                print(f"{name}: no shipped weights", file=sys.stderr)
                continue
            figures = measure(name, data, sets)
            if name == REFERENCE:  # published weights: no card of ours to write into
                for f in figures:
                    f["status"] = "test: published weights trained on FER-2013 train (duplicates removed)"
                _reference_file().write_text(strict_json.dumps({"model": name, "figures": figures}, indent=1))
            else:
                write_honest(name, figures)
            for f in figures:
                print(f"{name} {f['set']}: n {f['n']} UAR {f['uar']:.3f} {f['ci']['uar']} {f['status']}")
    stale_goals(write=True)
    DOC.write_text(render_docs(DOC.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
