"""Reader-study statistics equal the field's libraries (statsmodels, krippendorff, scikit-learn) to 1e-9."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, cohen_kappa_score
from statsmodels.stats import inter_rater

from affectscope.analysis import agreement as ag
from affectscope.analysis import mrmc
from affectscope.analysis.reader_stats import arm_report


def _ratings(seed: int, items: int = 60, raters: int = 5, cats: int = 4, missing: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, cats, items)
    r = np.where(rng.random((items, raters)) < 0.6, truth[:, None], rng.integers(0, cats, (items, raters)))
    r[rng.random(r.shape) < missing] = -1
    return r


def _kripp_reliability(r: np.ndarray) -> float:
    data = r.T.astype(float)
    data[data < 0] = np.nan
    return krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")


@pytest.mark.parametrize("seed", range(5))
def test_fleiss_and_alpha_equal_the_libraries(seed: int) -> None:
    r = _ratings(seed)
    table = ag.count_table(r, 4)
    assert ag.fleiss_kappa(table) == pytest.approx(inter_rater.fleiss_kappa(table), abs=1e-9)
    # The generalised (unequal-numbers) form reduces to statsmodels' when every item has the same count.
    general = ag._fleiss_weighted(ag._fleiss_parts(table), np.ones((1, len(table))))[0]
    assert general == pytest.approx(inter_rater.fleiss_kappa(table), abs=1e-9)
    assert ag.krippendorff_alpha(table) == pytest.approx(_kripp_reliability(r), abs=1e-9)
    vectorised = ag._alpha_weighted(ag._alpha_parts(table), np.ones((1, len(table))))[0]
    assert vectorised == pytest.approx(_kripp_reliability(r), abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_unequal_numbers_alpha_equals_package_and_fleiss_follows_gwet(seed: int) -> None:
    r = _ratings(seed, missing=0.35)
    table = ag.count_table(r, 4)
    assert len(set(table.sum(1))) > 1
    assert ag.krippendorff_alpha(table) == pytest.approx(_kripp_reliability(r), abs=1e-9)
    # Gwet (2014) §2.5 written out item by item, as a second reading of the formula.
    n_i = table.sum(1)
    keep = n_i >= 2
    pa = np.mean([(t * (t - 1)).sum() / (n * (n - 1)) for t, n in zip(table[keep], n_i[keep], strict=True)])
    pi = np.mean([t / n for t, n in zip(table[n_i > 0], n_i[n_i > 0], strict=True)], axis=0)
    pe = (pi**2).sum()
    assert ag.fleiss_kappa(table) == pytest.approx((pa - pe) / (1 - pe), abs=1e-12)


def test_each_bootstrap_resample_equals_the_library_on_the_resampled_table() -> None:
    r = _ratings(7, missing=0.2)
    table = ag.count_table(r, 4)
    full = ag.count_table(_ratings(8), 4)
    w = next(ag.multiplicities(len(table), 5, seed=3))
    assert (w.sum(1) == len(table)).all()
    alphas = ag._alpha_weighted(ag._alpha_parts(table), w)
    kappas = ag._fleiss_weighted(ag._fleiss_parts(full), w)
    for b in range(5):
        idx = np.repeat(np.arange(len(table)), w[b].astype(int))
        assert alphas[b] == pytest.approx(
            krippendorff.alpha(value_counts=table[idx], level_of_measurement="nominal"), abs=1e-9
        )
        assert kappas[b] == pytest.approx(inter_rater.fleiss_kappa(full[idx]), abs=1e-9)
    ci = ag.bootstrap_agreement(table, n_resamples=300, seed=1)
    assert ci["fleiss_kappa"][0] < ag.fleiss_kappa(table) < ci["fleiss_kappa"][1]
    assert ci["krippendorff_alpha"][0] < ag.krippendorff_alpha(table) < ci["krippendorff_alpha"][1]


def test_cohen_pairs_equal_statsmodels_and_sklearn() -> None:
    r = _ratings(11, raters=3, missing=0.1)
    pairs = ag.pairwise_cohen(r, 4, ["a", "b", "c"])
    assert [(p["a"], p["b"]) for p in pairs] == [("a", "b"), ("a", "c"), ("b", "c")]
    for p, (i, j) in zip(pairs, [(0, 1), (0, 2), (1, 2)], strict=True):
        both = (r[:, i] >= 0) & (r[:, j] >= 0)
        assert p["n"] == both.sum()
        assert p["kappa"] == pytest.approx(
            cohen_kappa_score(r[both, i], r[both, j], labels=range(4)), abs=1e-9
        )
        table = np.zeros((4, 4))
        np.add.at(table, (r[both, i], r[both, j]), 1)
        assert p["kappa"] == pytest.approx(inter_rater.cohens_kappa(table, return_results=False), abs=1e-9)


def test_arm_report_pools_readers_and_agrees_with_libraries() -> None:
    rng = np.random.default_rng(5)
    n_cases, n_readers, labels = 40, 3, ["a", "b", "c"]
    truth_case = rng.integers(0, 3, n_cases)
    case = np.repeat(np.arange(n_cases), n_readers)
    reader = np.tile(np.arange(n_readers), n_cases)
    truth = truth_case[case]
    answer = np.where(rng.random(len(case)) < 0.7, truth, rng.integers(0, 3, len(case)))
    times = rng.uniform(500, 3000, len(case))
    conf = rng.integers(0, 101, len(case)).astype(float)
    rep = arm_report(case + 100, reader, truth, answer, labels, time_ms=times, confidence=conf,
                     reader_names=["r1", "r2", "r3"], n_resamples=500)  # fmt: skip
    assert rep["n_cases"] == n_cases and rep["n_readers"] == 3 and rep["n_responses"] == len(case)
    assert rep["accuracy"]["value"] == pytest.approx((answer == truth).mean(), abs=1e-12)
    assert rep["uar"]["value"] == pytest.approx(balanced_accuracy_score(truth, answer), abs=1e-9)
    lo, hi = rep["accuracy"]["ci"]
    assert lo < rep["accuracy"]["value"] < hi
    grid = answer.reshape(n_cases, n_readers)
    assert rep["fleiss_kappa"]["value"] == pytest.approx(
        inter_rater.fleiss_kappa(ag.count_table(grid, 3)), abs=1e-9
    )
    assert rep["krippendorff_alpha"]["value"] == pytest.approx(_kripp_reliability(grid), abs=1e-9)
    assert rep["mean_time_ms"] == pytest.approx(times.mean())
    for j, pr in enumerate(rep["per_reader"]):
        m = reader == j
        assert pr["accuracy"]["value"] == pytest.approx((answer[m] == truth[m]).mean())
        assert pr["uar"]["value"] == pytest.approx(balanced_accuracy_score(truth[m], answer[m]), abs=1e-9)
        assert pr["uar"]["ci"][0] <= pr["uar"]["value"] <= pr["uar"]["ci"][1]
        lo, hi = pr["accuracy"]["ci"]  # Wilson
        assert lo < pr["accuracy"]["value"] < hi
    assert sum(b["n"] for b in rep["calibration"]) == len(case)
    assert len(rep["cohen_pairs"]) == 3


def test_two_way_bootstrap_difference() -> None:
    rng = np.random.default_rng(2)
    a = (rng.random((6, 50)) < 0.8).astype(float)
    b = (rng.random((6, 50)) < 0.6).astype(float)
    res = mrmc.two_way_bootstrap(a, b, n_resamples=500, seed=0)
    assert res["value"] == pytest.approx(a.mean() - b.mean(), abs=1e-12)
    assert res["ci"][0] < res["value"] < res["ci"][1]
    # Resampling readers as well as cases widens the interval compared with cases alone.
    one_reader = mrmc.two_way_bootstrap(a[:1].repeat(6, 0), b[:1].repeat(6, 0), n_resamples=500, seed=0)
    assert one_reader["ci"][1] - one_reader["ci"][0] > 0
    same = mrmc.two_way_bootstrap(a, a, n_resamples=100)
    assert same["value"] == 0 and same["ci"] == [0.0, 0.0]
    lines = mrmc.imrmc_lines([("r1", 1, "plain", 1.0), ("r1", 2, "plain", 0.0)], [1, 2], ["plain"], "x")
    assert lines[lines.index("BEGIN DATA:") + 1] == "-1,1,0,1" and lines[-1] == "r1,2,plain,0"
    assert "NR: 1" in lines and "N1: 2" in lines
