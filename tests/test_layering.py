"""STYLE.md §1: the domain never imports Qt, and models/ and db/ do not know each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

QT_FREE = [
    "affectscope.media",
    "affectscope.db",
    "affectscope.models",
    "affectscope.analysis",
    "affectscope.jobs",
    "affectscope.app.services",
    "affectscope.app.cli",
]

BLOCK_QT = """
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'PyQt5', 'PyQt6'):
            raise ImportError('Qt is blocked here: ' + name)
sys.meta_path.insert(0, Block())
root = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(getattr(root, '__path__', []), root.__name__ + '.'):
    if '.qt' in info.name or info.name.endswith('__main__'):
        continue
    importlib.import_module(info.name)
print('ok')
"""


@pytest.mark.parametrize("package", QT_FREE)
def test_package_imports_with_qt_blocked(package: str) -> None:
    """Every module of the Qt-free layers imports in a process where PySide6 cannot be imported."""
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_QT, package], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement in ``path`` names, at any depth (function-level too)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violations(folder: str, forbidden: tuple[str, ...], skip: str | None = None) -> list[str]:
    out = []
    for path in sorted((REPO / folder).rglob("*.py")):
        if skip and skip in path.relative_to(REPO).parts:
            continue
        for line, name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                out.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    return out


QT = ("PySide6", "pyqtgraph", "PyQt5", "PyQt6", "shiboken6")


@pytest.mark.parametrize("folder", ["media", "db", "models", "analysis", "affectscope", "app"])
def test_no_qt_import_outside_app_qt(folder: str) -> None:
    """Static check of every import statement, including imports inside functions."""
    assert _violations(folder, QT, skip="qt") == []


def test_models_and_db_do_not_know_each_other() -> None:
    assert _violations("models", ("affectscope.db",)) == []
    assert _violations("db", ("affectscope.models", "torch")) == []


def test_analysis_is_the_lowest_room() -> None:
    """analysis/ computes on plain arrays: no torch, no database, no models, no application code."""
    forbidden = ("torch", "affectscope.models", "affectscope.db", "affectscope.app", "sqlalchemy")
    assert _violations("analysis", forbidden) == []


def test_the_static_check_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself finds a function-level Qt import (so the tests above can fail)."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from PySide6.QtCore import QObject\n")
    assert _imports(bad) == [(2, "PySide6.QtCore")]
