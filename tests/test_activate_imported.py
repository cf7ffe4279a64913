"""Activating imported predictions (issue 20): a colleague's predictions have no model behind them, so
clips they do not cover cannot be predicted. Activation then refuses with one line saying so and
changes nothing; before, it said "the weights of version N are gone (None)", which read like lost
files. Predictions that cover every clip activate with nothing to predict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.db import lineage as lineage_rows
from affectscope.db.uow import unit_of_work
from tests.queue_project import make_project


def _import(folder: Path, csv: Path, names: list[str], name: str, capsys: pytest.CaptureFixture[str]) -> int:
    csv.write_text("clip,start,end,label\n" + "".join(f"{n},,,neutral\n" for n in names))
    code = main(["import", "predictions", str(csv), "--project", str(folder), "--name", name,
                 "--label-set", "sentiment3", "--json"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    return int(json.loads(out.out)["model_version_id"])


def test_partial_imported_predictions_are_refused_clearly_and_whole_ones_activate(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, shared_data, per_class=2)
    folder, names = project.folder, sorted(Path(c.path).name for c in project.clips())
    project.close()

    partial = _import(folder, tmp_path / "half.csv", names[: len(names) // 2], "half", capsys)
    code = main(["versions", "activate", str(partial), "--project", str(folder), "--json"])
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert out.err.count("\n") == 1 and "imported predictions, not a model" in out.err
    assert f"{len(names) - len(names) // 2} clip(s) have none" in out.err and "gone" not in out.err
    with unit_of_work(project.db) as s:
        assert lineage_rows.active_version(s, "sentiment3") is None

    whole = _import(folder, tmp_path / "all.csv", names, "whole", capsys)
    assert main(["versions", "activate", str(whole), "--project", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"active": whole, "predicted_clips": 0}
    with unit_of_work(project.db) as s:
        assert lineage_rows.active_version(s, "sentiment3") == whole
