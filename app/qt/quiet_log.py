"""A quiet terminal for the window: TensorFlow Lite, MediaPipe, Qt and our own warnings go to a log file.

The native libraries write to file descriptor 2 directly (absl's "W0000 …", TF's cpu_feature_guard,
Qt multimedia's missing VA-API), so redirecting Python's ``sys.stderr`` is not enough: descriptor 2
itself is pointed at the log file. Qt's own messages are routed through ``logging``. The terminal
keeps one line saying where the log is. ``AFFECTSCOPE_VERBOSE=1`` keeps everything on the terminal.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

LOG_FILE = "affectscope.log"


def log_dir() -> Path:
    env = os.environ.get("AFFECTSCOPE_LOG_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_log_dir("affectscope", appauthor=False))


def _qt_handler(mode, context, message: str) -> None:  # noqa: ANN001 - Qt's types
    from PySide6.QtCore import QtMsgType

    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }.get(mode, logging.WARNING)
    logging.getLogger("qt").log(level, "%s", message)


def quiet_terminal(announce: bool = True) -> Path | None:
    """Send warnings (native, Qt, Python) to the log file; returns its path (None when verbose)."""
    if os.environ.get("AFFECTSCOPE_VERBOSE", "").strip() not in ("", "0"):
        return None
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info lines
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's glog/absl info and warnings
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE
    if announce:
        print(f"Affectscope: warnings and messages are logged to {path}", flush=True)
    stream = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    sys.stderr.flush()
    os.dup2(stream.fileno(), 2)  # native libraries write to descriptor 2 themselves
    sys.stderr = stream
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    from PySide6.QtCore import qInstallMessageHandler

    qInstallMessageHandler(_qt_handler)
    return path
