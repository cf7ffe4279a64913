"""``affectscope batch extract|predict|evaluate``: every clip of a project (or a folder/manifest) at once.

A thin face over ``app.services.batch``: a tqdm progress bar on stderr, a summary on stdout (one
JSON document with ``--json``; its keys are a contract, see docs/cli.md). ``--engine dask`` runs on
Dask distributed: a local cluster of ``--workers`` processes, or the scheduler at ``--address``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from affectscope import strict_json
from affectscope.errors import UserFacingError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "batch",
        help="extract, predict or evaluate every clip of a project, folder or manifest (Dask for many)",
        description="Run perception or a model over a whole corpus; resumable, goes on past bad files.",
    )
    p.add_argument("command", choices=("extract", "predict", "evaluate"), help="what to do with each clip")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--project", type=Path, help="project folder: its clips; results go into its database")
    where.add_argument("--folder", type=Path, help="a folder of videos (no database: results in the summary)")
    where.add_argument("--manifest", type=Path, help="CSV of path,label (evaluate without a project)")
    p.add_argument("--model", default=None, help="model name for predict/evaluate (lightweight-streaming)")
    p.add_argument("--weights", default=None, help="weights .safetensors overriding the shipped ones")
    p.add_argument("--allow-untrained", action="store_true", help="run a model without weights (testing)")
    p.add_argument("--modalities", default=None, help="extract: comma-separated subset (default all)")
    p.add_argument("--rate", type=float, default=10.0, metavar="HZ", help="frames analysed per second (10)")
    p.add_argument("--engine", choices=("local", "dask"), default="local", help="local (one process) or dask")
    p.add_argument("--address", default=None, help="Dask scheduler address (tcp://host:8786) to join")
    p.add_argument("--workers", type=int, default=2, help="worker processes of a local Dask cluster (2)")
    p.add_argument("--redo", action="store_true", help="redo clips already done (default: skip them)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    p.set_defaults(handler=run_batch_cmd)


def run_batch_cmd(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from affectscope.app.services.batch import DEFAULT_MODEL, BatchSettings, plan_items, run_batch
    from affectscope.jobs import Cancelled, Job

    if args.command == "extract" and args.model:
        raise UserFacingError("--model is for predict and evaluate; extract runs the perception extractors")
    if args.address and args.engine != "dask":
        args.engine = "dask"  # an address means a Dask scheduler
    modalities: tuple[str, ...] = ()
    if args.modalities:
        from affectscope.app.cli.extract import parse_modalities

        modalities = parse_modalities(args.modalities)
    model = args.model or DEFAULT_MODEL
    project = None
    if args.project:
        from affectscope.app.services.project import Project

        project = Project.open(args.project)
    try:
        label_set = None
        if args.command != "extract":
            from affectscope.models.registry import get

            try:
                label_set = get(model).label_set
            except KeyError as exc:
                raise UserFacingError(str(exc.args[0]) + " (see: affectscope models)") from None
        items = plan_items(project, args.folder, args.manifest, label_set)
        settings = BatchSettings(
            command=args.command,
            model=model,
            weights=args.weights,
            allow_untrained=args.allow_untrained,
            rate_hz=args.rate,
            modalities=modalities,
            engine=args.engine,
            address=args.address,
            workers=args.workers,
            cache_dir=str(project.folder) if project is not None else None,
        )
        bar = tqdm(total=len(items), unit="clip", file=sys.stderr, disable=None, dynamic_ncols=True)

        def on_progress(done: int, total: int, message: str) -> None:
            bar.update(done - bar.n)
            bar.set_postfix_str(message[-50:], refresh=False)

        try:
            summary = run_batch(items, settings, project, Job(on_progress=on_progress), resume=not args.redo)
        except Cancelled:
            return 130
        finally:
            bar.close()
    finally:
        if project is not None:
            project.close()
    if args.json:
        strict_json.dump(summary, sys.stdout, default=float)
        sys.stdout.write("\n")
        return 0
    _print(summary)
    return 0


def _print(s: dict) -> None:
    rate = f", {s['clips_per_minute']} clips/min" if s.get("clips_per_minute") else ""
    print(
        f"batch {s['command']} on {s['engine']} ({s['workers']} workers): {s['clips']} clips, "
        f"{s['done']} done, {s['skipped']} skipped (already done), {s['failed']} failed "
        f"in {s['seconds']} s{rate}"
    )
    for f in s["failures"]:
        print(f"  failed: {f['clip']}: {f['error']}")
    if "metrics" in s:
        from affectscope.analysis.metrics import format_report

        print(format_report(s["metrics"]))
