"""``affectscope label``, ``undo``, ``redo``, ``history``, ``export labels`` and ``import labels``.

``export`` and ``import`` are sub-command groups so later exports (figures, data) can join them:
``export_group(subparsers)`` returns the group's sub-parsers. Contracts other tools call (documented
in docs/cli.md). Registration stays light: the database code is imported inside the handlers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from affectscope import strict_json

_GROUPS: dict[str, argparse._SubParsersAction] = {}


def _group(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> argparse._SubParsersAction:
    if name not in _GROUPS or name not in subparsers.choices:
        p = subparsers.add_parser(name, help=help_text)
        _GROUPS[name] = p.add_subparsers(dest=f"{name}_what", metavar="WHAT", required=True)
    return _GROUPS[name]


def export_group(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The sub-parsers of ``affectscope export`` (created on first call); other modules add to it."""
    return _group(subparsers, "export", "export labels (and more) to files")


def import_group(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    return _group(subparsers, "import", "import labels (and more) from files")


def _project_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--project", type=Path, required=True, metavar="DIR", help="project folder")
    p.add_argument("--json", action="store_true", help="print one JSON document to stdout")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "label",
        help="label a clip, or a time span of it",
        description=(
            "Append a label for CLIP (path, file name or id) to the project's history; "
            "committed when this returns."
        ),
    )
    p.add_argument("clip", help="clip path, unique file name, or clip id")
    p.add_argument("label", help="a label of the label set, e.g. positive")
    p.add_argument(
        "--span", nargs=2, type=float, metavar=("START", "END"), help="label only [START, END) seconds"
    )
    p.add_argument("--annotator", help="who labels (default: $AFFECTSCOPE_ANNOTATOR or your login name)")
    p.add_argument("--label-set", help="label set (default: the project's, e.g. sentiment3)")
    _project_args(p)
    p.set_defaults(handler=run_label)

    for name, text in (("undo", "undo your newest label still in effect"), ("redo", "redo your latest undo")):
        u = subparsers.add_parser(name, help=text)
        u.add_argument("--annotator", help="whose stack (default: $AFFECTSCOPE_ANNOTATOR or your login name)")
        _project_args(u)
        u.set_defaults(handler=run_undo if name == "undo" else run_redo)

    h = subparsers.add_parser("history", help="show the label history of a clip (or of the whole project)")
    h.add_argument("clip", nargs="?", help="clip path, file name or id (default: all clips)")
    h.add_argument("--limit", type=int, default=100)
    _project_args(h)
    h.set_defaults(handler=run_history)

    e = export_group(subparsers).add_parser(
        "labels", help="write current labels as a CSV/JSON manifest or ELAN .eaf files"
    )
    e.add_argument("--format", choices=("csv", "json", "eaf"), required=True)
    e.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="file to write (eaf: a folder, one .eaf per clip, or a .eaf file with --clip)",
    )
    e.add_argument("--label-set", help="only this label set")
    e.add_argument("--clip", help="eaf: only this clip")
    e.add_argument("--relative", action="store_true", help="csv/json: clip paths relative to the output file")
    e.add_argument("--include-model", action="store_true", help="also rows with source=model")
    _project_args(e)
    e.set_defaults(handler=run_export)

    i = import_group(subparsers).add_parser(
        "labels", help="append labels from a CSV/JSON manifest or .eaf file(s)"
    )
    i.add_argument("file", type=Path, help="manifest (.csv/.json), .eaf file, or a folder of .eaf files")
    i.add_argument("--format", choices=("csv", "json", "eaf"), help="default: from the file's suffix")
    i.add_argument("--annotator", help="for rows/tiers that name none")
    i.add_argument("--label-set", help="for rows/tiers that name none")
    _project_args(i)
    i.set_defaults(handler=run_import)


def _open(args: argparse.Namespace):  # noqa: ANN202
    from affectscope.app.services.project import Project

    project = Project.open(args.project)
    if getattr(args, "annotator", None):
        project.annotator = args.annotator
    if getattr(args, "label_set", None):
        project.choose_label_set(args.label_set)
    return project


def _change_json(change) -> dict:  # noqa: ANN001
    return {
        "label_id": change.label_id,
        "action": change.action,
        "clip_id": change.clip_id,
        "label_set": change.label_set,
        "start": change.start,
        "end": change.end,
        "old": change.old,
        "new": change.new,
        "annotator": change.annotator,
    }


