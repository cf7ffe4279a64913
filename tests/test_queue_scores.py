"""Queue scores checked against the libraries they stand on (cleanlab, krippendorff, scipy)."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy as scipy_entropy

from affectscope.analysis import queue_scores as qs


def test_uncertainty_scores_match_definitions() -> None:
    p = np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.4, 0.1]])
    h = qs.entropy(p)
    assert h[0] == pytest.approx(0.0)
    assert h[1] == pytest.approx(1.0)
    assert h[2] == pytest.approx(scipy_entropy(p[2]) / np.log(3))
    assert qs.margin_uncertainty(p) == pytest.approx([0.0, 1.0, 0.9])


def test_label_issue_scores_are_cleanlabs() -> None:
    from cleanlab.rank import get_label_quality_scores

    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=50)
    y = rng.integers(0, 4, size=50)
    assert qs.label_issue_scores(y, p) == pytest.approx(1 - get_label_quality_scores(y, p))
    # A label the model is sure is wrong ranks above one it is sure is right.
    p2 = np.array([[0.95, 0.05], [0.95, 0.05]] * 10)
    y2 = np.array([1, 0] * 10)
    s = qs.label_issue_scores(y2, p2)
    assert s[0] > s[1]
    assert qs.find_label_issues(y2, p2)[0] and not qs.find_label_issues(y2, p2)[1]


def test_out_of_fold_probs_finds_flipped_labels() -> None:
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), 60)
    x = rng.normal(size=(180, 5)) + np.eye(3, 5)[y] * 3
    noisy = y.copy()
    flipped = rng.choice(180, 18, replace=False)
    noisy[flipped] = (noisy[flipped] + 1) % 3
    p = qs.out_of_fold_probs(x, noisy, 3, groups=np.arange(180) % 6)
    assert p.shape == (180, 3) and np.allclose(p.sum(axis=1), 1)
    hit = qs.found_in_top(qs.order(qs.label_issue_scores(noisy, p)), np.isin(np.arange(180), flipped), 0.2)
    assert hit > 0.8  # random order would find 20 %


def test_item_alpha_decomposes_krippendorff() -> None:
    votes = [["a", "a", "a"], ["a", "b"], ["b", "b", "c"], ["c", "c"], ["a"], ["a", "b", "c"]]
    per = qs.item_alpha(votes)
    assert np.isnan(per[4])
    assert per[0] == pytest.approx(1.0)
    # Reliability matrix: raters x units, NaN where a rater gave no vote.
    values = {"a": 0, "b": 1, "c": 2}
    matrix = np.full((3, len(votes)), np.nan)
    for u, item in enumerate(votes):
        for r, v in enumerate(item):
            matrix[r, u] = values[v]
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    m = np.array([len(v) if len(v) >= 2 else 0 for v in votes], dtype=float)
    ok = m > 0
    assert float((m[ok] * per[ok]).sum() / m[ok].sum()) == pytest.approx(expected)


def test_vote_entropy_and_modality_conflict() -> None:
    ve = qs.vote_entropy([["a", "a"], ["a", "b"], ["x"]], n_classes=2)
    assert ve[0] == pytest.approx(0.0) and ve[1] == pytest.approx(1.0) and np.isnan(ve[2])
    face = np.array([[0.9, 0.05, 0.05], [0.3, 0.4, 0.3]])
    voice = np.array([[0.05, 0.05, 0.9], [0.3, 0.4, 0.3]])
    audio = np.array([[0.8, 0.1, 0.1], [0.3, 0.4, 0.3]])
    score, pairs = qs.modality_conflict({"face": face, "voice": voice, "audio": audio})
    assert score[0] == pytest.approx(jensenshannon(face[0], voice[0], base=2))
    assert pairs[0] == ("face", "voice")
    assert score[1] == pytest.approx(0.0, abs=1e-7)


def test_combined_uses_visible_weights_and_skips_missing() -> None:
    a = np.array([0.1, 0.5, 0.9])
    b = np.array([0.9, np.nan, 0.1])
    only_a = qs.combined({"a": a, "b": b}, {"a": 1.0, "b": 0.0})
    assert only_a == pytest.approx(qs.percentile_rank(a))
    both = qs.combined({"a": a, "b": b}, {"a": 1.0, "b": 1.0})
    assert both[1] == pytest.approx(0.5)  # b missing: a's rank alone
    assert both[0] == pytest.approx(0.5) and both[2] == pytest.approx(0.5)
    assert list(qs.order(np.array([0.2, np.nan, 0.9]))) == [2, 0, 1]
