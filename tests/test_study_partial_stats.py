"""Statistics that never crash (issue 21): an arm nobody has read yet, one reader, three answers: the
report comes back, undefined numbers are null with a reason (never NaN, never a formula's 0.000), the
JSON is strict, the text says "n/a (why)", and the Results window shows numbers or the error itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from affectscope.analysis.reader_stats import arm_report
from affectscope.analysis.undefined import TWO_READERS
from affectscope.app.cli.main import main
from affectscope.app.services import study_stats
from affectscope.app.services.reading import ReadingSession
from tests.study_factory import make_study_project


def _strict(text: str) -> dict:
    def refuse(token: str) -> None:
        raise AssertionError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def _answer(project, sid, reader: str, n: int) -> None:  # noqa: ANN001
    session = ReadingSession(project.db, sid, reader)
    for _ in range(n):
        st = session.next_stimulus()
        session.answer(st, "positive", time_ms=700.0)


def test_one_reader_three_answers_and_an_empty_arm(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """The crash of the issue: ada has answered 3 cases of her first arm, the other arm is empty."""
    project, sid = make_study_project(tmp_path)
    _answer(project, sid, "ada", 3)
    doc = study_stats.study_stats(project.db, sid, n_resamples=100)
    first = next(a for a in doc["arms"].values() if a["n_responses"])
    empty = next(a for a in doc["arms"].values() if not a["n_responses"])
    assert first["n_responses"] == 3 and first["interim"] and first["n_assigned"] == 8 and doc["interim"]
    assert first["accuracy"]["value"] is not None and first["accuracy"]["reason"] is None
    for key in ("fleiss_kappa", "krippendorff_alpha"):  # one reader: no agreement (was 0.000 [0.000, 0.000])
        assert first[key] == {"value": None, "ci": [None, None], "reason": TWO_READERS}
    no_answers = "no answers with a reference label yet"
    assert empty["accuracy"] == {
        "value": None,
        "ci": [None, None],
        "reason": no_answers,
        "wilson": [None, None],
    }
    assert empty["uar"]["value"] is None and empty["per_reader"] == [] and empty["n_cases"] == 0
    diff = doc["assisted_minus_unassisted"][0]
    assert diff["value"] is None and "both arms" in diff["reason"]

    # strict JSON through the CLI, and words instead of numbers in the text
    folder = str(project.folder)
    project.close()
    assert main(["study", "stats", "pilot", "--project", folder, "--resamples", "50", "--json"]) == 0
    cli = _strict(capsys.readouterr().out)
    assert cli["arms"].keys() == doc["arms"].keys()
    assert main(["study", "stats", "pilot", "--project", folder, "--resamples", "50"]) == 0
    text = capsys.readouterr().out
    assert "interim" in text and f"n/a ({TWO_READERS})" in text and "nan" not in text.lower()
    assert main(["study", "stats", "pilot", "--project", folder, "--resamples", "-1"]) == 2


@pytest.mark.parametrize(
    "case, reader, answer",
    [
        ([], [], []),  # nothing yet
        ([0], [0], [1]),  # one answer
        ([0, 1, 2], [0, 0, 0], [0, 0, 0]),  # one reader, one label throughout
        ([0, 0, 1, 1], [0, 1, 0, 1], [2, 2, 2, 2]),  # two readers who always agree on one label
    ],
)
def test_arm_report_never_returns_nan(case, reader, answer) -> None:  # noqa: ANN001
    truth = [1] * len(case)
    rep = arm_report(case, reader, truth, answer, ["a", "b", "c"], n_resamples=50)
    text = json.dumps(rep, allow_nan=False)  # raises on any NaN/Infinity
    for key in ("accuracy", "uar", "fleiss_kappa", "krippendorff_alpha"):
        d = rep[key]
        assert (d["reason"] is None) == (d["value"] is not None and None not in d["ci"]), (key, d)
    for p in rep["cohen_pairs"]:
        assert (p["kappa"] is None) == (p["reason"] is not None)
    assert "NaN" not in text


def test_two_readers_agreeing_still_give_kappa_with_ci() -> None:
    """Defined statistics are unchanged: 2 readers on 6 cases give a number and a CI, reason null."""
    rng = np.random.default_rng(0)
    case = np.repeat(np.arange(6), 2)
    reader = np.tile([0, 1], 6)
    answer = rng.integers(0, 3, 12)
    rep = arm_report(case, reader, np.zeros(12, int), answer, ["a", "b", "c"], n_resamples=200)
    assert rep["fleiss_kappa"]["value"] is not None and None not in rep["fleiss_kappa"]["ci"]
    assert rep["fleiss_kappa"]["reason"] is None


def test_results_window_shows_partial_results_and_errors(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    from affectscope.app.qt.study_panel import StudyPanel

    project, sid = make_study_project(tmp_path)
    _answer(project, sid, "bo", 2)
    panel = StudyPanel(project)
    qtbot.addWidget(panel)
    panel.show()
    stats = panel.results.show_study("pilot", n_resamples=50)
    assert stats is not None and panel.results.table.rowCount() == 2
    cells = {
        panel.results.table.item(r, 0).text(): [
            panel.results.table.item(r, c).text() for c in range(panel.results.table.columnCount())
        ]
        for r in range(2)
    }
    read = next(v for k, v in cells.items() if "interim: 2 of 8" in k)
    assert read[8].startswith("n/a") and TWO_READERS in read[8]
    assert not panel.results.figure.pixmap().isNull()
    assert "Could not" not in panel.results.summary.text()
    # an error is shown in the window, not only logged
    assert panel.results.show_study("no-such-study", n_resamples=50) is None
    assert "Could not compute the results: no study 'no-such-study'" in panel.results.summary.text()
    assert panel.results.table.rowCount() == 0
    project.close()


def test_study_figure_of_an_unread_and_a_partial_study(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """`affectscope figure study` draws whatever is there: nothing read yet, then two answers in one arm."""
    project, sid = make_study_project(tmp_path)
    folder = str(project.folder)
    argv = ["figure", "study", "--project", folder, "--study", str(sid), "--json"]
    assert main([*argv, "-o", str(tmp_path / "unread.png")]) == 0
    _answer(project, sid, "ada", 2)
    assert main([*argv, "-o", str(tmp_path / "partial.png")]) == 0
    capsys.readouterr()
    assert (tmp_path / "unread.png").stat().st_size > 0 and (tmp_path / "partial.png").stat().st_size > 0
    project.close()
