"""Issue 22, speaker/subject metadata per clip: from the names EmoDB and RAVDESS give their files (on
import), a file-name pattern or a CSV (``project speakers``, Project ▸ Speakers…); retrain's split holds
whole speakers out with them, and the browser shows them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.app.services import retrain as rt
from affectscope.app.services.project import Project
from affectscope.app.services.speakers import SpeakerError, assign_speakers, clip_speakers
from tests.clipfactory import make_clip

NAMES = ("03a01Fa.mp4", "08b02Wa.mp4", "03-01-05-01-02-01-12.mp4", "s07_take1.mp4", "s09_take2.mp4")


@pytest.fixture
def project(tmp_path: Path):
    for name in NAMES:
        make_clip(tmp_path / "clips" / name, n_frames=10, fps=25)
    with Project.init(tmp_path / "clips") as p:
        p.import_clips(tmp_path / "clips")
        yield p


def _by_name(p: Project) -> dict[str, str | None]:
    return {Path(c.path).name: c.speaker for c in p.clips()}


def test_corpus_names_give_the_speaker_on_import(project: Project) -> None:
    assert _by_name(project) == {
        "03a01Fa.mp4": "emodb:03",  # EmoDB: the first two digits
        "08b02Wa.mp4": "emodb:08",
        "03-01-05-01-02-01-12.mp4": "ravdess:12",  # RAVDESS: the last field
        "s07_take1.mp4": None,
        "s09_take2.mp4": None,
    }


def test_a_pattern_or_a_csv_names_the_rest(project: Project, tmp_path: Path) -> None:
    report = assign_speakers(project, pattern=r"^s(?P<speaker>\d+)_")
    assert report.assigned == 2 and report.speakers == ["07", "09"] and len(report.unmatched) == 3
    assert _by_name(project)["s07_take1.mp4"] == "07" and _by_name(project)["03a01Fa.mp4"] == "emodb:03"
    table = tmp_path / "who.csv"
    table.write_text("file,speaker\ns07_take1.mp4,alice\nclips/s09_take2.mp4,bob\n")
    report = assign_speakers(project, csv_path=table)
    assert report.assigned == 2 and report.changed == 2
    assert _by_name(project)["s07_take1.mp4"] == "alice" and _by_name(project)["s09_take2.mp4"] == "bob"
    for bad in ("(unclosed", "no-group"):
        with pytest.raises(SpeakerError):
            assign_speakers(project, pattern=bad)


def test_retrain_splits_by_the_stored_speakers(project: Project) -> None:
    """Without speakers these names fall back to one folder "speaker" and auto made a clip split."""
    rows = [rt.TrainingLabel(c.id, c.path, "positive", ()) for c in project.clips() if "take" in c.path]
    assert rt.split_keys(project, rows, "auto")[0] == "clip"
    assign_speakers(project, pattern=r"^s(\d+)_")
    split, keys = rt.split_keys(project, rows, "auto")
    assert split == "speaker" and sorted(keys) == ["07", "09"]
    assert set(clip_speakers(project).values()) >= {"07", "09", "emodb:03"}


def test_cli_project_speakers(project: Project, capsys) -> None:
    folder = str(project.folder)
    assert main(["project", "speakers", folder, "--pattern", r"^s(\d+)_", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["assigned"] == 2 and doc["speakers"] == ["07", "09"] and len(doc["unmatched"]) == 3
    assert main(["project", "speakers", folder, "--pattern", "(x"]) == 2
    assert "not a regular expression" in capsys.readouterr().err


def test_the_browser_shows_the_speaker(qtbot, project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from affectscope.app.qt.main_window import MainWindow
    from affectscope.app.services.settings import Settings

    monkeypatch.setenv("AFFECTSCOPE_ANNOTATOR", "ann")
    window = MainWindow(settings=Settings())
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.session.project_opened, timeout=30000):
            window.open_path(project.folder)
        row = window.browser.model.row_for(project.folder / "03a01Fa.mp4")
        assert row.extra["speaker"] == "emodb:03"
        names = [c.title for c in window.browser.model.columns]
        assert "Speaker" in names
    finally:
        window.workers.cancel_all()
        window.shutdown()
