"""``affectscope study create|show|add-readers|export|stats|import-crema-d|import-answers``: reader
studies.

Stable contracts (docs/cli.md). Registration stays light: services are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from affectscope import strict_json


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--project", type=Path, required=True, metavar="DIR", help="project folder")
    p.add_argument("--json", action="store_true", help="print one JSON document to stdout")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("study", help="reader studies: design, readers, statistics, exports")
    sub = p.add_subparsers(dest="study_what", metavar="WHAT", required=True)

    c = sub.add_parser("create", help="design a study: arms, cases, readers, seeded orders")
    c.add_argument("name")
    c.add_argument(
        "--arm",
        action="append",
        required=True,
        metavar="NAME:PRESENTATION[:model=VERSION]",
        help="an arm, e.g. plain:audiovisual or helped:audiovisual:model=3 (presentation: audio, video, "
        "audiovisual; VERSION: a version id, a model's name or imported predictions' NAME[@VERSION]); "
        "repeat for each arm",
    )
    c.add_argument("--clips", nargs="+", metavar="CLIP", help="cases by hand: clip paths, names or ids")
    c.add_argument("--label", help="filter: clips whose current label is this ('-' = unlabelled)")
    c.add_argument(
        "--per-label", type=int, help="stratified random sample: this many clips per current label"
    )
    c.add_argument("--seed", type=int, default=0, help="seed of the sample and of every reader's order")
    c.add_argument("--design", choices=("crossed", "split"), default="crossed")
    c.add_argument("--readers", help="comma-separated reader names")
    c.add_argument("--label-set", help="label set (default: the project's)")
    c.add_argument(
        "--allow-mismatch",
        action="store_true",
        help="keep cases that do not fit an arm (no sound for an audio arm, no prediction for an assisted "
        "arm, no reference label...); each is recorded with the study",
    )
    c.add_argument("--practice", nargs="+", metavar="CLIP", help="practice cases shown first, never scored")
    c.add_argument(
        "--break", dest="break_s", type=float, default=0.0, metavar="SECONDS",
        help="a break the reader must take between sessions of one sitting (default 0)",
    )  # fmt: skip
    c.add_argument(
        "--washout", type=float, default=0.0, metavar="DAYS",
        help="least time between a reader's arms of a crossed design, in days (default 0)",
    )  # fmt: skip
    _common(c)
    c.set_defaults(handler=run_create)

    s = sub.add_parser("show", help="list studies, or show one (arms, readers, progress)")
    s.add_argument("study", nargs="?", help="study name or id (default: all)")
    _common(s)
    s.set_defaults(handler=run_show)

    a = sub.add_parser("add-readers", help="add readers (each gets a seeded, stored order)")
    a.add_argument("study")
    a.add_argument("readers", nargs="+")
    _common(a)
    a.set_defaults(handler=run_add_readers)

    e = sub.add_parser("export", help="responses as CSV (one row each) or the iMRMC input format")
    e.add_argument("study")
    e.add_argument("--format", choices=("csv", "imrmc"), required=True)
    e.add_argument("-o", "--output", type=Path, required=True)
    _common(e)
    e.set_defaults(handler=run_export)

    t = sub.add_parser("stats", help="accuracy, UAR, agreement with CIs per arm; assisted minus unassisted")
    t.add_argument("study")
    t.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (default 2000)")
    t.add_argument("--seed", type=int, default=0)
    _common(t)
    t.set_defaults(handler=run_stats)

    i = sub.add_parser("import-crema-d", help="import CREMA-D's crowd ratings as a reference study")
    i.add_argument("folder", type=Path, help="the crema_d_ratings folder (tabulatedVotes.csv)")
    i.add_argument("--name", default="crema-d")
    _common(i)
    i.set_defaults(handler=run_import_crema)

    n = sub.add_parser(
        "import-answers",
        help="answers collected elsewhere (paper, web survey): a CSV, validated like live ones",
    )
    n.add_argument("study")
    n.add_argument(
        "file", type=Path, metavar="FILE.csv", help="columns reader, arm, case, label, confidence, time_ms"
    )
    _common(n)
    n.set_defaults(handler=run_import_answers)


def _project(args: argparse.Namespace):  # noqa: ANN202
    from affectscope.app.services.project import Project

    return Project.open(args.project)


def _print(args: argparse.Namespace, doc: object, text: str) -> None:
    print(strict_json.dumps(doc, indent=2, default=str) if args.json else text)


def parse_arm(text: str, resolve: Callable[[str], int] = int):  # noqa: ANN201
    """``NAME:PRESENTATION[:model=VERSION]``; ``resolve`` turns VERSION (an id, or a model or imported
    predictions' name, NAME@VERSION) into a model version id."""
    from affectscope.app.services.studies import ArmSpec, StudyError

    head, sep, model_ref = text.partition(":model=")
    parts = head.split(":")
    if len(parts) != 2 or (sep and not model_ref.strip()):
        raise StudyError(
            f"--arm {text!r}: write NAME:PRESENTATION[:model=VERSION], e.g. plain:audiovisual or "
            "helped:audiovisual:model=colleague; only model= may follow the presentation"
        )
    model = resolve(model_ref.strip()) if sep else None
    return ArmSpec(parts[0], parts[1], "model" if model is not None else "none", model)


def run_create(args: argparse.Namespace) -> int:
    from affectscope.app.services import studies
    from affectscope.db.records import ClipQuery

    if args.per_label is not None and args.per_label < 1:
        raise studies.StudyError("--per-label must be 1 or more")
    if not (0 <= args.break_s < float("inf")) or not (0 <= args.washout < float("inf")):
        raise studies.StudyError("--break (seconds) and --washout (days) must be 0 or more")
    with _project(args) as project:
        from affectscope.app.services.prediction_io import version_id

        arms = [parse_arm(a, lambda ref: version_id(project, ref)) for a in args.arm]
        label_set = args.label_set or project.label_set
        query = ClipQuery(label_set=label_set, label=args.label, status="ok") if args.label else None
        cases = studies.select_cases(
            project.db, label_set, refs=args.clips, query=query, per_label=args.per_label, seed=args.seed
        )
        if not cases:
            raise studies.StudyError("no clips match; import clips or loosen the selection")
        if args.practice:
            cases += studies.select_cases(project.db, label_set, refs=args.practice, practice=True)
        readers = [r for r in (args.readers or "").split(",") if r.strip()]
        sid = studies.create_study(
            project.db, args.name, label_set, arms, cases, design=args.design, seed=args.seed,
            readers=readers, allow_mismatch=args.allow_mismatch, break_s=args.break_s,
            washout_s=args.washout * 86400.0,
        )  # fmt: skip
        doc = studies.show_study(project.db, sid)
    text = f"study {doc['name']} (id {doc['id']}): {doc['n_cases']} cases, {len(doc['arms'])} arms, "
    text += f"{len(doc['readers'])} readers"
    if doc["misfits"]:
        text += f"; {len(doc['misfits'])} case(s) kept although they do not fit (--allow-mismatch, recorded)"
    _print(args, doc, text)
    if doc["design"] == "crossed" and len(doc["arms"]) > 1 and not doc["washout_s"] and not args.json:
        print(
            "note: crossed design without --washout: a reader may read a case in one arm and again in the "
            "next in one sitting; memory of the first reading carries over",
            file=sys.stderr,
        )
    return 0


def _summary_text(doc: dict) -> str:
    arms = ", ".join(f"{a['name']} ({a['presentation']}, {a['assistance']})" for a in doc["arms"])
    readers = ", ".join(f"{r['name']} {r['answered']}/{r['assigned']}" for r in doc["readers"]) or "none"
    extra = f" · {len(doc['misfits'])} misfit case(s) kept" if doc.get("misfits") else ""
    return (
        f"{doc['id']}  {doc['name']}  [{doc['design']}, seed {doc['seed']}, {doc['source']}]  "
        f"{doc['n_cases']} cases · arms: {arms} · readers: {readers} · {doc['n_responses']} responses{extra}"
    )


def run_show(args: argparse.Namespace) -> int:
    from affectscope.app.services import studies

    with _project(args) as project:
        if args.study:
            doc = studies.show_study(project.db, args.study)
            _print(args, doc, _summary_text(doc))
        else:
            docs = studies.list_studies(project.db)
            _print(args, {"studies": docs}, "\n".join(_summary_text(d) for d in docs) or "no studies")
    return 0


def run_add_readers(args: argparse.Namespace) -> int:
    from affectscope.app.services import studies

    with _project(args) as project:
        added = studies.add_readers(project.db, args.study, args.readers)
        doc = studies.show_study(project.db, args.study)
    _print(args, {"added": added, **doc}, f"added {len(added)} reader(s): {', '.join(added) or '-'}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from affectscope.app.services import study_stats

    with _project(args) as project:
        fn = study_stats.export_csv if args.format == "csv" else study_stats.export_imrmc
        n = fn(project.db, args.study, args.output)
    _print(
        args,
        {"output": str(args.output), "format": args.format, "rows": n},
        f"wrote {n} rows to {args.output}",
    )
    return 0


def _stats_text(doc: dict) -> str:
    from affectscope.app.services.study_stats import format_stat as ci

    interim = " - interim: not every answer is in" if doc.get("interim") else ""
    lines = [f"study {doc['study']} ({doc['n_resamples']} bootstrap resamples){interim}"]
    for name, a in doc["arms"].items():
        t = a["mean_time_ms"]
        lines.append(
            f"  {name:<14} {a['presentation']:<11} {a['assistance']:<5} cases {a['n_cases']} readers "
            f"{a['n_readers']} responses {a['n_responses']} · acc {ci(a['accuracy'])} · "
            f"UAR {ci(a['uar'])} · Fleiss {ci(a['fleiss_kappa'])} · alpha {ci(a['krippendorff_alpha'])}"
            + (f" · {t:.0f} ms" if t is not None else "")
        )
    for d in doc["assisted_minus_unassisted"]:
        lines.append(f"  {d['assisted']} - {d['unassisted']}: {ci(d, signed=True)} ({d['method']})")
    return "\n".join(lines)


def run_stats(args: argparse.Namespace) -> int:
    from affectscope.app.services import study_stats
    from affectscope.app.services.studies import StudyError

    if args.resamples < 0:
        raise StudyError("--resamples must be 0 or more")
    with _project(args) as project:
        doc = study_stats.study_stats(project.db, args.study, n_resamples=args.resamples, seed=args.seed)
    _print(args, doc, _stats_text(doc))
    return 0


def run_import_crema(args: argparse.Namespace) -> int:
    from affectscope.app.services import studies
    from affectscope.app.services.crema_votes import import_crema_d

    with _project(args) as project:
        sid = import_crema_d(project.db, args.folder, name=args.name)
        doc = studies.show_study(project.db, sid)
    _print(args, doc, f"imported {doc['n_responses']} votes on {doc['n_cases']} clips as study {doc['name']}")
    if not args.json:
        print("next: affectscope study stats " + doc["name"] + f" --project {args.project}", file=sys.stderr)
    return 0


def run_import_answers(args: argparse.Namespace) -> int:
    from affectscope.app.services import answer_import

    if not args.file.is_file():
        raise answer_import.StudyError(f"{args.file} is not a file; give the CSV of answers")
    with _project(args) as project:
        doc = answer_import.import_answers(project.db, args.study, args.file)
    text = f"imported {doc['imported']} answers into study {doc['study']}"
    _print(args, doc, text)
    return 0
