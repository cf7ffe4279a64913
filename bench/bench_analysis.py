"""Evaluation runs at scale and figure export: the confusion view and its click-through on a run of
100,000 clips, against a plain query of the same rows; figure export time per kind.

  confusion: ``evaluation_runs.confusion`` (one GROUP BY over the cell index) vs the plain query
             (every item of the run fetched and counted in Python: what a view without it would do);
  click:     ``evaluation_runs.cell_clips`` for the largest off-diagonal cell (index range read,
             most-confident first) vs the same rows by a plain scan (``NOT INDEXED``);
  view:      the Qt Evaluation view showing the run (matrix filled) and listing that cell (model
             filled) vs the plain query of the same rows;
  figures:   each kind written as PNG, SVG and PDF from a 2,000-clip run and a real clip.

    QT_QPA_PLATFORM=offscreen python bench/bench_analysis.py [--clips 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from affectscope.app.services import evaluation_runs as runs  # noqa: E402
from affectscope.app.services import figures  # noqa: E402
from affectscope.app.services.project import Project  # noqa: E402
from affectscope.db.schema import Clip  # noqa: E402

LABELS = ("positive", "neutral", "negative")


def timed(fn, repeat: int) -> tuple[float, object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def populate(project: Project, n: int, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    t0 = datetime(2024, 1, 1)
    with project.db.write_engine.begin() as conn:
        conn.execute(
            insert(Clip),
            [
                {
                    "id": i + 1,
                    "path": f"/data/clips/{i // 1000:03d}/clip_{i:06d}.mp4",
                    "content_hash": f"{i:064x}",
                    "duration": 5.0,
                    "fps": 25.0,
                    "width": 640,
                    "height": 360,
                    "n_frames": 125,
                    "has_audio": True,
                    "size_bytes": 1,
                    "mtime": 0.0,
                    "status": "ok",
                    "added_at": t0,
                    "updated_at": t0,
                }
                for i in range(n)
            ],
        )
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3)) + 1.5 * np.eye(3)[y]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    heads = {m: np.roll(probs, k, axis=1) for k, m in enumerate(("face", "audio"))}
    return runs.store_run(
        project,
        "bench-model",
        LABELS,
        y,
        probs,
        list(range(1, n + 1)),
        [f"/data/clips/{i // 1000:03d}/clip_{i:06d}.mp4" for i in range(n)],
        modality_probs=heads,
        worst_t=rng.uniform(0, 5, n).tolist(),
    )


def plain_confusion(project: Project, run_id: int) -> list[list[int]]:
    with project.db.read_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT true_index, pred_index FROM evaluation_items WHERE run_id = :r"), {"r": run_id}
        ).all()
    counts = Counter((t, p) for t, p in rows)  # plain tuples: Row objects hash slowly
    return [[counts.get((t, p), 0) for p in range(3)] for t in range(3)]


def plain_cell(project: Project, run_id: int, t: int, p: int) -> list:
    with project.db.read_engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT clip_id, path, true_index, pred_index, confidence, worst_t FROM evaluation_items "
                "NOT INDEXED WHERE run_id = :r AND true_index = :t AND pred_index = :p"
            ),
            {"r": run_id, "t": t, "p": p},
        ).all()


def bench_scale(project: Project, n: int, repeat: int) -> None:
    t = time.perf_counter()
    run_id = populate(project, n)
    print(f"stored a run of {n:,} clips (items with probabilities, 2 heads): {time.perf_counter() - t:.1f} s")
    ours, cm = timed(lambda: runs.confusion(project, run_id), repeat)
    base, cm2 = timed(lambda: plain_confusion(project, run_id), repeat)
    assert cm == cm2
    print(
        f"confusion counts   : {ours * 1000:8.1f} ms   plain query {base * 1000:8.1f} ms"
        f"   ratio {ours / base:.2f}"
    )
    t_, p_ = max(((i, j) for i in range(3) for j in range(3) if i != j), key=lambda c: cm[c[0]][c[1]])
    ours, items = timed(lambda: runs.cell_clips(project, run_id, t_, p_), repeat)
    base, rows = timed(lambda: plain_cell(project, run_id, t_, p_), repeat)
    assert {i.clip_id for i in items} == {r[0] for r in rows}
    print(
        f"click-through cell : {ours * 1000:8.1f} ms   plain query {base * 1000:8.1f} ms"
        f"   ratio {ours / base:.2f}"
        f"   ({len(items):,} clips)"
    )

    from PySide6.QtWidgets import QApplication

    from affectscope.app.qt.evaluation_view import EvaluationView
    from affectscope.app.qt.workers import Workers

    app = QApplication.instance() or QApplication([])
    view = EvaluationView(Workers(None, synchronous=True))
    view.project = project  # no set_project: it would list models; the run list is what we time

    def show() -> None:
        view.show_run(run_id)
        view.show_cell(t_, p_)
        app.processEvents()

    view.resize(900, 700)
    view.show()
    ours, _ = timed(show, repeat)
    base, _ = timed(lambda: (plain_confusion(project, run_id), plain_cell(project, run_id, t_, p_)), repeat)
    assert len(view.listed_clip_ids()) == len(rows)
    print(
        f"Qt view show+click : {ours * 1000:8.1f} ms   plain queries {base * 1000:8.1f} ms"
        f"   ratio {ours / base:.2f}"
    )
    view.close()


def bench_figures(folder: Path, repeat: int) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.evalfactory import make_eval_project

    project, facts = make_eval_project(folder / "fig", n_clips=6)
    run_a = runs.evaluate_project(project, "lightweight-streaming")
    run_b = runs.evaluate_project(project, "lightweight-streaming", label_source="majority")
    rng = np.random.default_rng(1)
    big_y = rng.integers(0, 3, 2000)
    big = runs.store_run(
        project,
        "bench-2000",
        LABELS,
        big_y,
        rng.dirichlet(np.ones(3), 2000),
        [None] * 2000,
        [f"x{i}" for i in range(2000)],
        modality_probs={"face": rng.dirichlet(np.ones(3), 2000)},
    )
    runs.run_report(project, big)  # the report is computed once per run and cached; figures read it
    kinds = {
        "confusion": {"run": big},
        "per-class": {"run": big},
        "reliability": {"run": big},
        "modality": {"run": big},
        "comparison": {"runs_": [run_a, run_b]},
        "clip": {"clip": facts["clips"][0].id},
    }
    print("figure export (median of", repeat, "; seconds):")
    print(f"  {'kind':<12}{'png 300dpi':>12}{'svg':>8}{'pdf':>8}")
    for kind, kw in kinds.items():
        spec = figures.make_spec(project, kind, **kw)
        cells = []
        for fmt in ("png", "svg", "pdf"):
            t, _ = timed(
                lambda f=fmt, s=spec, k=kind: figures.export_figure(project, s, folder / f"{k}.{f}"), repeat
            )
            cells.append(t)
        print(f"  {kind:<12}" + "".join(f"{c:>{12 if i == 0 else 8}.3f}" for i, c in enumerate(cells)))
    project.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-figures", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with Project.init(Path(tmp) / "proj") as project:
            bench_scale(project, args.clips, args.repeat)
        if not args.skip_figures:
            bench_figures(Path(tmp), max(1, args.repeat // 2))


if __name__ == "__main__":
    main()
