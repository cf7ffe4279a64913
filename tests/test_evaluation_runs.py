"""Evaluation runs stored in a project: metrics equal scikit-learn's, cells list exactly their clips,
the worst window is found, runs compare, selections flow to other rooms, and the CLI stores a run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

from affectscope.app.cli.main import main
from affectscope.app.services import evaluation_runs as runs
from tests.evalfactory import LABELS, make_eval_project

pytest_plugins = ["tests.db_backends"]  # the backend_url fixture: SQLite and PostgreSQL


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory):
    project, facts = make_eval_project(tmp_path_factory.mktemp("eval"))
    run_id = runs.evaluate_project(project, "lightweight-streaming")
    yield project, facts, run_id
    project.close()


def test_run_holds_every_labelled_clip_and_metrics_equal_scikit_learn(stored) -> None:
    project, facts, run_id = stored
    run, a = runs.run_data(project, run_id)
    assert run.labels == LABELS and run.label_source == "current" and run.n_items == len(facts["clips"])
    assert run.weights_sha256 and run.model_version_id == facts["version"]
    order = list(a["clip_id"])
    yt = np.array([facts["true"][c] for c in order])
    yp = np.array([facts["pred"][c] for c in order])
    assert (a["true"] == yt).all() and (a["pred"] == yp).all()
    rep = runs.run_report(project, run_id)
    assert rep["uar"] == pytest.approx(skm.balanced_accuracy_score(yt, yp))
    assert rep["accuracy"] == pytest.approx(skm.accuracy_score(yt, yp))
    assert rep["macro_f1"] == pytest.approx(
        skm.f1_score(yt, yp, labels=[0, 1, 2], average="macro", zero_division=0)
    )
    assert rep["confusion"] == skm.confusion_matrix(yt, yp, labels=[0, 1, 2]).tolist()
    assert set(rep["ci"]) == {"accuracy", "uar", "macro_f1"}
    assert set(rep["modalities"]) == {"face", "mouth", "audio", "fused"}
    assert rep["modalities"]["fused"]["uar"] == pytest.approx(rep["uar"])
    assert sum(rep["reliability"]["count"]) == run.n_items
    # ECE recomputed here from the stored probabilities: ten equal-width confidence bins, (lo, hi]
    # (the first closed), weighted |accuracy - confidence| (was "0 <= ece <= 1", which cannot fail).
    conf, right = a["probs"].max(1), a["probs"].argmax(1) == yt
    edges, ece = np.linspace(0.0, 1.0, 11), 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (conf <= hi) & ((conf > lo) if lo > 0 else True)
        if in_bin.any():
            ece += in_bin.mean() * abs(right[in_bin].mean() - conf[in_bin].mean())
    assert rep["reliability"]["ece"] == pytest.approx(ece, abs=1e-12) and ece > 0


def test_each_confusion_cell_lists_exactly_its_clips(stored) -> None:
    project, facts, run_id = stored
    cm = runs.confusion(project, run_id)
    for t in range(3):
        for p in range(3):
            got = {item.clip_id for item in runs.cell_clips(project, run_id, t, p)}
            want = {c for c in facts["true"] if facts["true"][c] == t and facts["pred"][c] == p}
            assert got == want and cm[t][p] == len(want)


def test_worst_window_is_where_a_wrong_class_was_most_probable(stored) -> None:
    project, facts, run_id = stored
    for t in range(3):
        for p in range(3):
            for item in runs.cell_clips(project, run_id, t, p):
                times, windows = facts["fused"][item.clip_id]
                wrong = windows.copy()
                wrong[:, t] = -1
                k = int(wrong.max(1).argmax())
                assert item.worst_t == pytest.approx((times[k][0] + times[k][1]) / 2)


def test_majority_and_annotator_sources_and_run_comparison(stored) -> None:
    project, facts, run_id = stored
    bob = runs.evaluate_project(project, "lightweight-streaming", label_source="annotator:bob")
    majority = runs.evaluate_project(project, "lightweight-streaming", label_source="majority")
    _, a = runs.run_data(project, majority)
    assert [facts["true"][c] for c in a["clip_id"]] == list(a["true"])  # ann and cat outvote bob
    _, b = runs.run_data(project, bob)
    assert (b["true"] != a["true"]).any()
    same = runs.compare_runs(project, run_id, majority, n_resamples=200)
    assert same["mcnemar"]["pvalue"] == 1.0 and same["uar_difference"]["difference"] == 0.0
    with pytest.raises(runs.EvaluationError):
        runs.evaluate_project(project, "lightweight-streaming", label_source="nobody")


def test_selections_flow_to_the_relabel_queue(stored) -> None:
    project, facts, run_id = stored
    ids = [item.clip_id for item in runs.cell_clips(project, run_id, 0, 1)] or [facts["clips"][0].id]
    sel = runs.send_clips(project, "relabel", ids, f"run {run_id}: true positive, predicted neutral")
    pending = runs.pending_clip_selections(project, "relabel")
    assert (sel, f"run {run_id}: true positive, predicted neutral", ids) in pending
    assert runs.take_clip_selection(project, sel) == ids
    assert all(p[0] != sel for p in runs.pending_clip_selections(project, "relabel"))
    with pytest.raises(runs.EvaluationError):
        runs.send_clips(project, "relabel", [999999], "nowhere")


def test_cli_evaluate_project_stores_a_run(stored, capsys: pytest.CaptureFixture[str]) -> None:
    project, facts, _ = stored
    before = len(runs.list_runs(project))
    code = main(["evaluate", "--model", "lightweight-streaming", "--project", str(project.folder), "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n"] == len(facts["clips"]) and {"uar", "ci", "accuracy", "macro_f1", "kappa"} <= set(doc)
    assert len(runs.list_runs(project)) == before + 1 and doc["run_id"] == runs.list_runs(project)[-1].id
    assert main(["evaluate", "--model", "lightweight-streaming"]) == 2
    assert main(["evaluate", "--model", "x", "--project", str(Path(project.folder) / "nope")]) == 2


def test_a_database_at_0001_upgrades_to_the_evaluation_tables(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from affectscope.db.engine import Database, _alembic_config, open_database

    db = Database(str(tmp_path / "old.db"))
    cfg = _alembic_config()
    with db.write_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    assert "evaluation_runs" not in inspect(db.read_engine).get_table_names()
    db.dispose()
    db = open_database(tmp_path / "old.db")
    tables = set(inspect(db.read_engine).get_table_names())
    assert {"evaluation_runs", "evaluation_items", "figure_specs", "clip_selections"} <= tables
    db.dispose()


def test_runs_cells_and_selections_on_each_backend(backend_url: str, tmp_path: Path) -> None:
    """The same run stored through SQLite and PostgreSQL: cells, report and selections agree."""
    from datetime import datetime

    from sqlalchemy import insert

    from affectscope.app.services.project import Project
    from affectscope.db.schema import Clip

    t0 = datetime(2024, 1, 1)
    with Project.init(tmp_path / "p", db_url=backend_url) as p:
        with p.db.write_engine.begin() as conn:
            conn.execute(
                insert(Clip),
                [
                    {
                        "path": f"/x/{i}.mp4",
                        "content_hash": "h",
                        "duration": 1.0,
                        "fps": 25.0,
                        "width": 1,
                        "height": 1,
                        "n_frames": 1,
                        "has_audio": False,
                        "size_bytes": 1,
                        "mtime": 0.0,
                        "status": "ok",
                        "added_at": t0,
                        "updated_at": t0,
                    }
                    for i in range(120)
                ],
            )
        ids = sorted(c.id for c in p.clips())
        rng = np.random.default_rng(0)
        y, probs = rng.integers(0, 3, 120), rng.dirichlet(np.ones(3), 120)
        run = runs.store_run(
            p, "m", LABELS, y, probs, ids, [str(i) for i in ids], modality_probs={"face": probs}
        )
        pred = probs.argmax(1)
        assert runs.confusion(p, run) == skm.confusion_matrix(y, pred, labels=[0, 1, 2]).tolist()
        got = [item.clip_id for item in runs.cell_clips(p, run, 0, 1)]
        assert sorted(got) == [ids[k] for k in range(120) if y[k] == 0 and pred[k] == 1]
        assert runs.run_report(p, run)["uar"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
        sel = runs.send_clips(p, "study", got, "cell")
        assert runs.take_clip_selection(p, sel) == got
