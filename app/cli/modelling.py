"""``affectscope models | predict | evaluate | train``: list, run, score and train the registered models.

Registration is light: torch and the models load inside the handlers. ``--json`` prints one JSON
document on stdout; progress goes to stderr. Shapes are documented in docs/cli.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from affectscope import strict_json
from affectscope.errors import UserFacingError


class ModellingError(UserFacingError):
    """Bad arguments to a modelling command."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("models", help="list registered models, their inputs and weights")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-params", action="store_true", help="skip building models to count parameters")
    p.set_defaults(handler=cmd_models)
    # Issue 20: model files out and in (app/cli/model_files.py)
    from affectscope.app.cli.model_files import register_model_files

    register_model_files(p)

    p = subparsers.add_parser("predict", help="probabilities over time and for the whole clip")
    p.add_argument("clip", help="video clip (or audio file / face image)")
    p.add_argument("--model", default="lightweight-streaming", help="registered model name")
    p.add_argument("--weights", help="safetensors weights instead of the shipped ones")
    p.add_argument("--project", help="also store the predictions in this project (the clip must be in it)")
    p.add_argument("--hidden", action="store_true", help="include fusion-input features in --json")
    p.add_argument("--allow-untrained", action="store_true", help="run a model without weights (plumbing)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_predict)

    p = subparsers.add_parser(
        "evaluate", help="accuracy, macro-F1, per-class scores on a path,label manifest"
    )
    p.add_argument("--model", required=True)
    p.add_argument("--manifest", help="CSV of path,label rows")
    # Issue 10: score on a project's labels and store the run there (app/cli/figures.py).
    p.add_argument("--project", help="project folder: score its labelled clips and store the run")
    p.add_argument(
        "--label-source", help="with --project: current (default), majority, annotator:NAME, study:ID"
    )
    p.add_argument(
        "--reference", help="with --project: continuous reference traces (imported) to score by CCC and r"
    )
    p.add_argument("--labels", help="label set to score in (default: the model's)")
    p.add_argument("--weights", help="safetensors weights instead of the shipped ones")
    p.add_argument(
        "--protocol",
        choices=("broad", "paper"),
        default="broad",
        help="broad: every mapped file; paper: seed 004's test (happy / neutral+calm / angry+sad, "
        "fear, disgust, surprise left out, balanced per actor)",
    )
    p.add_argument(
        "--decision",
        choices=("model", "mean"),
        default="model",
        help="clip decision: the model's own (seed 004: its EWMA timeline from y0 = 0, averaged) or the mean "
        "over windows; both weigh windows by their share of speech",
    )
    p.add_argument("--workers", type=int, default=2, help="decoding threads")
    p.add_argument(
        "--no-gate",
        action="store_true",
        help="let every window vote in the clip decision (default: only windows with speech, or with "
        "another modality such as a face, vote)",
    )
    p.add_argument("--file-by-file", action="store_true", help="the old per-file path (slow; a baseline)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_evaluate)

    p = subparsers.add_parser("train", help="train a model and write safetensors weights + a model card")
    p.add_argument("name", help="registered model name")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--manifest", help="CSV of path,label rows")
    src.add_argument("--project", help="project folder: its labelled clips")
    src.add_argument(
        "--recipe",
        help="a named recipe: default-004 (shipped model), ravdess-audio-004 (research); "
        "default-000..003 (seeds 000-003 on EmoDB + FER-2013); reference-egemaps, "
        "reference-egemaps-research (egemaps-linear)",
    )
    p.add_argument("--split", choices=("speaker", "random"), default="speaker", help="validation split")
    p.add_argument("--labels", help="label set (default: the model's)")
    p.add_argument("--epochs", type=int, help="maximum epochs (early stopping may end sooner)")
    p.add_argument("--init", help="start from these weights (fine-tuning; with --recipe: the networks kept)")
    p.add_argument(
        "--parts",
        help="with --recipe default-004: retrain only these networks (comma-separated: "
        "face,audio,mouth,fusion); with --recipe default-000 or default-002: face (the face branch alone, "
        "every speech-only decision kept exactly); "
        "the others keep --init's weights and card entries",
    )
    p.add_argument(
        "--distill-face",
        action="store_true",
        help="with --recipe default-004 --parts face: distil the face CNN from the mini-Xception",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (recipes)")
    p.add_argument(
        "--seeds",
        help="with a seed 004 recipe: run it once per seed (e.g. 0,1,2), weights NAME-seedN.safetensors, "
        "and write mean ± sd of every metric to NAME.seeds.json",
    )
    p.add_argument(
        "--data", help="shared data folder for recipes (default ../shared/data or $AFFECTSCOPE_SHARED_DATA)"
    )
    p.add_argument("-o", "--output", required=True, help="weights file to write (.safetensors)")
    p.add_argument(
        "--label-source",
        help="with --project: latest | majority | annotator:NAME | readers; records a version with lineage "
        "(model audio-logmel-linear allowed; see `affectscope retrain`)",
    )
    p.add_argument(
        "--allow-dirty",
        action="store_true",
        help="train from a checkout with uncommitted changes (refused by default; the card records it)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_train)


def _progress(done: int, total: int, message: str) -> None:
    print(f"\r[{done}/{total}] {message[:100]:<100}", end="", file=sys.stderr, flush=True)


def _job() -> Any:
    from affectscope.jobs import Job

    return Job(on_progress=_progress if sys.stderr.isatty() else None)


def _dump(doc: Any) -> None:
    print(strict_json.dumps(doc, indent=2, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def cmd_models(args: argparse.Namespace) -> int:
    from affectscope.models.registry import all_specs

    rows = []
    for spec in all_specs():
        path = spec.weights_path()
        params = None
        if not args.no_params:
            model = spec.build()
            params = sum(p.numel() for p in model.parameters())
        rows.append(
            {
                "name": spec.name,
                "title": spec.title,
                "seed": spec.seed,
                "modalities": list(spec.modalities),
                "label_set": spec.label_set,
                "labels": list(spec.labels),
                "input_rates": spec.input_rates,
                "parameters": params,
                "weights": spec.weights,
                "weights_present": bool(path and path.is_file()),
                "description": spec.description,
            }
        )
    if args.json:
        _dump({"models": rows})
        return 0
    for r in rows:
        have = "weights: yes" if r["weights_present"] else "weights: none"
        n = f"{r['parameters']:,} params" if r["parameters"] is not None else ""
        print(
            f"{r['name']:<28} seed {r['seed']:<10} {','.join(r['modalities']):<22} "
            f"{r['label_set']:<11} {n:<18} {have}"
        )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from affectscope.app.services.predict import predict_clip
    from affectscope.app.services.project import Project

    if not Path(args.clip).exists():
        raise ModellingError(f"clip not found: {args.clip}")
    with Project.open(args.project) if args.project else nullcontext() as project:
        result = predict_clip(
            str(args.clip),
            args.model,
            args.weights,
            project,
            job=_job(),
            allow_untrained=args.allow_untrained,
            strict=True,  # a clip the project does not hold exits 2
        )
    analysis = result.analysis
    if project is not None and not result.stored_ok:
        print(f"{args.clip}: {result.stored}", file=sys.stderr)  # the untrained-weights policy
    if args.json:
        _dump({"clip": str(args.clip), **analysis.to_json(hidden=args.hidden), "device": result.device})
        return 0
    probs = ", ".join(f"{k} {v:.2f}" for k, v in zip(analysis.labels, analysis.clip_probs, strict=True))
    said = probs if analysis.continuous else f"{analysis.clip_label} ({probs})"
    print(f"{args.clip}: {said} by {analysis.model}, {len(analysis.times)} windows")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    if getattr(args, "project", None):
        if args.manifest:
            raise ModellingError("give --manifest or --project, not both")
        if getattr(args, "reference", None):
            from affectscope.app.cli.predictions_io import cmd_evaluate_continuous

            return cmd_evaluate_continuous(args)
        from affectscope.app.cli.figures import cmd_evaluate_project

        return cmd_evaluate_project(args)
    if not args.manifest:
        raise ModellingError("give --manifest CSV (path,label rows) or --project DIR")
    from affectscope.analysis.metrics import format_report
    from affectscope.models.evaluation import evaluate_manifest

    report = evaluate_manifest(
        args.model,
        args.manifest,
        args.labels,
        args.weights,
        job=_job(),
        protocol=args.protocol,
        decision=args.decision,
        fast=not args.file_by_file,
        workers=args.workers,
        gate=not args.no_gate,
    )
    if args.json:
        _dump(report)
        return 0
    from affectscope.models.provenance import describe

    print(f"{args.model} on {args.manifest} ({args.protocol} protocol): n={report['n']}")
    print(f"  {format_report(report)} · kappa {report['kappa']:.3f}")
    print(f"  {describe(report['contamination'])}")
    for label, row in report["per_class"].items():
        print(
            f"  {label:<10} P {row['precision']:.3f} R {row['recall']:.3f} F1 {row['f1']:.3f} "
            f"n {row['support']}"
        )
    return 0


def _shared_data(arg: str | None) -> Path:
    import os

    if arg:
        return Path(arg)
    env = os.environ.get("AFFECTSCOPE_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def _train_with_lineage(args: argparse.Namespace) -> int:
    """``train --project --label-source``: the relabel loop's retrain (lineage recorded), copied to -o."""
    import shutil

    from affectscope.app.services import retrain as rt
    from affectscope.app.services.project import Project

    split = {"speaker": "speaker", "random": "clip"}[args.split]
    _require_clean(args)
    with Project.open(args.project) as project:
        result = rt.retrain(
            project, args.name, args.label_source, split, args.epochs or 30, args.labels, job=_job()
        )
    out = Path(args.output)
    if out.suffix != result.weights.suffix:
        raise ModellingError(
            f"{args.name} writes {result.weights.suffix} weights; name the output *{result.weights.suffix}"
        )
    shutil.copyfile(result.weights, out)
    doc = result.to_json()
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        _dump({"weights": str(out), **doc})
    else:
        print(
            f"wrote {out}; version {doc['model_version_id']} UAR {doc['metrics']['uar']:.3f} "
            "(lineage recorded)"
        )
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    rc = _train(args)
    if getattr(args, "allowed_dirty", False):
        _record_allowed_dirty(args)
    return rc


def _require_clean(args: argparse.Namespace) -> None:
    """Refuse uncommitted code before training starts (after the arguments are checked): the card
    must be able to name the code that trained the weights."""
    from affectscope.models.provenance import require_clean

    args.allowed_dirty = require_clean(args.allow_dirty)["allow_dirty"]


def _record_allowed_dirty(args: argparse.Namespace) -> None:
    """Mark the written cards: trained from uncommitted code because ``--allow-dirty`` said so."""
    from affectscope.models.training.seed_runs import seed_path
    from affectscope.models.weights import read_card, write_card

    out = Path(args.output)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()] if getattr(args, "seeds", None) else []
    for weights in [seed_path(out, s) for s in seeds] or [out]:
        card = read_card(weights) if weights.exists() else None
        if card is not None:
            card["code"] = {**card.get("code", {}), "allow_dirty": True}
            write_card(weights, card)


def _parts(text: str | None) -> tuple[str, ...]:
    """``--parts a,b``: the names, blanks dropped."""
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def _train(args: argparse.Namespace) -> int:
    from affectscope.models.registry import get

    if args.project and args.label_source:
        return _train_with_lineage(args)
    try:
        get(args.name)
    except KeyError as exc:
        raise ModellingError(str(exc.args[0])) from None
    out = Path(args.output)
    if out.suffix != ".safetensors":
        raise ModellingError(f"the output must be a .safetensors file, not {out.name}")
    job = _job()
    if args.recipe and args.recipe in _system_recipes():
        from affectscope.models.training.recipes_systems import run_system_recipe

        data = _shared_data(args.data)
        if not data.is_dir():
            raise ModellingError(f"shared data folder not found: {data} (give --data DIR)")
        from affectscope.models.training.recipes_systems import RECIPES

        trains = "skeleton-fusion" if args.recipe == "seed002-paper" else RECIPES[args.recipe][0]
        if trains != args.name:  # before the work-tree check: a wrong command says so first
            raise ModellingError(f"recipe {args.recipe} trains {trains}, not {args.name}")
        opts: dict[str, Any] = {"epochs": args.epochs, "seed": args.seed}
        if args.parts or args.init:  # retrain one modality alone, keeping --init's other parts
            from affectscope.models.training.part_retrain import check

            opts["parts"] = _parts(args.parts)
            opts["base"] = Path(args.init) if args.init else None
            check(args.recipe, opts["parts"], opts["base"])  # before the work-tree check, as above
        _require_clean(args)
        try:
            card = run_system_recipe(args.recipe, args.name, out, data, job, **opts)
        except ValueError as exc:
            raise ModellingError(str(exc)) from None
        if sys.stderr.isatty():
            print(file=sys.stderr)
        if args.json:
            _dump({"weights": str(out), "card": card})
        elif "tests" in card:
            print(f"wrote {out} (+ model card)\n" + _system_card_summary(card))
        else:
            facts = strict_json.dumps({k: v for k, v in card.items() if k != "runs"})
            print(f"wrote {out} (+ model card); {facts}")
        return 0
    if args.recipe:
        from affectscope.models.training.recipes import MODEL, run_recipe

        if args.name != MODEL:
            raise ModellingError(f"recipe {args.recipe} trains {MODEL}, not {args.name}")
        data = _shared_data(args.data)
        if not data.is_dir():
            raise ModellingError(f"shared data folder not found: {data} (give --data DIR)")
        opts: dict[str, Any] = {"seed": args.seed}
        if args.epochs:
            opts["audio_epochs"] = args.epochs
        if args.recipe == "default-004":
            if args.epochs:
                opts["face_epochs"] = args.epochs
            if args.distill_face:
                opts["face_distill"] = True
            if args.parts:
                opts["parts"] = _parts(args.parts)
            if args.init:
                opts["base"] = Path(args.init)
        elif args.init:
            opts["base"] = Path(args.init)
        _require_clean(args)
        if args.seeds:
            return _train_seeds(args, out, data, job, opts)
        card = run_recipe(args.recipe, out, data, job, **opts)
    else:
        from affectscope.models.training.datasets import Sample, map_label, read_manifest, speaker_of
        from affectscope.models.training.manifest_train import train_on_samples

        label_set = args.labels or get(args.name).label_set
        project = None
        if args.manifest:
            samples, _ = read_manifest(args.manifest, label_set)
            source = f"manifest {args.manifest}"
        else:
            from affectscope.app.services.analysis_store import labelled_files
            from affectscope.app.services.project import Project
            from affectscope.models.registry import LABEL_SETS

            project = Project.open(args.project)
            files = labelled_files(project, label_set)
            samples = []
            for path, label in files:
                mapped = map_label(label, label_set)
                if mapped is not None:
                    samples.append(
                        Sample(path, LABEL_SETS[label_set].index(mapped), speaker_of(path), "project")
                    )
            if not samples:
                raise ModellingError(f"project {args.project} has no labelled clips in {label_set}")
            source = f"project {args.project}"
        _require_clean(args)
        card = train_on_samples(
            args.name,
            samples,
            out,
            args.split,
            label_set,
            epochs=args.epochs or 10,
            init_weights=args.init,
            job=job,
            source=source,
        )
        if project is not None:
            from affectscope.app.services.analysis_store import record_trained

            with project:
                card["model_version_id"] = record_trained(project, args.name, out, card)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        _dump({"weights": str(out), "card": card})
    else:
        print(f"wrote {out} (+ model card); metrics: {strict_json.dumps(card.get('metrics', {}))}")
    return 0


def _train_seeds(args: argparse.Namespace, out: Path, data: Path, job: Any, opts: dict[str, Any]) -> int:
    """``train --recipe R --seeds 0,1,2``: one run per seed, then mean ± sd of their metrics."""
    from affectscope.models.training.recipes import run_recipe
    from affectscope.models.training.seed_runs import format_seeds, seed_path, summarise_seeds

    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise ModellingError(f"--seeds takes comma-separated integers, not {args.seeds!r}") from None
    if not seeds:
        raise ModellingError("--seeds needs at least one seed")
    cards, paths = [], []
    for seed in seeds:
        paths.append(seed_path(out, seed))
        cards.append(run_recipe(args.recipe, paths[-1], data, job, **{**opts, "seed": seed}))
    summary = {"recipe": args.recipe, **summarise_seeds(seeds, cards), "weights": [str(p) for p in paths]}
    where = out.with_suffix(".seeds.json")
    where.write_text(strict_json.dumps(summary, indent=1))
    if args.json:
        _dump({"summary": str(where), **summary})
    else:
        print(f"wrote {len(paths)} weights and {where}\n" + format_seeds(summary))
    return 0


def _system_recipes() -> tuple[str, ...]:
    from affectscope.models.training.recipes_systems import PAPER_RECIPES, RECIPES
    from affectscope.models.training.reference_recipe import RECIPES as REFERENCE

    return (*RECIPES, *PAPER_RECIPES, *REFERENCE)


def _system_card_summary(card: dict[str, Any]) -> str:
    """One line per test: UAR [95 % CI], accuracy, macro-F1, and a collapse warning."""
    lines = [f"{card['model']} ({card['recipe']}): trained {', '.join(card['trained_branches'])}"]
    if card.get("untrained_branches"):
        lines.append(f"  untrained and off: {', '.join(card['untrained_branches'])}")
    for key, t in card["tests"].items():
        lo, hi = t.get("ci", {}).get("uar", [float("nan"), float("nan")])
        flag = "  COLLAPSED: " + "; ".join(t["warnings"]) if t.get("collapsed") else ""
        lines.append(
            f"  {key}: UAR {t['uar']:.3f} [{lo:.3f}, {hi:.3f}], accuracy {t['accuracy']:.3f}, "
            f"macro-F1 {t['macro_f1']:.3f} (n={t['n']}){flag}"
        )
    return "\n".join(lines)
