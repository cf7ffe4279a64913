"""Entry point of the ``affectscope`` command.

Each command group lives in its own module of this package and exposes
``register(subparsers)``; registration must stay light (no torch, no Qt at import time), so the
heavy imports happen inside the command handlers. A handler returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from affectscope.errors import UserFacingError

# Order is the order shown in ``--help``. A module listed here must exist.
COMMAND_MODULES = [
    "gui",  # open, screenshot (and the no-argument default: the demo project)
    "media_cmds",  # probe, frame
    "project",  # project init
    "labels",  # label, export, import
    "predictions_io",  # import predictions, export predictions
    "extract",  # extract
    "modelling",  # models, predict, evaluate, train
    "figures",  # figure (evaluate --project is handled there too)
    "studies",  # study create|show|add-readers|export|stats|import-crema-d
    "relabel",  # queue, retrain, versions
    "batch",  # batch extract|predict|evaluate (Dask)
    "explain",  # explain (issue 9)
    "soak",  # soak (issue 13): random actions on the window, RSS curve
]


class CliError(UserFacingError):
    """An error with a message a person can act on; printed without a traceback, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="affectscope",
        description="See, question and correct what multimodal emotion models say about video.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:  # a command group still being written
            if exc.name != f"{__package__}.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        if args.command is None:
            # No command: the window on the demo project.
            from affectscope.app.cli.gui import run_default

            return run_default()
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except UserFacingError as exc:
        print(f"affectscope: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("affectscope: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
