"""``affectscope study ...`` contracts: CREMA-D import reproduces the per-presentation recognition rates
counted from the tabulated file; create/add-readers/show/stats/export on a made study; a reading process
killed with SIGKILL loses no answer it reported saved."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from affectscope.app.cli.main import main
from affectscope.app.services.project import Project
from affectscope.app.services.studies import ReadingSession, show_study
from tests.conftest import REPO
from tests.study_factory import make_study_project

STATS_KEYS = {"n_cases", "n_readers", "n_responses", "accuracy", "uar", "fleiss_kappa", "krippendorff_alpha",
              "mean_time_ms"}  # fmt: skip


def _json(capsys, argv: list[str]) -> dict:  # noqa: ANN001
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def _counted_rates(folder: Path) -> dict[str, tuple[float, int]]:
    """Correct votes / all votes per presentation, straight from tabulatedVotes.csv."""
    arm = {"1": "voice", "2": "face", "3": "audiovisual"}
    hit: dict[str, int] = {}
    tot: dict[str, int] = {}
    for r in csv.DictReader((folder / "tabulatedVotes.csv").read_text().splitlines()):
        p = arm[r[""][0]]
        code = {"ANG": "A", "DIS": "D", "FEA": "F", "HAP": "H", "NEU": "N", "SAD": "S"}[
            r["fileName"].split("_")[2]
        ]
        hit[p] = hit.get(p, 0) + int(r[code])
        tot[p] = tot.get(p, 0) + int(r["numResponses"])
    return {p: (hit[p] / tot[p], tot[p]) for p in tot}


def _reference_agreement(folder: Path) -> dict[str, tuple[float, float]]:
    """Fleiss' kappa and Krippendorff's alpha per presentation, from tabulatedVotes.csv's counts with the
    field's definitions: alpha from the ``krippendorff`` package; kappa as Fleiss' generalised to unequal
    numbers of ratings (Gwet 2014, 2.5), which statsmodels' ``fleiss_kappa`` equals on equal numbers."""
    import krippendorff
    import numpy as np
    from statsmodels.stats.inter_rater import fleiss_kappa

    arm = {"1": "voice", "2": "face", "3": "audiovisual"}
    rows: dict[str, list[list[int]]] = {}
    for r in csv.DictReader((folder / "tabulatedVotes.csv").read_text().splitlines()):
        rows.setdefault(arm[r[""][0]], []).append([int(r[c]) for c in "ADFHNS"])
    out = {}
    for name, counts in rows.items():
        t = np.array(counts, dtype=float)
        n = t.sum(1)
        pairable = n >= 2
        pairs = zip(t[pairable], n[pairable], strict=True)
        pa = np.mean([(row * (row - 1)).sum() / (m * (m - 1)) for row, m in pairs])
        pi = (t[n > 0] / n[n > 0, None]).mean(0)
        kappa = (pa - (pi**2).sum()) / (1 - (pi**2).sum())
        same = n == np.bincount(n.astype(int)).argmax()  # the commonest count: statsmodels applies there
        sub = t[same]
        sub_n = sub.sum(1)
        sub_pa = ((sub * (sub - 1)).sum(1) / (sub_n * (sub_n - 1))).mean()
        sub_pi = (sub / sub_n[:, None]).mean(0)
        assert fleiss_kappa(sub, method="fleiss") == pytest.approx(
            (sub_pa - (sub_pi**2).sum()) / (1 - (sub_pi**2).sum()), abs=1e-12
        )
        alpha = krippendorff.alpha(value_counts=t, level_of_measurement="nominal")
        out[name] = (float(kappa), float(alpha))
    return out


def test_crema_d_import_reproduces_recognition_rates(capsys, tmp_path: Path, shared_data: Path) -> None:  # noqa: ANN001
    folder = shared_data / "crema_d_ratings"
    Project.init(tmp_path / "p").close()
    doc = _json(capsys, ["study", "import-crema-d", str(folder), "--project", str(tmp_path / "p"), "--json"])
    assert doc["n_cases"] == 7442 and doc["n_responses"] == doc["n_anonymous_responses"]
    stats = _json(capsys, ["study", "stats", "crema-d", "--resamples", "50", "--project", str(tmp_path / "p"),
                           "--json"])  # fmt: skip
    counted = _counted_rates(folder)
    reference = _reference_agreement(folder)
    assert sum(n for _, n in counted.values()) == doc["n_responses"]
    for arm, (rate, n) in counted.items():
        a = stats["arms"][arm]
        assert set(a) >= STATS_KEYS
        assert a["n_responses"] == n and a["n_cases"] == 7442 and a["n_readers"] == 0
        assert a["accuracy"]["value"] == pytest.approx(rate, abs=1e-12)
        assert a["accuracy"]["ci"][0] < rate < a["accuracy"]["ci"][1]
        assert a["fleiss_method"] == "gwet2014_generalized" and a["ratings_per_case"][0] >= 1
        # Exact reference values (issue 23 item 9: was only a band, 0.2 < value < 0.6).
        kappa, alpha = reference[arm]
        assert a["fleiss_kappa"]["value"] == pytest.approx(kappa, abs=1e-9)
        assert a["krippendorff_alpha"]["value"] == pytest.approx(alpha, abs=1e-9)
    assert [round(counted[p][0] * 100, 1) for p in ("voice", "face", "audiovisual")] == [40.0, 57.4, 63.1]
    assert stats["assisted_minus_unassisted"] == []


