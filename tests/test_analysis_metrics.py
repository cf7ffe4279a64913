"""analysis.metrics: scikit-learn's numbers, bootstrap CIs that cover, and the collapse guard."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from affectscope.analysis.metrics import (
    _batched_confusion,
    bootstrap_ci,
    classification_report,
    scores_from_confusion,
)

LABELS = ("positive", "neutral", "negative")


@pytest.mark.parametrize("seed", range(5))
def test_point_metrics_equal_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    yt, yp = rng.integers(0, 3, 300), rng.integers(0, 3, 300)
    r = classification_report(yt, yp, LABELS, ci=False)
    assert r["uar"] == pytest.approx(skm.balanced_accuracy_score(yt, yp), abs=1e-12)
    assert r["accuracy"] == pytest.approx(skm.accuracy_score(yt, yp), abs=1e-12)
    assert r["macro_f1"] == pytest.approx(skm.f1_score(yt, yp, average="macro"), abs=1e-12)
    assert r["kappa"] == pytest.approx(skm.cohen_kappa_score(yt, yp), abs=1e-12)
    recalls = skm.recall_score(yt, yp, average=None)
    assert [r["per_class"][k]["recall"] for k in LABELS] == pytest.approx(recalls, abs=1e-12)


def test_resample_statistic_equals_scikit_learn_on_each_resample() -> None:
    """The vectorised bootstrap statistic is scikit-learn's metric on every resample."""
    rng = np.random.default_rng(7)
    yt, yp = rng.integers(0, 4, 60), rng.integers(0, 4, 60)
    idx = rng.integers(0, 60, (25, 60))
    s = scores_from_confusion(_batched_confusion(yt[idx], yp[idx], 4))
    for b in range(25):
        t, p = yt[idx[b]], yp[idx[b]]
        assert s["uar"][b] == pytest.approx(skm.balanced_accuracy_score(t, p), abs=1e-12)
        assert s["accuracy"][b] == pytest.approx(skm.accuracy_score(t, p), abs=1e-12)
        f1 = skm.f1_score(t, p, labels=np.arange(4), average="macro", zero_division=0)
        assert s["macro_f1"][b] == pytest.approx(f1, abs=1e-12)


def test_bootstrap_ci_covers_the_true_uar_at_about_the_nominal_rate() -> None:
    """Simulated classifiers with a known recall per class: the 95 % CI holds the truth ~95 % of runs."""
    rng = np.random.default_rng(0)
    true_recall = np.array([0.8, 0.5, 0.65])
    hits = 0
    runs = 120
    for r in range(runs):
        yt = rng.integers(0, 3, 240)
        correct = rng.random(240) < true_recall[yt]
        wrong = (yt + rng.integers(1, 3, 240)) % 3
        yp = np.where(correct, yt, wrong)
        lo, hi = bootstrap_ci(yt, yp, 3, n_resamples=400, seed=r)["uar"]
        hits += lo <= true_recall.mean() <= hi
    assert 0.87 <= hits / runs <= 0.99


def test_collapse_guard_fires_on_one_class_and_stays_quiet_on_a_good_model() -> None:
    yt = np.repeat([0, 1, 2], 20)
    r = classification_report(yt, np.full(60, 2), LABELS, ci=False)
    assert r["collapsed"] and "collapsed" in r["warnings"][0]
    assert r["uar"] == pytest.approx(1 / 3)
    good = classification_report(yt, yt, LABELS)
    assert not good["collapsed"] and good["ci"]["uar"] == [1.0, 1.0]
