"""A quiet terminal (issue 14): native (descriptor 2), Qt and Python warnings go to the log file under
the user's log folder; the terminal keeps one line saying where."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCRIPT = """
import logging, os
from affectscope.app.qt.quiet_log import quiet_terminal
path = quiet_terminal()
os.write(2, b"W0000 native warning from a C++ library\\n")
logging.getLogger("affectscope.x").warning("python warning")
from PySide6.QtCore import qWarning
qWarning("qt warning")
print("done", path)
"""


def test_warnings_go_to_the_log_file_not_the_terminal(tmp_path: Path) -> None:
    env = {**os.environ, "AFFECTSCOPE_LOG_DIR": str(tmp_path / "logs"), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("AFFECTSCOPE_VERBOSE", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=REPO, env=env, timeout=120
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    log = tmp_path / "logs" / "affectscope.log"
    assert proc.stdout.splitlines() == [
        f"Affectscope: warnings and messages are logged to {log}",
        f"done {log}",
    ]
    text = log.read_text()
    for needle in (
        "native warning from a C++ library",
        "WARNING affectscope.x: python warning",
        "qt warning",
    ):
        assert needle in text

    verbose = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=REPO,
        env={**env, "AFFECTSCOPE_VERBOSE": "1"}, timeout=120,
    )  # fmt: skip
    assert "native warning" in verbose.stderr and "done None" in verbose.stdout
