"""Statistics of one arm of a reader study, from plain arrays of responses (one entry per answer).

Accuracy and UAR are pooled over every response of the arm; their 95 % intervals come from a bootstrap
that resamples *cases* (a case's responses move together, since answers to one clip are correlated),
done as item multiplicities like analysis/agreement.py. Per reader, accuracy carries a Wilson interval
(statsmodels ``proportion_confint``); UAR (with its bootstrap CI over that reader's cases) and the
confusion matrix come from ``analysis.metrics.classification_report``. Anonymous responses
(reader -1, e.g. imported crowd votes) count in the pooled numbers and agreement, never per reader.

Any arm, however partial (no answer yet, one reader, one case), gives a report: what cannot be computed
is null with a reason (analysis/undefined.py), never NaN and never an exception, so interim results of
a running study can be looked at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from affectscope import strict_json
from affectscope.analysis import undefined as u
from affectscope.analysis.agreement import (
    CONFIDENCE,
    N_RESAMPLES,
    agreement_report,
    cohen_kappa,
    multiplicities,
    pairwise_cohen,
    percentile_ci,
)
from affectscope.analysis.metrics import classification_report, confusion_matrix

CONFIDENCE_BINS = (0, 20, 40, 60, 80, 101)


def wilson(k: int, n: int, confidence: float = CONFIDENCE) -> list[float]:
    if n == 0:
        return [float("nan"), float("nan")]
    lo, hi = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    return [float(lo), float(hi)]


def _case_bootstrap(
    case: np.ndarray, truth: np.ndarray, correct: np.ndarray, c: int, n_resamples: int, seed: int
) -> dict[str, list[float]]:
    """Percentile CIs of pooled accuracy and UAR, resampling cases with all their responses."""
    n_cases = int(case.max()) + 1 if len(case) else 0
    if n_cases < 2 or n_resamples <= 0:
        return {"accuracy": [float("nan")] * 2, "uar": [float("nan")] * 2}
    tot = np.zeros((n_cases, c))
    hit = np.zeros((n_cases, c))
    np.add.at(tot, (case, truth), 1.0)
    np.add.at(hit, (case, truth), correct)
    accs, uars = [], []
    for w in multiplicities(n_cases, n_resamples, seed):
        t, h = w @ tot, w @ hit
        with np.errstate(invalid="ignore", divide="ignore"):
            accs.append(h.sum(1) / t.sum(1))
            recall = np.where(t > 0, h / np.where(t > 0, t, 1), np.nan)
            uars.append(np.nanmean(recall, axis=1))
    return {
        "accuracy": percentile_ci(np.concatenate(accs)),
        "uar": percentile_ci(np.concatenate(uars)),
    }


def _calibration(conf: np.ndarray, correct: np.ndarray) -> list[dict[str, Any]]:
    """Accuracy by reported confidence (0-100) bin: are confident answers more often right?"""
    out = []
    for lo, hi in zip(CONFIDENCE_BINS[:-1], CONFIDENCE_BINS[1:], strict=True):
        m = np.isfinite(conf) & (conf >= lo) & (conf < hi)
        n = int(m.sum())
        out.append(
            {
                "bin": [lo, min(hi, 100)],
                "n": n,
                "accuracy": float(correct[m].mean()) if n else None,
                "mean_confidence": float(conf[m].mean()) if n else None,
            }
        )
    return out


def _times(time_ms: np.ndarray) -> dict[str, Any]:
    t = time_ms[np.isfinite(time_ms)]
    if len(t) == 0:
        return {"n": 0, "mean": None, "median": None, "p10": None, "p90": None}
    p10, med, p90 = np.percentile(t, [10, 50, 90])
    return {
        "n": int(len(t)),
        "mean": float(t.mean()),
        "median": float(med),
        "p10": float(p10),
        "p90": float(p90),
    }


def arm_report(
    case: Sequence[int],
    reader: Sequence[int],
    truth: Sequence[int],
    answer: Sequence[int],
    labels: Sequence[str],
    *,
    time_ms: Sequence[float] | None = None,
    confidence: Sequence[float] | None = None,
    reader_names: Sequence[str] | None = None,
    model_answer: dict[int, int] | None = None,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """Every statistic of one arm (JSON-ready). ``case`` ids are any ints; ``truth`` -1 = unknown;
    ``reader`` -1 = anonymous; ``model_answer`` maps case id -> the model's label index."""
    case_ids, case_ix = np.unique(np.asarray(case, np.int64), return_inverse=True)
    reader = np.asarray(reader, np.int64)
    truth = np.asarray(truth, np.int64)
    answer = np.asarray(answer, np.int64)
    n = len(answer)
    c = len(labels)
    t_ms = np.asarray(time_ms, float) if time_ms is not None else np.full(n, np.nan)
    conf = np.asarray(confidence, float) if confidence is not None else np.full(n, np.nan)
    known = truth >= 0
    correct = (answer == truth).astype(float)
    k, nk = int(correct[known].sum()), int(known.sum())
    named = sorted(set(reader[reader >= 0].tolist()))
    names = (
        list(reader_names)
        if reader_names is not None
        else [str(r) for r in range(max(named, default=-1) + 1)]
    )

    pooled = classification_report(truth[known], answer[known], labels, ci=False) if nk else None
    boot = _case_bootstrap(case_ix[known], truth[known], correct[known], c, n_resamples, seed)
    boot_why = u.NO_RESAMPLES if n_resamples <= 0 else u.TWO_CASES
    table = np.zeros((len(case_ids), c), np.int64)
    np.add.at(table, (case_ix, answer), 1)
    agreement = _agreement(table, n_resamples, seed)

    per_reader = []
    for r in named:
        m = (reader == r) & known
        with_ci = bool(n_resamples > 0 and m.sum() >= 2)
        rep = (
            classification_report(
                truth[m], answer[m], labels, ci=with_ci, n_resamples=min(n_resamples, 1000), seed=seed
            )
            if m.any()
            else None
        )
        kr, nr = int(correct[m].sum()), int(m.sum())
        per_reader.append(
            {
                "reader": names[r] if r < len(names) else str(r),
                "n_responses": int((reader == r).sum()),
                "accuracy": u.stat(kr / nr if nr else None, wilson(kr, nr), u.NO_ANSWERS),
                "uar": u.stat(
                    rep["uar"] if rep else None,
                    rep["ci"]["uar"] if rep and "ci" in rep else None,
                    u.NO_ANSWERS,
                    u.NO_RESAMPLES if n_resamples <= 0 else u.TWO_ANSWERS,
                ),
                "confusion": rep["confusion"] if rep else None,
                "mean_time_ms": _times(t_ms[reader == r])["mean"],
            }
        )
    # Cohen's kappa for each reader pair, on the cases both read (named readers only).
    pairs: list[dict] = []
    if len(named) >= 2:
        grid = np.full((len(case_ids), len(named)), -1, np.int64)
        for j, r in enumerate(named):
            m = reader == r
            grid[case_ix[m], j] = answer[m]
        pairs = pairwise_cohen(grid, c, [per_reader[j]["reader"] for j in range(len(named))])
        for p in pairs:
            p["kappa"] = u.finite(p["kappa"])
            p["reason"] = None if p["kappa"] is not None else (u.TWO_ANSWERS if p["n"] < 2 else u.ONE_LABEL)

    report: dict[str, Any] = {
        "n_cases": int(len(case_ids)),
        "n_readers": len(named),
        "n_anonymous_responses": int((reader < 0).sum()),
        "n_responses": int(n),
        "accuracy": {
            **u.stat(k / nk if nk else None, boot["accuracy"], u.NO_ANSWERS, boot_why),
            "wilson": [u.finite(x) for x in wilson(k, nk)],
        },
        "uar": u.stat(pooled["uar"] if pooled else None, boot["uar"], u.NO_ANSWERS, boot_why),
        "confusion": confusion_matrix(truth[known], answer[known], c).tolist() if nk else [[0] * c] * c,
        "fleiss_kappa": agreement["fleiss_kappa"],
        "krippendorff_alpha": agreement["krippendorff_alpha"],
        "fleiss_method": agreement["fleiss_method"],
        "ratings_per_case": agreement["ratings_per_item"],
        "mean_time_ms": _times(t_ms)["mean"],
        "time_ms": _times(t_ms),
        "calibration": _calibration(conf, correct) if np.isfinite(conf).any() else [],
        "per_reader": per_reader,
        "cohen_pairs": pairs,
        "n_resamples": int(n_resamples),
    }
    if model_answer:
        report["model"] = _versus_model(case_ids, case_ix, reader, truth, answer, model_answer, named, c)
    return strict_json.clean(report)


