"""``affectscope project init`` and ``project info``: create a project from a folder of clips, and show it.

Contracts other tools call (documented in docs/cli.md). Registration stays light: SQLAlchemy, PyAV and
the project service are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from affectscope import strict_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("project", help="create or inspect a labelling project")
    sub = p.add_subparsers(dest="project_command", metavar="ACTION", required=True)

    init = sub.add_parser(
        "init",
        help="create a project from a folder of clips (again: add new clips, notice moved/changed ones)",
        description="Create (or update) the project in DIR: probe every clip under FOLDER and record it once "
        "with its content hash, duration, fps, size and audio. Running it again adds only new files, follows "
        "moved ones by content hash and flags changed and missing ones.",
    )
    init.add_argument("dir", type=Path, help="project folder (created if missing)")
    init.add_argument("--clips", type=Path, metavar="FOLDER", help="folder of clips to import (recursively)")
    init.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: SQLite file DIR/project.db); "
        "postgresql://user@host/db for a team server (password via PGPASSWORD)",
    )
    init.add_argument("--name", help="project name (default: the folder name)")
    init.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    init.set_defaults(handler=run_init)

    info = sub.add_parser("info", help="show a project's database, clips, labels and annotators")
    info.add_argument("dir", type=Path, help="project folder")
    info.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    info.set_defaults(handler=run_info)

    speakers = sub.add_parser(
        "speakers",
        help="record who speaks in each clip (a file-name pattern or a CSV), for speaker-independent splits",
        description="Give every clip of the project in DIR its speaker: --pattern, a regular expression "
        "over the file name whose first group (or group 'speaker') is the speaker (e.g. '^(\\d{4})_' for "
        "CREMA-D), or --csv, a file with 'path' (or 'file') and 'speaker' columns. EmoDB and RAVDESS "
        "names state their speaker and are recorded on import. Retrain's auto/speaker split holds whole "
        "speakers out.",
    )
    speakers.add_argument("dir", type=Path, help="project folder")
    how = speakers.add_mutually_exclusive_group(required=True)
    how.add_argument("--pattern", metavar="REGEX", help="speaker = the regex's first group in the file name")
    how.add_argument("--csv", type=Path, metavar="FILE", help="CSV with path (or file) and speaker columns")
    speakers.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    speakers.set_defaults(handler=run_speakers)


def _progress(done: int, total: int, message: str) -> None:
    if total and (done % 25 == 0 or done == total):
        print(f"\r{done}/{total} {message[:60]:<60}", end="" if done < total else "\n", file=sys.stderr)


def run_init(args: argparse.Namespace) -> int:
    from affectscope.app.services.project import Project
    from affectscope.jobs import Job

    # The explicit command is the one place a lost database may be started again, empty.
    with Project.init(args.dir, db_url=args.db, name=args.name, recreate=True) as project:
        scan = None
        if args.clips is not None:
            job = Job(on_progress=None if args.json else _progress)
            scan = project.import_clips(args.clips, job=job)
        total = project.summary()
    doc = {"project": str(project.folder), **total, "scan": scan.to_json() if scan else None}
    if args.json:
        print(strict_json.dumps(doc))
    else:
        print(f"project {project.folder} on {doc['db']}: {doc['clips']} clips")
        if scan is not None:
            print(
                f"  added {len(scan.added)}, moved {len(scan.moved)}, changed {len(scan.changed)}, "
                f"missing {len(scan.missing)}, unchanged {len(scan.unchanged)}, "
                f"failed {len(scan.failed)}"
            )
            for path, reason in scan.failed:
                print(f"  not a clip: {path}: {reason}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from affectscope.app.services.project import Project

    with Project.open(args.dir) as project:
        doc = {"project": str(project.folder), **project.summary()}
    if args.json:
        print(strict_json.dumps(doc))
    else:
        print(f"project {doc['project']} on {doc['db']}")
        print(f"  {doc['clips']} clips ({doc['missing_clips']} missing), {doc['label_rows']} label rows")
        print(f"  annotators: {', '.join(doc['annotators']) or 'none yet'}")
    return 0


def run_speakers(args: argparse.Namespace) -> int:
    from affectscope.app.services.project import Project
    from affectscope.app.services.speakers import assign_speakers

    with Project.open(args.dir) as project:
        report = assign_speakers(project, pattern=args.pattern, csv_path=args.csv)
    doc = {"project": str(Path(args.dir).resolve()), **report.to_json()}
    if args.json:
        print(strict_json.dumps(doc))
    else:
        print(
            f"{report.assigned} clips given a speaker ({len(report.speakers)} speakers), "
            f"{len(report.unmatched)} not matched, {report.changed} changed"
        )
        for path in report.unmatched[:10]:
            print(f"  no speaker: {path}")
    return 0