def run_label(args: argparse.Namespace) -> int:
    from affectscope.app.services.commands import LabelCommand

    with _open(args) as project:
        clip = project.clip(args.clip)
        change = LabelCommand(
            project.db,
            clip.id,
            project.label_set,
            args.label,
            project.annotator,
            span=tuple(args.span) if args.span else None,
        ).do()
    doc = {**_change_json(change), "clip": clip.path}
    if args.json:
        print(strict_json.dumps(doc))
    else:
        where = f" [{change.start:.3f}, {change.end:.3f})" if change.start is not None else ""
        print(
            f"{Path(clip.path).name}{where}: {change.old or '-'} -> {change.new} ({change.label_set}, "
            f"{change.annotator}) saved"
        )
    return 0


def _run_stack(args: argparse.Namespace, undo: bool) -> int:
    from affectscope.app.services.commands import AnnotatorHistory

    with _open(args) as project:
        stack = AnnotatorHistory(project.db, project.annotator)
        change = stack.undo() if undo else stack.redo()
    word = "undo" if undo else "redo"
    if args.json:
        print(strict_json.dumps({"changed": change is not None, **(_change_json(change) if change else {})}))
    elif change is None:
        print(f"nothing to {word} for {project.annotator}")
    else:
        print(f"{word}: clip {change.clip_id} {change.old or '-'} -> {change.new or '-'}")
    return 0


def run_undo(args: argparse.Namespace) -> int:
    return _run_stack(args, undo=True)


def run_redo(args: argparse.Namespace) -> int:
    return _run_stack(args, undo=False)


def run_history(args: argparse.Namespace) -> int:
    from affectscope.app.services.commands import clip_history

    if args.limit < 1:
        from affectscope.app.cli.main import CliError

        raise CliError(f"--limit must be 1 or more, not {args.limit}")
    with _open(args) as project:
        clip_id = project.clip(args.clip).id if args.clip else None
        rows = clip_history(project.db, clip_id, limit=args.limit)
    if args.json:
        print(
            strict_json.dumps(
                [
                    {
                        "id": r.id,
                        "clip_id": r.clip_id,
                        "path": r.clip_path,
                        "label_set": r.label_set,
                        "value": r.value,
                        "previous": r.previous,
                        "start": r.start,
                        "end": r.end,
                        "annotator": r.annotator,
                        "source": r.source,
                        "action": r.action,
                        "target_id": r.target_id,
                        "undone": r.undone,
                        "created_at": r.created_at.isoformat(),
                        "edit": r.edit,
                        "replaces_id": r.replaces_id,
                    }
                    for r in rows
                ]
            )
        )
    else:
        for r in rows:
            span = f" [{r.start:.3f},{r.end:.3f})" if r.start is not None else ""
            flag = " (undone)" if r.undone else ""
            if r.edit is not None:
                flag = f" ({r.edit}s #{r.replaces_id} [{r.previous_start:.3f},{r.previous_end:.3f})){flag}"
            when = f"{r.created_at:%Y-%m-%d %H:%M:%S}"
            print(
                f"{when} {r.annotator:<12} {r.action:<4} {Path(r.clip_path).name}{span} "
                f"{r.previous or '-'} -> {r.value} [{r.source}]{flag}"
            )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from affectscope.app.services import interop

    out = args.output.expanduser().resolve()
    with _open(args) as project:
        if args.format == "eaf":
            clip = project.clip(args.clip).id if args.clip else None
            files = interop.export_eaf(project.db, out, args.label_set, clip, args.include_model)
            doc = {"format": "eaf", "path": str(out), "files": [str(f) for f in files], "rows": None}
        else:
            write = interop.export_csv if args.format == "csv" else interop.export_json
            n = write(project.db, out, args.label_set, args.relative, args.include_model)
            doc = {"format": args.format, "path": str(out), "files": [str(out)], "rows": n}
    if args.json:
        print(strict_json.dumps(doc))
    else:
        print(
            f"wrote {len(doc['files'])} file(s)"
            + (f", {doc['rows']} labels" if doc["rows"] is not None else "")
        )
    return 0


def run_import(args: argparse.Namespace) -> int:
    from affectscope.app.services import interop

    with _open(args) as project:
        report = interop.import_labels(project, args.file, args.format, args.annotator, args.label_set)
    if args.json:
        print(strict_json.dumps(report.to_json()))
    else:
        print(
            f"imported {report.imported}, already there {report.duplicates}, "
            f"skipped {len(report.skipped)}, "
            f"clips added {report.clips_added}"
        )
        for what, why in report.skipped[:20]:
            print(f"  skipped {what}: {why}")
    return 0