def test_create_show_stats_export(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    project, sid = make_study_project(tmp_path, readers=("ada",))
    proj = str(project.folder)
    project.close()
    argv = ["study", "create", "sample", "--arm", "a:audio", "--arm", "v:video", "--per-label", "1"]
    argv += ["--seed", "3", "--design", "split", "--readers", "x,y", "--project", proj, "--json"]
    doc = _json(capsys, argv)
    assert doc["n_cases"] == 3 and doc["design"] == "split"  # one clip per label
    assert [r["assigned"] for r in doc["readers"]] == [3, 3]  # split: each case once per reader
    doc = _json(capsys, ["study", "add-readers", "pilot", "bo", "ada", "--project", proj, "--json"])
    assert doc["added"] == ["bo"] and [r["name"] for r in doc["readers"]] == ["ada", "bo"]
    with Project.open(proj) as p:
        for who in ("ada", "bo"):
            session = ReadingSession(p.db, "pilot", who)
            while (st := session.next_stimulus()) is not None:
                session.answer(st, "neutral" if who == "bo" else "positive", confidence=70, time_ms=900.0)
        assert show_study(p.db, "pilot")["n_responses"] == 16
    stats = _json(capsys, ["study", "stats", "pilot", "--resamples", "100", "--project", proj, "--json"])
    for arm in ("plain", "helped"):
        assert set(stats["arms"][arm]) >= STATS_KEYS and stats["arms"][arm]["n_readers"] == 2
        assert stats["arms"][arm]["mean_time_ms"] == 900.0
    model = stats["arms"]["helped"]["model"]  # readers vs the model on the same cases
    assert model["n_cases"] == 4 and model["model_accuracy"] == 0.75 and len(model["reader_model_kappa"]) == 2
    (diff,) = stats["assisted_minus_unassisted"]
    assert diff["assisted"] == "helped" and diff["unassisted"] == "plain" and len(diff["ci"]) == 2
    out = _json(capsys, ["study", "export", "pilot", "--format", "csv", "-o", str(tmp_path / "r.csv"),
                         "--project", proj, "--json"])  # fmt: skip
    rows = list(csv.DictReader((tmp_path / "r.csv").read_text().splitlines()))
    assert out["rows"] == len(rows) == 16 and {r["reader"] for r in rows} == {"ada", "bo"}
    _json(capsys, ["study", "export", "pilot", "--format", "imrmc", "-o", str(tmp_path / "r.imrmc"),
                   "--project", proj, "--json"])  # fmt: skip
    lines = (tmp_path / "r.imrmc").read_text().splitlines()
    data = lines[lines.index("BEGIN DATA:") + 1 :]
    assert len(data) == 4 + 16 and "NR: 2" in lines and "NM: 2" in lines
    assert main(["study", "stats", "nope", "--project", proj]) == 2

    # The study's results as a paper figure, regenerated from its spec to the same pixels.
    out_png = str(tmp_path / "s.png")
    fig = _json(capsys, ["figure", "study", "--project", proj, "--study", str(sid), "-o", out_png, "--json"])
    assert fig["kind"] == "study" and Path(fig["output"]).stat().st_size > 0
    assert main(["figure", "--from", fig["spec"], "-o", str(tmp_path / "again.png")]) == 0
    assert (tmp_path / "again.png").read_bytes() == (tmp_path / "s.png").read_bytes()
    capsys.readouterr()

    # Reader majority as a label source: x answers "negative" in "sample"; "pilot" ties (ada vs bo) drop out.
    from affectscope.app.services.evaluation_runs import EvaluationError, reference_labels

    with Project.open(proj) as p:
        session = ReadingSession(p.db, "sample", "x")
        read = []
        while (st := session.next_stimulus()) is not None:
            session.answer(st, "negative", confidence=50, time_ms=700.0)
            read.append(st.case_id)
        majority = reference_labels(p, "sentiment3", "study:sample")
        assert len(majority) == len(read) == 3 and set(majority.values()) == {"negative"}
        assert reference_labels(p, "sentiment3", "study:pilot") == {}
        with pytest.raises(EvaluationError, match="answers in sentiment3"):
            reference_labels(p, "emotion7", "study:sample")


# A reading loop: prints each response id after its commit (what "saved" means in the reader mode).
READ_LOOP = """
import sys
from affectscope.app.services.studies import ReadingSession
from affectscope.db.engine import open_database
session = ReadingSession(open_database(sys.argv[1]), "pilot", sys.argv[2])
while (st := session.next_stimulus()) is not None:
    print(session.answer(st, st.labels[st.position % 3], time_ms=5.0), flush=True)
"""


def test_kill_9_while_reading_loses_nothing_answered(tmp_path: Path) -> None:
    project, _ = make_study_project(tmp_path, readers=("ada",))
    url = str(project.folder / "project.db")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", READ_LOOP, url, "ada"], stdout=subprocess.PIPE, text=True, env=env
    )
    saved = [int(proc.stdout.readline()) for _ in range(3)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Project.open(project.folder) as p:
        session = ReadingSession(p.db, "pilot", "ada")
        done, total = session.progress()
        assert done >= 3 and total == 8
        from sqlalchemy import select

        from affectscope.db.studies import StudyResponse
        from affectscope.db.uow import unit_of_work

        with unit_of_work(p.db) as s:
            ids = set(s.scalars(select(StudyResponse.id)))
        assert set(saved) <= ids
        # Resume where they left off: the next case is the first unanswered one of the stored order.
        first = session.next_stimulus()
        assert first is not None and (first.arm_id, first.case_id) not in session.answered()
        while (st := session.next_stimulus()) is not None:
            session.answer(st, "neutral")
        assert session.progress() == (8, 8)
    project.close()
