"""``affectscope queue``, ``retrain`` and ``versions``: the relabel loop on the command line.

``queue`` lists the clips worth a second look with their scores and reasons; ``retrain`` trains a
version from a label snapshot and records its lineage; ``versions`` lists, compares, activates and
rolls back versions. JSON shapes are contracts (docs/cli.md). Heavy imports stay in the handlers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from affectscope import strict_json

ORDERS = ("uncertainty", "label-issues", "disagreement", "modality-conflict", "combined")
SCORES = ("uncertainty", "label-issues", "disagreement", "modality-conflict")


def _dump(doc: Any) -> None:
    print(strict_json.dumps(doc, indent=2, default=str))


def _job() -> Any:
    from affectscope.jobs import Job

    def show(done: int, total: int, message: str) -> None:
        print(f"\r[{done}/{total}] {message[:90]:<90}", end="", file=sys.stderr, flush=True)

    return Job(on_progress=show if sys.stderr.isatty() else None)


def register(subparsers: argparse._SubParsersAction) -> None:
    q = subparsers.add_parser("queue", help="list the clips whose labels are worth a second look")
    q.add_argument("--project", type=Path, required=True, metavar="DIR")
    q.add_argument(
        "--by", default="combined", metavar="ORDER", help=f"{' | '.join(ORDERS)} (default combined)"
    )
    q.add_argument("--limit", type=int, help="at most N clips")
    q.add_argument("--label", help="only clips whose current label is this ('-' = unlabelled)")
    q.add_argument("--annotator", help="only clips this annotator labelled")
    q.add_argument("--model-version", type=int, help="model version id (default: the active one)")
    q.add_argument("--label-set", help="label set (default: the project's)")
    q.add_argument(
        "--selection", type=int, metavar="ID", help="only the clips an evaluation sent to the queue (ID)"
    )
    q.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="SCORE=W",
        help=f"weight of a score in the combined order ({', '.join(SCORES)}); repeatable",
    )
    q.add_argument(
        "--no-reader-votes",
        action="store_true",
        help="leave reader-study answers out of the votes (annotators' labels only)",
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=cmd_queue)

    r = subparsers.add_parser("retrain", help="train a new model version from the project's labels")
    r.add_argument("--project", type=Path, required=True, metavar="DIR")
    r.add_argument(
        "--model", default="audio-logmel-linear", help="model name (default: the fast audio model)"
    )
    r.add_argument(
        "--label-source",
        default="latest",
        help="latest | majority | annotator:NAME | readers (default latest)",
    )
    r.add_argument(
        "--split", default="auto", help="auto | speaker | clip (default auto: speaker where known)"
    )
    r.add_argument("--epochs", type=int, default=30)
    r.add_argument("--label-set", help="label set (default: the project's)")
    r.add_argument("--activate", action="store_true", help="make the new version active")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=cmd_retrain)

    v = subparsers.add_parser("versions", help="list, compare, activate or roll back trained versions")
    v.add_argument("action", nargs="?", default="list", help="list | compare A B | activate ID | rollback")
    v.add_argument(
        "ids",
        nargs="*",
        help="version ids; compare also takes a model name (shipped weights, an imported model's file) or "
        "imported predictions' NAME[@VERSION]",
    )
    v.add_argument("--project", type=Path, required=True, metavar="DIR")
    v.add_argument("--label-set", help="label set (default: the project's)")
    v.add_argument(
        "--shipped",
        metavar="MODEL",
        help="list: MODEL with its shipped weights first (its id compares with a retrained version)",
    )
    v.add_argument("--json", action="store_true")
    v.set_defaults(handler=cmd_versions)


def _weights(pairs: list[str]) -> dict[str, float] | None:
    from affectscope.analysis.queue_scores import DEFAULT_WEIGHTS
    from affectscope.app.services.queue import QueueError

    if not pairs:
        return None
    out = dict(DEFAULT_WEIGHTS)
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in SCORES:
            raise QueueError(f"--weight {pair}: the score must be one of {', '.join(SCORES)}")
        try:
            out[name] = float(value)
        except ValueError:
            raise QueueError(f"--weight {pair}: give a number after '='") from None
    return out


def cmd_queue(args: argparse.Namespace) -> int:
    from affectscope.app.services.project import Project
    from affectscope.app.services.queue import build_queue, selection_clip_ids

    with Project.open(args.project) as project:
        chosen = selection_clip_ids(project, args.selection) if args.selection is not None else None
        queue = build_queue(
            project,
            args.by,
            weights=_weights(args.weight),
            label_set=args.label_set,
            label=args.label,
            annotator=args.annotator,
            model_version=args.model_version,
            limit=args.limit,
            clip_ids=chosen,
            vote_sources=("annotators",) if args.no_reader_votes else None,
        )
    if args.json:
        _dump(queue.to_json())
        return 0
    print(
        f"{len(queue.items)} of {queue.n_candidates} clips by {queue.by} "
        f"(model version {queue.model_version_id})"
    )
    for item in queue.items:
        print(
            f"{item.score:6.3f}  {Path(item.path).name:<32} {item.label or '-':<10} {'; '.join(item.reasons)}"
        )
    return 0


def cmd_retrain(args: argparse.Namespace) -> int:
    from affectscope.app.services import retrain as rt
    from affectscope.app.services.project import Project

    with Project.open(args.project) as project:
        result = rt.retrain(
            project, args.model, args.label_source, args.split, args.epochs, args.label_set, job=_job()
        )
        doc = result.to_json()
        if args.activate:
            doc["predicted_clips"] = rt.activate(project, result.model_version_id, job=_job())
        doc["active"] = bool(args.activate)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        _dump(doc)
    else:
        m = doc["metrics"]
        print(
            f"version {doc['model_version_id']}: UAR {m['uar']:.3f} on {doc['n_heldout']} held-out clips "
            f"({doc['split']['how']} split), trained on {doc['n_train']}; weights {doc['weights']}"
        )
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    from affectscope.app.services import retrain as rt
    from affectscope.app.services.project import Project

    want = {"list": 0, "compare": 2, "activate": 1, "rollback": 0}
    if args.action not in want:
        raise rt.RetrainError(
            f"unknown versions action {args.action!r}: list, compare A B, activate ID, rollback"
        )
    if len(args.ids) != want[args.action]:
        raise rt.RetrainError(f"versions {args.action} takes {want[args.action]} version id(s)")
    if args.action == "activate" and not args.ids[0].isdigit():
        raise rt.RetrainError(f"versions activate takes a version id, not {args.ids[0]!r}")
    with Project.open(args.project) as project:
        if args.action in ("compare", "activate"):
            from affectscope.app.services.prediction_io import version_id

            args.ids = [version_id(project, ref) for ref in args.ids]
        if args.action == "list":
            doc: dict[str, Any] = {"versions": rt.versions(project, args.label_set)}
            if args.shipped:
                from affectscope.app.services.shipped_version import shipped_row

                row = shipped_row(project, args.shipped, args.label_set)
                if row is None:
                    raise rt.RetrainError(
                        f"{args.shipped} ships no weights for {args.label_set or project.label_set}"
                    )
                doc["versions"].insert(0, row)
        elif args.action == "compare":
            doc = rt.compare(project, *args.ids)
        elif args.action == "activate":
            doc = {"active": args.ids[0], "predicted_clips": rt.activate(project, args.ids[0], job=_job())}
        else:
            doc = {"active": rt.rollback(project, args.label_set, job=_job())}
    if args.json:
        _dump(doc)
    elif args.action == "list":
        for v in doc["versions"]:
            mark = "*" if v["active"] else " "
            if v["shipped"]:
                print(f"{mark} {v['model_version_id']:>4} {v['name']} {v['version']} (shipped weights)")
                continue
            print(
                f"{mark} {v['model_version_id']:>4} {v['name']} {v['version']} UAR {v['uar']:.3f} "
                f"{v['label_source']} {v['n_labels']} labels {v['snapshot_at']}"
            )
    elif args.action == "compare":
        a, b, mc = doc["a"], doc["b"], doc["mcnemar"]
        print(
            f"{doc['n']} shared held-out clips: version {args.ids[0]} UAR {a['uar']:.3f} "
            f"[{a['uar_ci'][0]:.3f}, {a['uar_ci'][1]:.3f}], version {args.ids[1]} UAR {b['uar']:.3f} "
            f"[{b['uar_ci'][0]:.3f}, {b['uar_ci'][1]:.3f}]; McNemar p = {mc['p_value']:.3g}"
        )
    else:
        print(strict_json.dumps(doc))
    return 0
