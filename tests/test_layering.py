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


def _package_of(path: Path, root: Path = REPO) -> list[str]:
    """The package a file belongs to, as parts: the repository root is the ``affectscope`` package."""
    try:
        parts = list(path.resolve().relative_to(root.resolve()).parts[:-1])
    except ValueError:  # a file outside the repository (the checker's own test): a top-level module
        return ["affectscope"]
    return ["affectscope", *parts]


def _imports(path: Path, package: list[str] | None = None) -> list[tuple[int, str]]:
    """Every module an import statement in ``path`` names, at any depth (function-level too).

    Relative imports are resolved against the file's package, so ``from ..db import x`` in
    ``models/`` is seen as ``affectscope.db`` (and ``from .. import db`` as ``affectscope.db``).
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            package = package or _package_of(path)
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            if node.module:
                found.append((node.lineno, ".".join([*base, node.module])))
            else:  # ``from .. import db``: each name may be a module
                found += [(node.lineno, ".".join([*base, a.name])) for a in node.names]
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


def test_the_static_check_sees_relative_imports(tmp_path: Path) -> None:
    """``from ..db import x`` inside models/ crosses the same wall as ``from affectscope.db import x``."""
    source = "from ..db import schema\nfrom .. import db\nfrom . import faces\nfrom .faces import x\n"
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    # as if the file lived in models/extractors/
    assert _imports(probe, ["affectscope", "models", "extractors"]) == [
        (1, "affectscope.models.db"),
        (2, "affectscope.models.db"),
        (3, "affectscope.models.extractors.faces"),
        (4, "affectscope.models.extractors.faces"),
    ]
    probe.write_text("from ...db import schema\n")
    assert _imports(probe, ["affectscope", "models", "extractors"]) == [(1, "affectscope.db")]
    assert _package_of(REPO / "models" / "extractors" / "faces.py") == ["affectscope", "models", "extractors"]
