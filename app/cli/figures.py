"""``affectscope figure KIND --project DIR ...`` and ``affectscope figure --from SPEC.json -o OUT``; and
``affectscope evaluate --project DIR`` (a stored evaluation run), called from the evaluate command.

Registration is light: matplotlib, numpy and the models load inside the handlers. ``--json`` prints
one JSON document on stdout (shapes in docs/cli.md).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from affectscope import strict_json
from affectscope.errors import UserFacingError

KINDS = ("clip", "confusion", "per-class", "modality", "study", "reliability", "comparison", "continuous")


class FigureCliError(UserFacingError):
    """Bad arguments to ``affectscope figure``."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "figure",
        help="write a publication figure (PNG, SVG, PDF) and its spec; or redraw one from a spec",
        description="Kinds: " + ", ".join(KINDS) + ". Each figure is written with OUT.json beside it "
        "(its spec); --from SPEC.json draws it again from the project's current data.",
    )
    p.add_argument("kind", nargs="?", help="figure kind: " + ", ".join(KINDS))
    p.add_argument("--project", help="project folder (with --from: the spec must belong to it)")
    p.add_argument("--clip", help="clip path or id (clip panel, modality activation)")
    p.add_argument("--start", type=float, help="start of the time range, seconds")
    p.add_argument("--end", type=float, help="end of the time range, seconds")
    p.add_argument("--at", type=float, help="time of the frame in the clip panel (default: mid-range)")
    p.add_argument("--run", type=int, action="append", help="evaluation run id (twice for comparison)")
    p.add_argument("--study", type=int, help="reader study id")
    p.add_argument("--from", dest="from_spec", metavar="SPEC.json", help="redraw the figure a spec describes")
    p.add_argument("-o", "--output", required=True, help="OUT.png, OUT.svg or OUT.pdf")
    p.add_argument("--width-mm", type=float, help="width in mm (single column 89, double 183)")
    p.add_argument("--height-mm", type=float, help="height in mm (default: the kind's aspect)")
    p.add_argument("--dpi", type=int, default=300, help="PNG resolution (default 300)")
    p.add_argument("--counts", action="store_true", help="confusion: counts instead of row-normalised")
    p.add_argument("--title", help="a title over the figure")
    p.add_argument("--model", help="continuous: the model (or imported predictions) whose traces to draw")
    p.add_argument("--reference", help="continuous: the imported reference traces to draw them against")
    p.add_argument("--json", action="store_true", help="print output, spec and kind as JSON")
    p.set_defaults(handler=cmd_figure)


def cmd_figure(args: argparse.Namespace) -> int:
    from affectscope.app.services import figures
    from affectscope.app.services.project import Project

    if args.from_spec:
        if args.kind:
            raise FigureCliError("give either a KIND or --from SPEC.json, not both")
        result = figures.regenerate(args.from_spec, args.output, project_folder=args.project)
    else:
        if not args.kind or not args.project:
            raise FigureCliError("give a figure KIND and --project DIR (or --from SPEC.json)")
        options: dict[str, Any] = {}
        if args.counts:
            options["normalise"] = False
        if args.title:
            options["title"] = args.title
        for key in ("model", "reference"):
            if getattr(args, key, None):
                options[key] = getattr(args, key)
        with Project.open(args.project) as project:
            runs = args.run or []
            spec = figures.make_spec(
                project,
                args.kind,
                run=runs[0] if len(runs) == 1 else None,
                runs_=runs if len(runs) > 1 else None,
                clip=args.clip,
                start=args.start,
                end=args.end,
                study=args.study,
                width_mm=args.width_mm,
                height_mm=args.height_mm,
                dpi=args.dpi,
                options=options,
            )
            if args.at is not None:
                spec["frame_t"] = args.at
            result = figures.export_figure(project, spec, args.output)
    if args.json:
        print(strict_json.dumps({k: result[k] for k in ("output", "spec", "kind", "figure_id")}, indent=2))
    else:
        print(f"wrote {result['output']} ({result['kind']}); spec {result['spec']}")
    return 0


def _progress(done: int, total: int, message: str) -> None:
    print(f"\r[{done}/{total}] {message[:100]:<100}", end="", file=sys.stderr, flush=True)


def cmd_evaluate_project(args: argparse.Namespace) -> int:
    """``evaluate --project DIR --model M``: score on the project's labels and store the run."""
    from affectscope.app.services import evaluation_runs as runs
    from affectscope.app.services.project import Project
    from affectscope.jobs import Job

    with Project.open(args.project) as project:
        job = Job(on_progress=_progress if sys.stderr.isatty() else None)
        run_id = runs.evaluate_project(
            project,
            args.model,
            weights=args.weights,
            label_source=args.label_source or "current",
            label_set=args.labels,
            allow_untrained=getattr(args, "allow_untrained", False),
            job=job,
        )
        report = runs.run_report(project, run_id)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        doc = {"run_id": run_id, "project": str(project.folder), "model": args.model, **report}
        print(strict_json.dumps(doc, indent=2))
        return 0
    from affectscope.analysis.metrics import format_report

    print(
        f"run {run_id}: {args.model} on {report['n']} clips of {args.project} "
        f"({report['run']['label_source']})"
    )
    print("  " + format_report(report))
    print(f"  ECE {report['reliability']['ece']:.3f}")
    from affectscope.models.provenance import describe

    print(f"  {describe(report.get('contamination'))}")
    return 0
