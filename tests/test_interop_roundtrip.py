"""CSV/JSON manifests and ELAN .eaf files: exact round trips between real projects on real clips."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.app.services import interop
from affectscope.app.services.commands import LabelCommand
from affectscope.app.services.project import Project
from affectscope.db import labels as label_rows
from affectscope.db.uow import unit_of_work
from tests.clipfactory import make_clip


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    make_clip(folder / "one.mp4", n_frames=50, fps=25)
    make_clip(folder / "two.mp4", n_frames=40, fps=20)
    return folder


def _labelled_project(folder: Path, clips: Path) -> Project:
    project = Project.init(folder)
    project.import_clips(clips)
    one, two = project.clip("one.mp4").id, project.clip("two.mp4").id
    for cmd in (
        LabelCommand(project.db, one, "sentiment3", "negative", "ann"),
        LabelCommand(project.db, one, "sentiment3", "neutral", "bob"),
        LabelCommand(project.db, two, "emotion7", "happy", "ann", span=(0.0, 0.4)),
        LabelCommand(project.db, two, "emotion7", "surprise", "ann", span=(1 / 3, 1.9)),  # not a ms multiple
        LabelCommand(project.db, two, "emotion7", "sad", "bob", span=(0.52, 0.61)),
        LabelCommand(project.db, one, "plutchik8", "trust", "cy", span=(0.1, 0.2)),
    ):
        cmd.do()
    undone = LabelCommand(project.db, two, "emotion7", "fear", "bob", span=(1.0, 1.5))
    undone.do()
    undone.undo()  # undone labels are not exported
    return project


def _state(project: Project) -> tuple[set, set]:
    """Current whole-clip labels per annotator and current spans, by clip file name."""
    rows = interop.current_rows(project.db)
    whole = {(Path(r.path).name, r.label_set, r.annotator, r.label) for r in rows if r.start is None}
    with unit_of_work(project.db) as s:
        spans = label_rows.current_spans(s)
        names = {c.id: Path(c.path).name for c in project.clips()}
    return whole, {
        (names[sp.clip_id], sp.label_set, sp.annotator, sp.value, sp.start, sp.end) for sp in spans
    }


def test_eaf_round_trip_is_lossless(clip_dir: Path, tmp_path: Path) -> None:
    source = _labelled_project(tmp_path / "a", clip_dir)
    files = interop.export_eaf(source.db, tmp_path / "eaf")
    assert sorted(f.name for f in files) == ["one.eaf", "two.eaf"]
    target = Project.init(tmp_path / "b")
    target.import_clips(clip_dir)
    report = interop.import_labels(target, tmp_path / "eaf")
    assert report.skipped == [] and report.imported == 6
    assert _state(target) == _state(source)
    whole, spans = _state(target)
    assert ("two.mp4", "emotion7", "ann", "surprise", 0.333, 1.9) in spans
    assert not any(sp[3] == "fear" for sp in spans)
    with unit_of_work(target.db) as s:
        assert {h.source for h in label_rows.history(s)} == {"import"}
    # Importing the same files again changes nothing.
    again = interop.import_labels(target, tmp_path / "eaf")
    assert (again.imported, again.duplicates) == (0, 6)
    # A single clip to a single .eaf file, read with pympi as ELAN would.
    import pympi

    (path,) = interop.export_eaf(source.db, tmp_path / "two.eaf", clip=source.clip("two.mp4").id)
    eaf = pympi.Elan.Eaf(str(path))
    assert sorted(eaf.get_tier_names()) == ["emotion7@ann", "emotion7@bob"]
    assert sorted(eaf.get_annotation_data_for_tier("emotion7@ann")) == [
        (0, 400, "happy"),
        (333, 1900, "surprise"),
    ]
    assert eaf.tiers["emotion7@bob"][2]["ANNOTATOR"] == "bob"


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_manifest_round_trip_and_training_columns(clip_dir: Path, tmp_path: Path, fmt: str) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copy(clip_dir / "one.mp4", clips)
    target = Project.init(tmp_path / "b")
    target.import_clips(clips)  # the target knows the folder, and one.mp4 only
    shutil.copy(clip_dir / "two.mp4", clips)
    shutil.copy(clip_dir / "two.mp4", clips / "unnamed.mp4")
    source = _labelled_project(tmp_path / "a", clips)
    out = tmp_path / "manifests" / f"labels.{fmt}"
    out.parent.mkdir()
    export = interop.export_csv if fmt == "csv" else interop.export_json
    assert export(source.db, out, relative=True) == 6
    if fmt == "csv":
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
        assert list(rows[0]) == ["path", "label", "annotator", "start", "end", "label_set", "created_at"]
        first = next(r for r in rows if r["label_set"] == "sentiment3" and r["annotator"] == "ann")
        assert (first["path"], first["start"], first["end"]) == (
            os.path.relpath(clips / "one.mp4", out.parent),
            "",
            "",
        )
        assert all((tmp_path / "manifests" / r["path"]).resolve().is_file() for r in rows)
    else:
        doc = json.loads(out.read_text())
        assert doc["label_sets"]["emotion7"][3] == "happy" and len(doc["labels"]) == 6
    # two.mp4 is new in a clip folder of the target: found on disk and added, that file alone (issue 23:
    # an import once added every clip of the named file's folder).
    report = interop.import_labels(target, out)
    assert report.clips_added == 1 and report.imported == 6 and report.skipped == []
    assert sorted(Path(c.path).name for c in target.clips()) == ["one.mp4", "two.mp4"]
    assert _state(target) == _state(source)
    src_times = sorted(r.created_at for r in interop.current_rows(source.db))
    assert sorted(r.created_at for r in interop.current_rows(target.db)) == src_times  # timestamps kept


def test_bad_manifests_are_reported(clip_dir: Path, tmp_path: Path) -> None:
    project = Project.init(tmp_path / "p")
    project.import_clips(clip_dir)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "path,label,annotator,start,end,label_set,created_at\n"
        f"{clip_dir / 'one.mp4'},joy,ann,,,sentiment3,\n"
        f"{clip_dir / 'gone.mp4'},positive,ann,,,sentiment3,\n"  # in a clip folder, no such file
        f"{clip_dir / 'one.mp4'},positive,,,,,\n"
    )
    report = interop.import_labels(project, bad, annotator="fallback")
    assert report.imported == 1 and len(report.skipped) == 2
    assert "not a label of 'sentiment3'" in report.skipped[0][1] and "no clip at" in report.skipped[1][1]
    assert project.clip("one.mp4").label_by == "fallback"
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(interop.InteropError, match="not a label manifest"):
        interop.import_labels(project, tmp_path / "x.csv")
    (tmp_path / "x.eaf").write_text("<not xml")
    with pytest.raises(interop.InteropError, match="not a readable ELAN file"):
        interop.import_labels(project, tmp_path / "x.eaf")


def test_cli_export_and_import(clip_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    clips = tmp_path / "clips"
    shutil.copytree(clip_dir, clips)
    _labelled_project(tmp_path / "a", clips).close()
    out = tmp_path / "l.csv"
    assert (
        main(
            [
                "export",
                "labels",
                "--project",
                str(tmp_path / "a"),
                "--format",
                "csv",
                "-o",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"format": "csv", "path": str(out), "files": [str(out)], "rows": 6}
    eaf_args = ["--format", "eaf", "-o", str(tmp_path / "e"), "--json"]
    assert main(["export", "labels", "--project", str(tmp_path / "a"), *eaf_args]) == 0
    assert len(json.loads(capsys.readouterr().out)["files"]) == 2
    assert main(["project", "init", str(tmp_path / "b"), "--clips", str(clips), "--json"]) == 0
    capsys.readouterr()
    assert main(["import", "labels", str(out), "--project", str(tmp_path / "b"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["imported"], doc["duplicates"], doc["skipped"], doc["clips_added"]) == (6, 0, 0, 0)
    assert main(["import", "labels", str(tmp_path / "e"), "--project", str(tmp_path / "b"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["duplicates"] == 6
