"""Run the ``affectscope`` command in-process with ``--json``: it must succeed, and its JSON is returned."""

from __future__ import annotations

import json

import pytest

from affectscope.app.cli.main import main


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    """``affectscope ARGS --json``: exit 0 (else its stderr is the failure) and the parsed output."""
    code = main([*args, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)
