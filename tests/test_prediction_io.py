"""Prediction import and export (issue 20, item 3): a CSV/JSON of per-window predictions becomes a model
version named NAME that lanes, evaluation and the queue use; exports read back to the same numbers;
every row is checked before anything is written; importing twice changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from affectscope.app.cli.main import main
from affectscope.app.services.analysis_store import load_stored_analysis
from affectscope.app.services.commands import LabelCommand
from affectscope.app.services.project import Project
from affectscope.app.services.queue import build_queue
from affectscope.db.schema import ClipPrediction, ModelVersion, TimePrediction
from affectscope.db.uow import unit_of_work
from tests.cli_json import cli_json
from tests.clipfactory import make_clip

pytest_plugins = ["tests.db_backends"]  # the backend_url fixture: SQLite and PostgreSQL
LABELS = ("positive", "neutral", "negative")  # sentiment3, in the set's order


def _project(tmp_path: Path, db_url: str | None = None) -> Project:
    clips = tmp_path / "clips"
    make_clip(clips / "a.mp4", n_frames=50, fps=25)  # 2.0 s
    make_clip(clips / "b.mp4", n_frames=40, fps=25)  # 1.6 s
    p = Project.init(tmp_path / "proj", db_url=db_url)
    p.import_clips(clips)
    for name, label in (("a.mp4", "positive"), ("b.mp4", "negative")):
        LabelCommand(p.db, p.clip(name).id, "sentiment3", label, "ann").do()
    return p


@pytest.fixture
def project(tmp_path: Path) -> Project:
    with _project(tmp_path) as p:
        yield p


@pytest.fixture
def any_project(backend_url: str, tmp_path: Path) -> Project:
    """The project on SQLite and on PostgreSQL: both store every double exactly."""
    with _project(tmp_path, backend_url) as p:
        yield p


def _rows(rng: np.random.Generator, clip: str, n: int, lanes=("fused", "face", "audio")) -> list[str]:
    out = []
    for lane in lanes:
        for k in range(n):
            p = rng.dirichlet(np.ones(3))
            t0 = k * 0.25
            out.append(",".join([clip, repr(t0), repr(t0 + 1.0), lane, *(repr(float(v)) for v in p)]))
    return out


def _csv(tmp_path: Path, name: str = "preds.csv", seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    lines = ["clip,start,end,modality," + ",".join(LABELS)]
    lines += ["a.mp4,,,fused,0.7,0.2,0.1", *_rows(rng, "a.mp4", 5)]
    lines += ["b.mp4,,,fused,0.25,0.25,0.5", *_rows(rng, "b.mp4", 3)]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _count(project: Project, table) -> int:  # noqa: ANN001
    with unit_of_work(project.db) as s:
        return s.scalar(select(func.count()).select_from(table))


def test_csv_import_equals_export_and_json_round_trips(
    any_project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = any_project
    src = _csv(tmp_path)
    doc = cli_json(
        capsys, "import", "predictions", str(src), "--project", str(project.folder), "--name", "colleague"
    )
    assert (doc["name"], doc["kind"], doc["label_set"], doc["clips"], doc["rows"]) == (
        "colleague", "categorical", "sentiment3", 2, 26
    )  # fmt: skip
    assert doc["lanes"] == ["audio", "face", "fused"] and doc["clip_decision"] == "file"
    out = tmp_path / "out.csv"
    exp = cli_json(capsys, "export", "predictions", "--project", str(project.folder), "--model", "colleague",
               "--format", "csv", "-o", str(out))  # fmt: skip
    assert exp["rows"] == 26 and exp["version"] == doc["version"]
    assert out.read_text() == src.read_text()  # the very same bytes: every double written as repr

    # JSON: export, import under another name, export again: the same document but for the name
    j1, j2 = tmp_path / "one.json", tmp_path / "two.json"
    cli_json(capsys, "export", "predictions", "--project", str(project.folder), "--model", "colleague",
         "--format", "json", "-o", str(j1))  # fmt: skip
    cli_json(capsys, "import", "predictions", str(j1), "--project", str(project.folder), "--name", "again")
    cli_json(capsys, "export", "predictions", "--project", str(project.folder), "--model", "again",
         "--format", "json", "-o", str(j2))  # fmt: skip
    one, two = json.loads(j1.read_text()), json.loads(j2.read_text())
    assert one.pop("model") == "colleague" and two.pop("model") == "again" and one == two
    assert one["rows"][0] == {"clip": "a.mp4", "start": None, "end": None, "modality": "fused",
                              "values": [0.7, 0.2, 0.1]}  # fmt: skip


def test_importing_again_is_idempotent_and_a_new_file_is_a_new_version(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--project", str(project.folder), "--name", "colleague"]
    first = cli_json(capsys, "import", "predictions", str(_csv(tmp_path)), *args)
    counts = (_count(project, ModelVersion), _count(project, TimePrediction), _count(project, ClipPrediction))
    again = cli_json(capsys, "import", "predictions", str(_csv(tmp_path)), *args)
    assert again["model_version_id"] == first["model_version_id"]
    assert (
        _count(project, ModelVersion),
        _count(project, TimePrediction),
        _count(project, ClipPrediction),
    ) == counts
    other = cli_json(capsys, "import", "predictions", str(_csv(tmp_path, "v2.csv", seed=1)), *args)
    assert other["model_version_id"] != first["model_version_id"] and other["name"] == "colleague"


def test_lanes_evaluation_and_queue_use_the_imported_version(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--project", str(project.folder), "--name", "colleague"]
    imported = cli_json(capsys, "import", "predictions", str(_csv(tmp_path)), *args)
    stored = load_stored_analysis(project, project.clip("a.mp4").path)
    assert stored.model == "colleague" and stored.labels == LABELS
    assert set(stored.per_modality) == {"face", "audio"} and stored.fused.shape == (5, 3)
    assert stored.clip_label == "positive" and np.allclose(stored.times, np.arange(5) * 0.25 + 0.5)

    report = cli_json(capsys, "evaluate", "--model", "colleague", "--project", str(project.folder))
    # a.mp4 (positive) decided positive 0.7; b.mp4 (negative) decided negative 0.5: both right
    assert report["n"] == 2 and report["accuracy"] == 1.0

    queue = build_queue(project, label_set="sentiment3")
    assert queue.model_version_id == imported["model_version_id"]
    by_clip = {item.path: item for item in queue.items}
    assert by_clip[project.clip("b.mp4").path].model_label == "negative"
    assert by_clip[project.clip("a.mp4").path].model_confidence == pytest.approx(0.7)


def test_hard_labels_and_elan_tiers(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "labels.csv"
    src.write_text("clip,start,end,label\na.mp4,0.0,1.0,happy\na.mp4,1.0,2.0,sad\nb.mp4,0.0,1.6,neutral\n")
    doc = cli_json(
        capsys, "import", "predictions", str(src), "--project", str(project.folder), "--name", "hard"
    )
    assert doc["label_set"] == "emotion7" and doc["clip_decision"] == "mean of fused windows"
    out = tmp_path / "tiers"
    exp = cli_json(capsys, "export", "predictions", "--project", str(project.folder), "--model", "hard",
               "--format", "eaf", "-o", str(out))  # fmt: skip
    assert sorted(Path(f).name for f in exp["files"]) == ["a.eaf", "b.eaf"]
    import pympi

    eaf = pympi.Elan.Eaf(str(out / "a.eaf"))
    assert list(eaf.get_tier_names()) == ["hard fused"]
    assert sorted(eaf.get_annotation_data_for_tier("hard fused")) == [(0, 1000, "happy"), (1000, 2000, "sad")]
    # the tiers read back as the same hard labels
    back = cli_json(capsys, "import", "predictions", str(out / "a.eaf"), "--project", str(project.folder),
                "--name", "from-elan", "--label-set", "emotion7")  # fmt: skip
    assert back["rows"] == 2 and back["clips"] == 1


def test_every_row_is_checked_before_anything_is_written(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    lines = _csv(tmp_path).read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",nan"  # one window's last probability is NaN
    lines[6] = "a.mp4,1.5,1.0,fused,0.2,0.3,0.5"  # end before start
    bad.write_text("\n".join(lines) + "\n")
    args = ["--project", str(project.folder), "--name", "broken"]
    assert main(["import", "predictions", str(bad), *args]) == 2
    err = capsys.readouterr().err
    assert "nothing imported" in err and "line 4" in err and "line 7" in err and err.count("\n") == 1
    assert _count(project, ModelVersion) == 0 and _count(project, TimePrediction) == 0

    head = "clip,start,end,modality,positive,neutral,negative\n"
    cases = {
        "clip,start,end,modality,happy,sad\na.mp4,0,1,fused,0.5,0.5\n": "labels of no label set",
        head + "zzz.mp4,0,1,fused,0.2,0.3,0.5\n": "zzz.mp4",
        head + "a.mp4,0,1,fused,0.2,0.3,0.6\n": "sum to 1.1",
        head + "a.mp4,5,6,fused,0.2,0.3,0.5\n": "after the clip ends",
        "clip,start,end\n": "value columns",
    }
    for i, (text, message) in enumerate(cases.items()):
        f = tmp_path / f"case{i}.csv"
        f.write_text(text)
        assert main(["import", "predictions", str(f), *args]) == 2
        assert message in capsys.readouterr().err
    assert main(["import", "predictions", str(_csv(tmp_path)), "--project", str(project.folder),
                 "--name", "lightweight-streaming"]) == 2  # fmt: skip
    assert "registered model" in capsys.readouterr().err
    assert main(["export", "predictions", "--project", str(project.folder), "--model", "nobody",
                 "--format", "csv", "-o", str(tmp_path / "x.csv")]) == 2  # fmt: skip
    assert "no predictions of 'nobody'" in capsys.readouterr().err
    assert _count(project, ModelVersion) == 0
