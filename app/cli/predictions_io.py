"""``affectscope import predictions`` and ``affectscope export predictions`` (issue 20, item 3).

Contracts documented in docs/cli.md. Registration stays light: the services are imported in the handlers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affectscope import strict_json
from affectscope.app.cli.labels import export_group, import_group


def register(subparsers: argparse._SubParsersAction) -> None:
    i = import_group(subparsers).add_parser(
        "predictions",
        help="store a file of per-window predictions as a model version",
        description=(
            "Rows clip,start,end[,modality] then one column per label (probabilities), a 'label' column, "
            "or named continuous outputs (--continuous). Every row is checked before anything is stored; "
            "importing the same file again changes nothing."
        ),
    )
    i.add_argument("file", type=Path, help="predictions file (.csv, .json or .eaf)")
    i.add_argument("--name", required=True, help="the model name the predictions are stored under")
    i.add_argument("--format", choices=("csv", "json", "eaf"), help="default: from the file's suffix")
    i.add_argument("--label-set", help="the label set of the columns (default: the set they match)")
    i.add_argument("--continuous", action="store_true", help="the value columns are continuous outputs")
    i.add_argument(
        "--range",
        action="append",
        default=[],
        metavar="NAME=LO:HI",
        help="continuous: an output's range, drawn as its lane's extent (e.g. valence=-1:1); repeatable; "
        "overrides a '# range' line of the file",
    )
    i.add_argument("--project", type=Path, required=True, metavar="DIR", help="project folder")
    i.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    i.set_defaults(handler=run_import_predictions)

    e = export_group(subparsers).add_parser(
        "predictions", help="write a model version's predictions as CSV, JSON or ELAN tiers"
    )
    e.add_argument("--model", required=True, help="model name (newest version) or NAME@VERSION")
    e.add_argument("--format", choices=("csv", "json", "eaf"), required=True)
    e.add_argument(
        "-o", "--output", type=Path, required=True, help="file to write (eaf: a folder, or .eaf for one clip)"
    )
    e.add_argument("--project", type=Path, required=True, metavar="DIR", help="project folder")
    e.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    e.set_defaults(handler=run_export_predictions)


def parse_ranges(items: list[str]) -> dict[str, tuple[float, float]]:
    """``NAME=LO:HI`` options as {name: (lo, hi)}; a malformed one is a user error."""
    from affectscope.app.services.prediction_files import parse_range_items

    return parse_range_items(items, "--range")


def run_import_predictions(args: argparse.Namespace) -> int:
    from affectscope.app.services.prediction_io import import_predictions
    from affectscope.app.services.project import Project

    with Project.open(args.project) as project:
        result = import_predictions(
            project,
            args.file,
            args.name,
            args.format,
            args.label_set,
            continuous=args.continuous,
            ranges=parse_ranges(args.range),
        )
    if args.json:
        print(strict_json.dumps(result.to_json()))
    else:
        what = result.label_set or f"continuous {', '.join(result.columns)}"
        print(
            f"{result.name}@{result.version}: {result.rows} rows for {result.clips} clips ({what}; "
            f"lanes {', '.join(result.lanes) or 'none'}; clip decision: {result.clip_decision})"
        )
    return 0


def cmd_evaluate_continuous(args: argparse.Namespace) -> int:
    """``evaluate --project DIR --model NAME --reference REF``: CCC and r per continuous output."""
    from affectscope.app.services.continuous_eval import evaluate_continuous
    from affectscope.app.services.project import Project

    with Project.open(args.project) as project:
        report = evaluate_continuous(project, args.model, args.reference)
    if args.json:
        print(strict_json.dumps(report))
        return 0
    print(f"{report['model']} against {report['reference']} on {report['clips']} clips")
    for name, r in report["outputs"].items():
        lo, hi = r["ccc_ci"]
        print(
            f"  {name}: CCC {r['ccc']:.3f} [{lo:.3f}, {hi:.3f}]  r {r['pearson_r']:.3f}  "
            f"({r['n_windows']} windows)"
        )
    return 0


def run_export_predictions(args: argparse.Namespace) -> int:
    from affectscope.app.services.prediction_io import export_predictions
    from affectscope.app.services.project import Project

    with Project.open(args.project) as project:
        result = export_predictions(project, args.model, args.format, args.output)
    if args.json:
        print(strict_json.dumps(result.to_json()))
    else:
        print(f"{result.model}@{result.version}: {result.rows} rows, {result.clips} clips -> {args.output}")
    return 0
