"""``affectscope study import-answers``: answers from paper forms or a web survey enter a study validated
like live answers (reader of the study, case in their order and not answered, a study label, confidence
0-100, time >= 0); one bad row refuses the whole file naming its line; the statistics then count them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from affectscope.app.cli.main import main
from affectscope.app.services.project import Project
from affectscope.app.services.reading import ReadingSession, case_key
from affectscope.app.services.study_stats import export_csv
from tests.study_factory import TRUTH, make_study_project


def _write(path: Path, rows: list[list[str]], header: tuple[str, ...] = ()) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header or ("reader", "arm", "case", "label", "confidence", "time_ms"))
        w.writerows(rows)
    return path


def test_import_answers_validated_all_or_nothing(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    project, sid = make_study_project(tmp_path)
    live = ReadingSession(project.db, sid, "ada")
    st = live.next_stimulus()
    live.answer(st, "neutral")  # one live answer: importing it again must be refused
    first_arm = "plain" if st.arm_id == 1 else "helped"
    key = case_key(sid, st.case_id, 7)  # the opaque key names a case too
    folder = str(project.folder)
    project.close()
    run = ["study", "import-answers", "pilot", "--project", folder]

    # bo answers on paper: every case in both arms, cases named each way the doc allows
    refs = [str(tmp_path / "clips" / "c0.mp4"), "c1.mp4", "3", case_key(sid, 4, 7)]
    good = [
        ["bo", arm, ref, TRUTH[i], "80", "1500"] for arm in ("plain", "helped") for i, ref in enumerate(refs)
    ]
    bad = [
        ["zed", "plain", "c0.mp4", "positive", "", ""],
        ["bo", "smell", "c0.mp4", "positive", "", ""],
        ["bo", "plain", "c9.mp4", "positive", "", ""],
        ["bo", "plain", "c0.mp4", "joy", "", ""],
        ["bo", "plain", "c1.mp4", "positive", "101", ""],
    ]
    path = _write(tmp_path / "bad.csv", good + bad)
    assert main(run[:3] + [str(path)] + run[3:]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing imported" in err
    for line, words in zip(
        range(10, 15), ("not a reader", "no arm 'smell'", "no case 'c9.mp4'", "'joy'", "0-100"), strict=True
    ):
        assert f"line {line}: " in err and words in err, (line, words)
    dup = _write(tmp_path / "dup.csv", [good[0], good[0]])
    assert main(run[:3] + [str(dup)] + run[3:]) == 2
    assert "line 3: bo has already answered" in capsys.readouterr().err
    again = _write(tmp_path / "again.csv", [["ada", first_arm, key, "neutral"]])
    assert main(run[:3] + [str(again)] + run[3:]) == 2
    assert "ada has already answered" in capsys.readouterr().err
    cols = _write(tmp_path / "cols.csv", [["bo", "plain"]], header=("reader", "arm"))
    assert main(run[:3] + [str(cols)] + run[3:]) == 2
    assert "missing column(s) case, label" in capsys.readouterr().err
    assert main(run[:3] + [str(tmp_path / "none.csv")] + run[3:]) == 2
    with Project.open(folder) as p:  # nothing of the refused files was stored
        assert export_csv(p.db, "pilot", tmp_path / "out.csv") == 1

    ok = _write(tmp_path / "ok.csv", good)
    assert main(run[:3] + [str(ok)] + run[3:] + ["--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"study": "pilot", "file": str(ok), "imported": 8}
    assert main(["study", "stats", "pilot", "--project", folder, "--resamples", "50", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    for arm in ("plain", "helped"):
        bo = next(r for r in stats["arms"][arm]["per_reader"] if r["reader"] == "bo")
        assert bo["accuracy"]["value"] == 1.0 and bo["n_responses"] == 4 and bo["mean_time_ms"] == 1500.0
