"""Issue 19, item 1 in the project: a stored evaluation run, ``batch evaluate``, the Evaluation view and
the run's figures all say when the clips overlap what trained, validated or tuned the weights.

The weights are the shipped seed 004 network copied beside a card whose records name half of the
project's clips as training files and one as validation (``provenance.data_records``, as training
writes it); the same clips scored by a copy whose records name other files are clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from affectscope.app.qt.evaluation_view import EvaluationView
from affectscope.app.qt.workers import Workers
from affectscope.app.services import evaluation_runs as runs
from affectscope.app.services import figures
from affectscope.app.services.batch import BatchSettings, plan_items, run_batch
from affectscope.models import provenance as pv
from affectscope.models.registry import get
from affectscope.models.training.card_records import samples_of
from affectscope.models.weights import write_card
from tests.evalfactory import MODEL, make_eval_project


def _weights(tmp_path: Path, name: str, train: list[str], val: list[str]) -> str:
    out = tmp_path / f"{name}.safetensors"
    shutil.copyfile(get(MODEL).weights_path(), out)
    write_card(out, {"model": MODEL, "data_records": pv.data_records(samples_of(train), samples_of(val))})
    return str(out)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("contam")
    project, facts = make_eval_project(tmp, n_clips=6, seed=5, distinct=True)
    paths = [c.path for c in facts["clips"]]
    other = tmp / "other.bin"
    other.write_bytes(b"not one of the clips")
    own = _weights(tmp, "own", paths[:3], paths[3:4])
    clean = _weights(tmp, "clean", [str(other)], [])
    run_own = runs.evaluate_project(project, MODEL, weights=own)
    run_clean = runs.evaluate_project(project, MODEL, weights=clean)
    yield project, own, clean, run_own, run_clean
    project.close()


def test_stored_runs_carry_the_overlap_and_their_titles_mark_it(evaluated) -> None:
    project, _own, _clean, run_own, run_clean = evaluated
    bad = runs.run_report(project, run_own)["contamination"]
    assert (bad["train"], bad["validation"], bad["tuning"]) == (3, 1, 0)
    good = runs.run_report(project, run_clean)["contamination"]
    assert (good["train"], good["validation"], good["tuning"], good["speakers"]) == (0, 0, 0, [])
    titles = {r.id: r.title for r in runs.list_runs(project)}
    assert titles[run_own].endswith("CONTAMINATED") and "CONTAMINATED" not in titles[run_clean]
    # a report cached before it carried the key reads back as unknown, not as clean
    report = runs.run_report(project, run_clean)
    del report["contamination"]
    from affectscope.db import evaluations as ev
    from affectscope.db.uow import unit_of_work

    with unit_of_work(project.db, write=True) as s:
        ev.set_report(s, run_clean, report)
    assert runs.run_report(project, run_clean)["contamination"] is None


def test_batch_evaluate_reports_the_overlap(evaluated) -> None:
    project, own, clean, *_ = evaluated
    items = plan_items(project)
    got = run_batch(items, BatchSettings(command="evaluate", model=MODEL, weights=own), project)
    assert got["contamination"]["train"] == 3 and got["contamination"]["validation"] == 1
    got = run_batch(items, BatchSettings(command="evaluate", model=MODEL, weights=clean), project)
    assert not pv.is_contaminated(got["contamination"])


def test_figures_of_a_contaminated_run_carry_a_red_mark(evaluated) -> None:
    project, _own, _clean, run_own, run_clean = evaluated

    def red_texts(run: int | list[int], kind: str) -> list[str]:
        spec = (
            figures.make_spec(project, kind, runs_=run)
            if kind == "comparison"
            else figures.make_spec(project, kind, run=run)
        )
        fig = figures.draw(project, spec)
        return [t.get_text() for t in fig.texts if t.get_color() == "#c00000"]

    for kind in ("confusion", "per-class", "reliability", "modality"):
        marks = red_texts(run_own, kind)
        assert len(marks) == 1 and "CONTAMINATED" in marks[0] and "3 train, 1 validation" in marks[0]
        assert red_texts(run_clean, kind) == []
    assert len(red_texts([run_clean, run_own], "comparison")) == 1


def test_the_evaluation_view_marks_a_contaminated_run(qtbot, evaluated) -> None:
    project, _own, _clean, run_own, run_clean = evaluated
    view = EvaluationView(Workers(None, synchronous=True))
    qtbot.addWidget(view)
    view.show()
    view.set_project(project)
    view.show_run(run_own)
    assert view.contamination.isVisible() and view.contamination.property("contaminated") is True
    assert "CONTAMINATED" in view.contamination.text() and "c00000" in view.contamination.styleSheet()
    view.show_run(run_clean)
    assert view.contamination.property("contaminated") is False
    assert view.contamination.text().startswith("no overlap")


def test_a_clips_stored_speaker_counts_in_a_project_run(tmp_path: Path) -> None:
    """Clips whose names say nothing of their speaker: the project's speaker metadata (issue 22) tells
    evaluate that the weights' training speaker is in the test, with no file in common."""
    import csv

    from affectscope.app.services.speakers import assign_speakers
    from affectscope.models.training import datasets as ds

    project, facts = make_eval_project(tmp_path, n_clips=3, seed=7, distinct=True)
    try:
        paths = [c.path for c in facts["clips"]]
        table = tmp_path / "speakers.csv"
        with open(table, "w", newline="") as fh:
            csv.writer(fh).writerows([["path", "speaker"], *[[p, "emodb:10"] for p in paths[:2]]])
        assert assign_speakers(project, csv_path=table).assigned == 2
        other = tmp_path / "other.bin"
        other.write_bytes(b"a file of speaker 10 that is none of the clips")
        weights = tmp_path / "spk.safetensors"
        shutil.copyfile(get(MODEL).weights_path(), weights)
        records = pv.data_records([ds.Sample(other, 0, "emodb:10", "x")])
        write_card(weights, {"model": MODEL, "data_records": records})
        run = runs.evaluate_project(project, MODEL, weights=str(weights))
        got = runs.run_report(project, run)["contamination"]
        assert (got["train"], got["speakers"]) == (0, ["emodb:10"]) and pv.is_contaminated(got)
    finally:
        project.close()
