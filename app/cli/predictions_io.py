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


def run_import_predictions(args: argparse.Namespace) -> int:
    from affectscope.app.services.prediction_io import import_predictions
    from affectscope.app.services.project import Project

    with Project.open(args.project) as project:
        result = import_predictions(
            project, args.file, args.name, args.format, args.label_set, continuous=args.continuous
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
