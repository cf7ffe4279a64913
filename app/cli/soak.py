"""``affectscope soak``: drive the window offscreen with random actions and write its RSS curve.

The full soak of issue 13 (20,000 actions) is too long for CI; this command is how it is run
(tests/test_soak_gui.py is the short version). Registration stays light: Qt is imported in the handler.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from affectscope import strict_json
from affectscope.errors import UserFacingError
from affectscope.media.files import VIDEO_EXTENSIONS as VIDEO


def _clips_and_project(path: str | None, scratch: Path) -> tuple[list[Path], Path]:
    """The clips to soak on and a writable project folder holding them. Without PATH: a copy of the
    demo project's clips (labels written during the soak never touch the user's own demo)."""
    if path is None:
        from affectscope.app.services.demo import build_demo_project

        folder = build_demo_project(scratch / "demo") / "clips"
    else:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise UserFacingError(f"{folder} is not a folder of clips")
        copy = scratch / "clips"  # a copy: the soak labels and undoes at random
        copy.mkdir()
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in VIDEO and f.is_file():
                shutil.copy2(f, copy / f.name)
        folder = copy
    clips = sorted(f for f in folder.iterdir() if f.suffix.lower() in VIDEO)
    if not clips:
        raise UserFacingError(f"{folder} holds no video files ({', '.join(VIDEO)})")
    return clips, folder


def _cmd_soak(args: argparse.Namespace) -> int:
    if args.actions < 1:
        raise UserFacingError("--actions must be at least 1")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import torch

    torch.set_num_threads(args.threads)
    from affectscope.app.qt.application import ensure_app
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.qt.soak import SoakDriver
    from affectscope.app.services.settings import Settings

    out = Path(args.out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    ensure_app()
    with tempfile.TemporaryDirectory(prefix="affectscope-soak-") as tmp:
        scratch = Path(tmp)
        # Settings, caches and data of this run stay in the scratch folder, never the user's.
        for key in ("CONFIG", "CACHE", "DATA"):
            os.environ[f"AFFECTSCOPE_{key}_DIR"] = str(scratch / key.lower())
        clips, project = _clips_and_project(args.path, scratch)
        window = MainWindow(settings=Settings())
        window.perception.rate_hz = args.rate
        driver = SoakDriver(window, clips, seed=args.seed, project=project)
        started = time.monotonic()

        def progress(i: int, report) -> None:  # noqa: ANN001
            if i % max(1, args.actions // 20) == 0 or i == args.actions:
                mb, s = report.rss[-1][2] / 2**20, time.monotonic() - started
                if not args.json:
                    print(f"{i:>7} actions  {s:7.0f} s  RSS {mb:7.1f} MiB", file=sys.stderr)
                report.seconds = s
                report.write(out)  # the curve so far: a long run can be watched (and survives a kill)

        try:
            max_s = args.minutes * 60 if args.minutes else None
            report = driver.run(args.actions, args.sample_every, progress, max_seconds=max_s)
        finally:
            window.shutdown()
            window.close()
    files = report.write(out)
    summary = report.summary() | {"seed": args.seed} | {k: str(v) for k, v in files.items()}
    if args.json:
        print(strict_json.dumps(summary))
    else:
        print(
            f"{report.actions} actions in {report.seconds:.0f} s; RSS start {summary['rss_start_mb']} MiB, "
            f"end {summary['rss_end_mb']} MiB, max {summary['rss_max_mb']} MiB; "
            f"{summary['exceptions']} exceptions, {summary['thread_warnings']} thread warnings, "
            f"{summary['timeouts']} timeouts\nwrote {files['csv']}, {files['png']}"
        )
    healthy = not (report.exceptions or report.thread_warnings or report.timeouts)
    return 0 if healthy else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "soak", help="drive the window offscreen with random actions; write the RSS curve (CSV, PNG)"
    )
    p.add_argument("path", nargs="?", help="a folder of clips (copied first; default: the demo clips)")
    p.add_argument("--actions", type=int, default=20000, help="how many random actions (default 20000)")
    p.add_argument("--seed", type=int, default=0, help="the random seed (the same seed, the same actions)")
    p.add_argument("--out", required=True, help="folder for rss.csv, rss.png and messages.txt")
    p.add_argument("--sample-every", type=int, default=10, help="RSS sample every N actions (default 10)")
    p.add_argument("--rate", type=float, default=2.0, help="analysis rate in Hz for Analyse (default 2)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--minutes", type=float, help="stop after this long even if fewer actions ran")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_cmd_soak)
