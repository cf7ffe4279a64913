"""Continuous outputs (issue 20, item 4): CCC and Pearson r against a direct formula and scipy, clip
bootstrap intervals against a plain loop, imported valence/arousal traces scored against an imported
reference, drawn as lanes over their range, and as a figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from affectscope.analysis.continuous import ccc, clip_bootstrap_ci, pearson_r, trace_report
from affectscope.app.cli.main import main
from affectscope.app.services.project import Project
from tests.cli_json import cli_json
from tests.clipfactory import make_clip


def test_ccc_and_r_equal_the_direct_formulas_and_scipy() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    y = 0.6 * x + rng.normal(scale=0.5, size=200) + 0.3
    # Lin (1989) written out: 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2), population moments
    s_xy = np.sum((x - x.mean()) * (y - y.mean())) / len(x)
    direct = 2 * s_xy / (np.var(x) + np.var(y) + (x.mean() - y.mean()) ** 2)
    assert ccc(x, y) == pytest.approx(direct, abs=1e-12)
    assert pearson_r(x, y) == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
    xc = x - x.mean()
    assert ccc(x, x) == pytest.approx(1.0) and ccc(xc, -xc) == pytest.approx(-1.0)
    # a shifted, scaled copy correlates perfectly but does not agree: r stays 1, CCC drops
    v = np.var(x)  # cov(x, 2x + 1) = 2 v, var(2x + 1) = 4 v, the means differ by mean(x) + 1
    assert pearson_r(x, 2 * x + 1) == pytest.approx(1.0)
    shifted = ccc(x, 2 * x + 1)
    assert shifted == pytest.approx(4 * v / (5 * v + (x.mean() + 1) ** 2), abs=1e-12) and shifted < 0.7
    assert np.isnan(ccc([1.0], [2.0])) and np.isnan(pearson_r([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError):
        ccc([1, 2], [1, 2, 3])


def test_clip_bootstrap_equals_a_plain_loop_over_resampled_clips() -> None:
    rng = np.random.default_rng(2)
    groups = np.repeat(np.arange(6), [5, 9, 4, 7, 6, 8])
    x = rng.normal(size=len(groups))
    y = x + rng.normal(scale=0.7, size=len(groups))
    lo, hi = clip_bootstrap_ci(x, y, groups, "ccc", n_resamples=300, seed=4)
    # the same draws, done one resample at a time by concatenating the drawn clips' windows
    draws = np.random.default_rng(4).integers(0, 6, size=(300, 6))
    loop = [
        ccc(np.concatenate([x[groups == g] for g in d]), np.concatenate([y[groups == g] for g in d]))
        for d in draws
    ]
    assert (lo, hi) == pytest.approx(tuple(np.quantile(loop, [0.025, 0.975])), abs=1e-12)
    assert lo < ccc(x, y) < hi
    r_lo, r_hi = clip_bootstrap_ci(x, y, groups, "r", n_resamples=300, seed=4)
    assert r_lo < pearson_r(x, y) < r_hi
    assert np.isnan(clip_bootstrap_ci(x, y, np.zeros(len(x)))[0])  # one clip: nothing to resample
    report = trace_report(x, y, groups, n_resamples=300, seed=4)
    assert report["n_clips"] == 6 and report["n_windows"] == len(x) and report["ccc_ci"] == [lo, hi]


def _trace(t: np.ndarray, phase: float) -> tuple[np.ndarray, np.ndarray]:
    return 0.8 * np.sin(2 * np.pi * 0.5 * t + phase), 0.5 * np.cos(2 * np.pi * 0.3 * t + phase)


@pytest.fixture
def traces_project(tmp_path: Path) -> tuple[Project, dict[str, Path]]:
    clips = tmp_path / "clips"
    make_clip(clips / "a.mp4", n_frames=100, fps=25)  # 4 s
    make_clip(clips / "b.mp4", n_frames=75, fps=25)  # 3 s
    project = Project.init(tmp_path / "proj")
    project.import_clips(clips)
    rng = np.random.default_rng(0)
    gold = ["clip,start,end,valence,arousal"]
    model = ["clip,start,end,modality,valence,arousal"]
    for clip, duration, phase in (("a.mp4", 4.0, 0.0), ("b.mp4", 3.0, 1.0)):
        t = np.arange(0, duration, 0.04)  # a reference rated every frame
        v, a = _trace(t + 0.02, phase)
        gold += [f"{clip},{t0!r},{t0 + 0.04!r},{v0!r},{a0!r}" for t0, v0, a0 in zip(t, v, a, strict=True)]
        starts = np.arange(0, duration - 1.0 + 1e-9, 0.25)  # 1 s windows, 0.25 s hop
        pv, pa = _trace(starts + 0.5, phase)
        pv = 0.7 * pv + rng.normal(scale=0.1, size=len(starts))
        pa = pa + 0.2
        model += [
            f"{clip},{s!r},{s + 1.0!r},fused,{x!r},{y!r}" for s, x, y in zip(starts, pv, pa, strict=True)
        ]
    files = {"gold": tmp_path / "gold.csv", "model": tmp_path / "va.csv"}
    files["gold"].write_text("\n".join(gold) + "\n")
    files["model"].write_text("\n".join(model) + "\n")
    yield project, files
    project.close()


def test_imported_traces_scored_against_an_imported_reference(
    traces_project, capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    project, files = traces_project
    where = ["--project", str(project.folder)]
    gold = cli_json(
        capsys, "import", "predictions", str(files["gold"]), *where, "--name", "gold", "--continuous"
    )
    assert (
        gold["kind"] == "continuous"
        and gold["label_set"] is None
        and gold["columns"] == ["valence", "arousal"]
    )
    cli_json(capsys, "import", "predictions", str(files["model"]), *where, "--name", "va", "--continuous",
         "--range", "valence=-1:1", "--range", "arousal=-1:1")  # fmt: skip
    report = cli_json(
        capsys, "evaluate", "--project", str(project.folder), "--model", "va", "--reference", "gold"
    )
    assert report["clips"] == 2 and set(report["outputs"]) == {"valence", "arousal"}

    # the same numbers by hand: the reference interpolated at the model windows' centres
    x, y, g = [], [], []
    for clip, duration, phase in (("a.mp4", 4.0, 0.0), ("b.mp4", 3.0, 1.0)):
        centres = np.arange(0, duration - 1.0 + 1e-9, 0.25) + 0.5
        ref_t = np.arange(0, duration, 0.04) + 0.02
        rows = [r.split(",") for r in files["model"].read_text().splitlines()[1:] if r.startswith(clip)]
        x += [float(r[5]) for r in rows]
        y += list(np.interp(centres, ref_t, _trace(ref_t, phase)[1]))
        g += [clip] * len(rows)
    arousal = report["outputs"]["arousal"]
    assert arousal["ccc"] == pytest.approx(ccc(x, y), abs=1e-9)
    assert arousal["pearson_r"] == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-9)
    assert arousal["n_windows"] == len(x) == 13 + 9 and arousal["n_clips"] == 2
    assert arousal["pearson_r"] > 0.99 and arousal["ccc"] < arousal["pearson_r"] - 0.05  # offset by 0.2
    assert report["outputs"]["valence"]["ccc"] > 0.6

    assert main(["evaluate", *where, "--model", "va"]) == 2  # classes are scored by UAR, not these
    assert "continuous values" in capsys.readouterr().err
    assert main(["evaluate", *where, "--model", "va", "--reference", "nobody"]) == 2
    capsys.readouterr()


def test_continuous_lanes_have_their_range_and_a_figure_draws_the_traces(
    traces_project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    from affectscope.app.services.predict import stored_prediction

    project, files = traces_project
    where = ["--project", str(project.folder)]
    cli_json(capsys, "import", "predictions", str(files["gold"]), *where, "--name", "gold", "--continuous")
    cli_json(capsys, "import", "predictions", str(files["model"]), *where, "--name", "va", "--continuous",
         "--range", "valence=-1:1", "--range", "arousal=-2:2")  # fmt: skip
    pred = stored_prediction(project, project.clip("a.mp4").path)
    fused = next(lane for lane in pred.lanes if lane.name == "fused")
    assert fused.labels == ("valence", "arousal") and fused.value_range == (-2.0, 2.0)
    assert fused.probs.shape == (13, 2) and fused.probs[:, 1].min() < 0 < fused.probs[:, 1].max()

    out = tmp_path / "va.png"
    doc = cli_json(
        capsys, "figure", "continuous", *where, "--model", "va", "--reference", "gold", "-o", str(out)
    )
    assert out.stat().st_size > 10_000 and doc["kind"] == "continuous"
    spec = json.loads(Path(doc["spec"]).read_text())
    assert spec["options"] == {"model": "va", "reference": "gold"} and spec["clip"].endswith("a.mp4")
    assert main(["figure", "continuous", *where, "-o", str(tmp_path / "x.png")]) == 2
    assert "--model NAME and --reference NAME" in capsys.readouterr().err


def test_a_continuous_lane_is_drawn_over_its_range(qtbot) -> None:  # noqa: ANN001
    import pyqtgraph as pg

    from affectscope.app.qt.prediction_lanes import ProbabilityLane

    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    lane = ProbabilityLane(("valence", "arousal"), (-2.0, 2.0))
    lane.attach(widget.getPlotItem())
    times = np.arange(13) * 0.25 + 0.5
    lane.set_data(times, np.stack([np.sin(times), 1.5 * np.cos(times)], axis=1))
    y0, y1 = widget.getPlotItem().getViewBox().viewRange()[1]
    assert y0 < -2.0 < 2.0 < y1 and y1 - y0 < 4.5  # the output's range (with 5 % padding), not 0..1
    ticks = widget.getPlotItem().getAxis("left")._tickLevels[0]
    assert [label for _, label in ticks] == ["-2", "0", "2"]
    xs, ys = lane.curve_data("arousal")
    assert len(xs) == 13 and ys.min() < -1.0 and ys.max() > 1.0
