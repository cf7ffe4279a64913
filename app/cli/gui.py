"""``affectscope`` (no command), ``affectscope open PATH`` and ``affectscope screenshot``.

Registration stays light: Qt is imported inside the handlers.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from affectscope import strict_json
from affectscope.errors import UserFacingError


class UsageError(UserFacingError):
    """Bad command-line arguments for the window commands."""


def _demo_dir() -> Path:
    try:
        from affectscope.app.services.demo import demo_project_dir
    except ImportError as exc:
        raise UserFacingError("the demo project is not available in this installation") from exc
    return Path(demo_project_dir())


def run_default() -> int:
    """The window on the demo project (what ``affectscope`` with no command does): a real, writable
    project in the user's data folder, so the README's walk (press 1 to label) works at once; its
    clips are analysed in the background on first open, so predictions and explanations show at once."""
    from affectscope.app.qt import explain_panel
    from affectscope.app.qt.application import run_app
    from affectscope.app.services.demo import demo_project

    explain_panel.AUTORUN_DEMO = True  # a new user sees predictions and explanations at once
    return run_app(demo_project())


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)[xX×](\d+)", text.strip())
    if not m or not (320 <= int(m.group(1)) <= 8000 and 240 <= int(m.group(2)) <= 8000):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a window size like 1600x1000 (320x240 .. 8000x8000)"
        )
    return int(m.group(1)), int(m.group(2))


def _cmd_open(args: argparse.Namespace) -> int:
    path = Path(args.path).expanduser()
    if not path.exists():
        raise UsageError(f"{path} does not exist: give a folder of clips or a video file")
    from affectscope.app.qt.application import run_app

    return run_app(path)


def _cmd_screenshot(args: argparse.Namespace) -> int:
    if args.reader_session is not None:
        return _reader_screenshot(args)
    if args.reader is not None or args.project is not None:
        raise UsageError("--reader and --project go with --reader-session STUDY")
    path = Path(args.path).expanduser() if args.path else _demo_dir()
    if not path.exists():
        raise UsageError(f"{path} does not exist: give a folder of clips or a video file")
    if args.at is not None and args.at < 0:
        raise UsageError("--at must be a time in seconds >= 0")
    from affectscope.app.qt.application import screenshot

    size = args.size or (1600, 1000)
    facts = screenshot(path, args.output, at=args.at, size=size, timeout=args.timeout)
    if args.json:
        print(strict_json.dumps(facts))
    else:
        print(f"wrote {facts['output']} ({facts['width']}x{facts['height']})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("open", help="open the window on a folder of clips or one clip")
    p.add_argument("path", help="a folder (its video files are listed) or a video file")
    p.set_defaults(handler=_cmd_open)

    s = subparsers.add_parser("screenshot", help="render the window offscreen to a PNG")
    s.add_argument("path", nargs="?", help="folder or clip (default: the demo project)")
    s.add_argument("-o", "--output", required=True, help="PNG file to write")
    s.add_argument("--at", type=float, default=None, metavar="SECONDS", help="show the frame at this time")
    s.add_argument(
        "--size", type=_size, default=None, metavar="WxH",
        help="window size (1600x1000; with --reader-session the screen, 1920x1080)",
    )  # fmt: skip
    s.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for loading (120)")
    s.add_argument("--json", action="store_true", help="print what was rendered as JSON")
    s.add_argument("--reader-session", metavar="STUDY", help="render a reader's session screen instead")
    s.add_argument("--reader", metavar="NAME", help="with --reader-session: whose screen")
    s.add_argument("--project", type=Path, metavar="DIR", help="with --reader-session: the project folder")
    s.set_defaults(handler=_cmd_screenshot)


def _reader_screenshot(args: argparse.Namespace) -> int:
    """The whole screen as reader NAME sees it in study STUDY (docs/studies.md); records nothing."""
    if args.reader is None or args.project is None:
        raise UsageError("--reader-session needs --reader NAME and --project DIR")
    if args.path is not None or args.at is not None:
        raise UsageError("--reader-session takes no PATH or --at: it shows the reader's next case")
    if not args.project.is_dir():
        raise UsageError(f"{args.project} is not a folder: give the project folder")
    from affectscope.app.qt.reader_shot import reader_session_screenshot

    size = args.size or (1920, 1080)  # a reader's screen, not the main window's size
    facts = reader_session_screenshot(args.project, args.reader_session, args.reader, args.output, size)
    if args.json:
        print(strict_json.dumps(facts))
    else:
        print(f"wrote {facts['output']} ({facts['width']}x{facts['height']}, {facts['page']} page)")
    return 0