def _agreement(table: np.ndarray, n_resamples: int, seed: int) -> dict[str, Any]:
    """Fleiss' kappa and Krippendorff's alpha, null with the reason where undefined: agreement needs a
    case rated twice (one reader's answers have no agreement, whatever a formula would return)."""
    rated_twice = int((table.sum(1) >= 2).sum()) if len(table) else 0
    rep = agreement_report(table, n_resamples=n_resamples if rated_twice >= 2 else 0, seed=seed)
    ci_why = u.NO_RESAMPLES if n_resamples <= 0 else u.TWO_SHARED_CASES
    for key in ("fleiss_kappa", "krippendorff_alpha"):
        d = rep[key]
        why = u.TWO_READERS if rated_twice == 0 else u.ONE_LABEL
        d.update(u.stat(d["value"] if rated_twice else None, d["ci"], why, ci_why))
    return rep


def _versus_model(
    case_ids: np.ndarray,
    case_ix: np.ndarray,
    reader: np.ndarray,
    truth: np.ndarray,
    answer: np.ndarray,
    model_answer: dict[int, int],
    named: list[int],
    c: int,
) -> dict[str, Any]:
    """Readers versus the model on the same cases: accuracy of each, and kappa of each reader with it."""
    model = np.array([model_answer.get(int(cid), -1) for cid in case_ids], np.int64)
    case_truth = np.full(len(case_ids), -1, np.int64)
    case_truth[case_ix] = truth
    have = (model >= 0) & (case_truth >= 0)
    resp = have[case_ix] & (truth >= 0)
    kappas = []
    for r in named:
        m = (reader == r) & (model[case_ix] >= 0)
        kappas.append(cohen_kappa(answer[m], model[case_ix][m], c) if m.sum() >= 2 else float("nan"))
    return {
        "n_cases": int(have.sum()),
        "model_accuracy": float((model[have] == case_truth[have]).mean()) if have.any() else None,
        "reader_accuracy": float((answer[resp] == truth[resp]).mean()) if resp.any() else None,
        "reader_model_kappa": kappas,
        "mean_reader_model_kappa": float(np.nanmean(kappas)) if np.isfinite(kappas).any() else None,
    }
