"""STYLE.md §1: the domain never imports Qt, and models/ and db/ do not know each other."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

QT_FREE = ["affectscope.media", "affectscope.db", "affectscope.models", "affectscope.jobs"]

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


def test_import_linter_contracts() -> None:
    """import-linter: only affectscope.app.qt imports Qt; models and db are independent."""
    exe = [sys.executable, "-m", "importlinter.cli", "--config", str(REPO / "pyproject.toml")]
    proc = subprocess.run(exe, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
