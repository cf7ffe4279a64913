"""The model registry lists every built-in system, however it was first touched."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

FIRST_TOUCH = """
import affectscope.models.specs.lightweight  # registers one spec before anyone lists them
from affectscope.models import registry
names = {s.name for s in registry.all_specs()}
print(sorted(names))
assert {"lightweight-streaming", "fusical", "temporal-fusion", "skeleton-fusion",
        "crossmodal-attention", "fer-mini-xception"} <= names, names
assert "torch" not in sys.modules, "listing models must not import torch"
"""


def test_all_specs_after_one_spec_module_was_imported_directly() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import sys\n" + FIRST_TOUCH],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
