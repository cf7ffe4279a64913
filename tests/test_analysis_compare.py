"""analysis.calibration / comparison / intervals: the libraries' numbers, and intervals that cover."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from statsmodels.stats.contingency_tables import mcnemar

from affectscope.analysis.calibration import expected_calibration_error, reliability
from affectscope.analysis.comparison import (
    compare_predictions,
    mcnemar_test,
    paired_bootstrap_uar_difference,
    per_modality_reports,
)
from affectscope.analysis.intervals import per_class_ci

LABELS = ("positive", "neutral", "negative")


def _probs(rng: np.random.Generator, n: int, c: int, sharp: float = 2.0) -> np.ndarray:
    logits = rng.normal(size=(n, c)) * sharp
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("seed", range(4))
def test_reliability_bins_equal_scikit_learns_calibration_curve(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = _probs(rng, 500, 3)
    y = rng.integers(0, 3, 500)
    rel = reliability(p, y, n_bins=10)
    correct = (p.argmax(1) == y).astype(int)
    prob_true, prob_pred = calibration_curve(correct, p.max(1), n_bins=10, strategy="uniform")
    ours_acc = [a for a in rel["accuracy"] if a is not None]
    ours_conf = [c for c in rel["confidence"] if c is not None]
    assert ours_acc == pytest.approx(prob_true, abs=1e-12)
    assert ours_conf == pytest.approx(prob_pred, abs=1e-12)
    assert sum(rel["count"]) == 500
    # ECE by its definition, bin by bin.
    ece = sum(
        n / 500 * abs(a - c)
        for n, a, c in zip([n for n in rel["count"] if n], ours_acc, ours_conf, strict=True)
    )
    assert rel["ece"] == pytest.approx(ece, abs=1e-12)


def test_ece_is_small_for_a_calibrated_model_and_large_for_an_overconfident_one() -> None:
    rng = np.random.default_rng(1)
    p = _probs(rng, 20000, 3)
    # Draw the truth from the model's own probabilities: calibrated by construction.
    y = np.array([rng.choice(3, p=row) for row in p])
    assert expected_calibration_error(p, y) < 0.02
    sharp = p**4 / (p**4).sum(1, keepdims=True)  # same argmax, overconfident
    assert expected_calibration_error(sharp, y) > 0.08


@pytest.mark.parametrize("seed", range(3))
def test_mcnemar_matches_statsmodels_on_the_agreement_table(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, 200)
    a = np.where(rng.random(200) < 0.7, y, rng.integers(0, 3, 200))
    b = np.where(rng.random(200) < 0.6, y, rng.integers(0, 3, 200))
    res = mcnemar_test(y, a, b)
    ra, rb = a == y, b == y
    table = [[np.sum(ra & rb), np.sum(ra & ~rb)], [np.sum(~ra & rb), np.sum(~ra & ~rb)]]
    assert res["table"] == table
    ref = mcnemar(np.array(table), exact=res["discordant"] < 25, correction=True)
    assert res["pvalue"] == pytest.approx(ref.pvalue, rel=1e-12)
    same = mcnemar_test(y, a, a)
    assert same["pvalue"] == 1.0 and same["discordant"] == 0


def test_paired_difference_point_estimate_is_scikit_learns() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 300)
    a, b = rng.integers(0, 3, 300), np.where(rng.random(300) < 0.5, y, rng.integers(0, 3, 300))
    d = paired_bootstrap_uar_difference(y, a, b, 3, n_resamples=300)
    assert d["difference"] == pytest.approx(
        skm.balanced_accuracy_score(y, b) - skm.balanced_accuracy_score(y, a), abs=1e-12
    )
    assert d["ci"][0] < d["difference"] < d["ci"][1]
    assert d["p_two_sided"] < 0.01  # B is far better than chance-level A


def _simulate(rng: np.random.Generator, recall: np.ndarray, y: np.ndarray) -> np.ndarray:
    right = rng.random(len(y)) < recall[y]
    wrong = (y + rng.integers(1, len(recall), len(y))) % len(recall)
    return np.where(right, y, wrong)


def test_paired_bootstrap_ci_covers_the_true_difference_at_about_the_nominal_rate() -> None:
    """Two simulated models with known per-class recalls; the 95 % CI of ΔUAR holds the truth ~95 %."""
    rng = np.random.default_rng(0)
    rec_a, rec_b = np.array([0.7, 0.5, 0.6]), np.array([0.75, 0.6, 0.6])
    truth = rec_b.mean() - rec_a.mean()
    runs, hits = 150, 0
    for _ in range(runs):
        y = rng.integers(0, 3, 240)
        d = paired_bootstrap_uar_difference(y, _simulate(rng, rec_a, y), _simulate(rng, rec_b, y), 3, 400)
        hits += d["ci"][0] <= truth <= d["ci"][1]
    # Binomial(150, 0.95): 0.89-0.99 holds with > 99 % probability for a correct interval.
    assert 0.89 <= hits / runs <= 0.995


def test_per_class_recall_ci_covers_the_true_recall() -> None:
    rng = np.random.default_rng(5)
    recall = np.array([0.8, 0.45, 0.65])
    runs, hits = 120, np.zeros(3)
    for _ in range(runs):
        y = rng.integers(0, 3, 240)
        ci = per_class_ci(y, _simulate(rng, recall, y), LABELS, n_resamples=400, seed=int(rng.integers(1e9)))
        hits += [ci[lab]["recall"][0] <= recall[i] <= ci[lab]["recall"][1] for i, lab in enumerate(LABELS)]
    assert np.all(hits / runs >= 0.87), hits / runs


def test_per_class_ci_brackets_scikit_learns_point_values() -> None:
    rng = np.random.default_rng(2)
    y, p = rng.integers(0, 3, 400), rng.integers(0, 3, 400)
    ci = per_class_ci(y, p, LABELS, n_resamples=500)
    prec, rec, f1, _ = skm.precision_recall_fscore_support(y, p, labels=[0, 1, 2], zero_division=0)
    for i, lab in enumerate(LABELS):
        for key, v in (("precision", prec), ("recall", rec), ("f1", f1)):
            assert ci[lab][key][0] <= v[i] <= ci[lab][key][1]


def test_per_modality_reports_leave_out_missing_heads_and_match_scikit_learn() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 100)
    audio = _probs(rng, 100, 3)
    audio[:10] = np.nan  # ten clips without an audio track
    fused = _probs(rng, 100, 3)
    reps = per_modality_reports(y, {"audio": audio, "fused": fused}, LABELS, n_resamples=100)
    assert reps["audio"]["n"] == 90 and reps["audio"]["coverage"] == pytest.approx(0.9)
    assert reps["audio"]["uar"] == pytest.approx(skm.balanced_accuracy_score(y[10:], audio[10:].argmax(1)))
    assert reps["fused"]["uar"] == pytest.approx(skm.balanced_accuracy_score(y, fused.argmax(1)))


def test_compare_predictions_holds_both_reports() -> None:
    rng = np.random.default_rng(6)
    y, a, b = rng.integers(0, 3, 80), rng.integers(0, 3, 80), rng.integers(0, 3, 80)
    out = compare_predictions(y, a, b, LABELS, n_resamples=100)
    assert out["a"]["uar"] == pytest.approx(skm.balanced_accuracy_score(y, a))
    assert out["b"]["accuracy"] == pytest.approx(skm.accuracy_score(y, b))
    assert set(out) >= {"mcnemar", "uar_difference", "n"}
