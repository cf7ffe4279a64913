"""Reader-study results: statistics per arm and assisted-vs-unassisted comparisons, CSV and iMRMC
exports, and the reference table of the CREMA-D crowd ratings (imported by crema_votes.py).

The numbers come from ``affectscope.analysis`` (reader_stats, agreement, mrmc) on arrays read here;
this module only turns database rows into those arrays and the results into JSON-ready dicts.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affectscope import strict_json
from affectscope.analysis import mrmc
from affectscope.analysis import undefined as u
from affectscope.analysis.agreement import N_RESAMPLES
from affectscope.analysis.reader_stats import arm_report
from affectscope.app.services.studies import find_study
from affectscope.db import studies as rows
from affectscope.db.engine import Database
from affectscope.db.uow import unit_of_work
from affectscope.jobs import Job, ensure_job


@dataclass
class StudyData:
    """A study's responses as parallel arrays (one entry per response) plus names to map them back."""

    name: str
    labels: list[str]
    arms: list[dict]
    readers: list[str]
    case_refs: list[str]
    case_clip: list[int | None]
    case_truth: np.ndarray  # (cases,) label index, -1 unknown
    arm: np.ndarray
    case: np.ndarray
    reader: np.ndarray  # -1 anonymous
    answer: np.ndarray
    time_ms: np.ndarray
    confidence: np.ndarray
    rows: list[tuple]  # (response id, note, plays, answered_at) for exports


def load_study(db: Database, study: str | int, with_rows: bool = False) -> StudyData:
    with unit_of_work(db) as s:
        st = find_study(s, study)
        arms = rows.study_arms(s, st.id)
        readers = rows.study_readers(s, st.id)
        cases = rows.study_cases(s, st.id)  # scored cases only: practice answers are never stored
        resp = rows.response_rows(s, st.id, with_rows)  # exports only need notes and timestamps
        assigned = rows.assignment_counts(s, st.id, by="arm")
    labels = list(st.labels)
    index = {v: i for i, v in enumerate(labels)}
    arm_dicts = [
        {"id": a.id, "name": a.name, "presentation": a.presentation, "assistance": a.assistance,
         "model_version_id": a.model_version_id, "n_assigned": int(assigned.get(a.id, 0))}
        for a in arms
    ]  # fmt: skip
    n_columns = 10 if with_rows else 6
    # Rows to plain tuples first: unpacking SQLAlchemy Row objects column-wise is ~10x slower.
    cols = list(zip(*map(tuple, resp), strict=True)) if resp else [()] * n_columns
    return StudyData(
        name=st.name,
        labels=labels,
        arms=arm_dicts,
        readers=[r.name for r in readers],
        case_refs=[c.ref for c in cases],
        case_clip=[c.clip_id for c in cases],
        case_truth=np.array([index.get(c.truth, -1) if c.truth else -1 for c in cases], np.int64),
        arm=_lookup(cols[0], {a.id: i for i, a in enumerate(arms)}),
        case=_lookup(cols[1], {c.id: i for i, c in enumerate(cases)}),
        reader=_lookup(cols[2], {r.id: i for i, r in enumerate(readers)}),
        answer=_lookup(cols[3], index),
        time_ms=np.array(cols[4], dtype=float).reshape(-1),  # None -> nan
        confidence=np.array(cols[5], dtype=float).reshape(-1),
        rows=list(zip(*cols[6:], strict=True)) if with_rows else [],
    )


def _lookup(values: tuple, index: dict) -> np.ndarray:
    """Map database values (integer ids, or labels; None -> -1) to positions."""
    if not values:
        return np.zeros(0, np.int64)
    if all(isinstance(k, int) for k in index):
        ids = np.array(values, dtype=float)  # None -> nan
        keys = np.array(sorted(index), dtype=float)
        out = np.full(len(ids), -1, np.int64)
        ok = np.isfinite(ids)
        if len(keys):
            pos = np.clip(np.searchsorted(keys, ids[ok]), 0, len(keys) - 1)
            found = keys[pos] == ids[ok]
            mapped = np.array([index[int(k)] for k in keys], np.int64)[pos]
            out[np.flatnonzero(ok)[found]] = mapped[found]
        return out
    return np.array([index.get(v, -1) for v in values], np.int64)


def _model_answers(db: Database, model_version_id: int, data: StudyData) -> dict[int, int]:
    """Case index -> the model's label index, for cases whose clip has a prediction of that version."""
    index = {v: i for i, v in enumerate(data.labels)}
    clip_to_case = {c: i for i, c in enumerate(data.case_clip) if c is not None}
    with unit_of_work(db) as s:
        found = rows.model_predictions(s, model_version_id, list(clip_to_case))
    return {clip_to_case[c]: index[v] for c, (v, _) in found.items() if v in index}


def study_stats(
    db: Database, study: str | int, n_resamples: int = N_RESAMPLES, seed: int = 0, job: Job | None = None
) -> dict:
    """The ``study stats --json`` document: per arm statistics, and assisted-minus-unassisted differences."""
    job = ensure_job(job)
    data = load_study(db, study)
    truth = data.case_truth[data.case] if len(data.case) else np.zeros(0, np.int64)
    arms: dict[str, dict] = {}
    helped: dict[int, set[int]] = {}  # assisted arm -> the cases the model's answer was shown for
    for i, arm in enumerate(data.arms):
        job.check()
        job.progress(i, len(data.arms) + 1, f"arm {arm['name']}")
        m = data.arm == i
        model = _model_answers(db, arm["model_version_id"], data) if arm["model_version_id"] else None
        if model is not None:
            helped[i] = set(model)
        report = arm_report(
            data.case[m],
            data.reader[m],
            truth[m],
            data.answer[m],
            data.labels,
            time_ms=data.time_ms[m],
            confidence=data.confidence[m],
            reader_names=data.readers,
            model_answer=model,
            n_resamples=n_resamples,
            seed=seed,
        )
        arms[arm["name"]] = {
            **{k: arm[k] for k in ("presentation", "assistance")},
            **report,
            "n_assigned": arm["n_assigned"],
            "interim": bool(arm["n_assigned"]) and int(m.sum()) < arm["n_assigned"],
        }
        if model is not None:
            arms[arm["name"]]["n_cases_assisted"] = len(model)
    job.progress(len(data.arms), len(data.arms) + 1, "assisted vs unassisted")
    return strict_json.clean(
        {
            "study": data.name,
            "labels": data.labels,
            "n_resamples": n_resamples,
            "interim": any(a["interim"] for a in arms.values()),
            "arms": arms,
            "assisted_minus_unassisted": _comparisons(data, truth, n_resamples, seed, helped),
        }
    )


def _comparisons(
    data: StudyData, truth: np.ndarray, n_resamples: int, seed: int, helped: dict[int, set[int]]
) -> list[dict]:
    """Each model-assisted arm against the unassisted arm of the same presentation (or the only one),
    on the cases the model's answer was in fact shown for (a case kept without a prediction was read
    unassisted in the assisted arm too: counting it would dilute the difference)."""
    out = []
    plain = [i for i, a in enumerate(data.arms) if a["assistance"] == "none"]
    known = (truth >= 0) & (data.reader >= 0)
    correct = (data.answer == truth).astype(float)
    for i, arm in enumerate(data.arms):
        if arm["assistance"] != "model":
            continue
        same = [j for j in plain if data.arms[j]["presentation"] == arm["presentation"]]
        base = same or (plain if len(plain) == 1 else [])
        for j in base:
            mats = []
            for k in (i, j):
                m = known & (data.arm == k)
                mats.append(
                    mrmc.correctness_matrix(
                        data.reader[m], data.case[m], correct[m], len(data.readers), len(data.case_refs)
                    )
                )
            # Only readers and cases seen in both arms, and cases the model's answer was shown for,
            # enter the paired comparison.
            shown = np.isin(np.arange(len(data.case_refs)), sorted(helped.get(i, ())))
            both_r = np.isfinite(mats[0]).any(1) & np.isfinite(mats[1]).any(1)
            both_c = np.isfinite(mats[0]).any(0) & np.isfinite(mats[1]).any(0) & shown
            res = mrmc.two_way_bootstrap(
                mats[0][both_r][:, both_c], mats[1][both_r][:, both_c], n_resamples=n_resamples, seed=seed
            )
            res["per_reader"] = dict(
                zip(
                    [r for r, ok in zip(data.readers, both_r, strict=True) if ok],
                    res["per_reader"],
                    strict=True,
                )
            )
            why = "needs readers who answered cases with a reference label in both arms"
            ci_why = (
                u.NO_RESAMPLES if n_resamples <= 0 else "a confidence interval needs 2 cases and 2 readers"
            )
            res.update(u.stat(res["value"], res["ci"], why, ci_why))
            res["n_cases_without_assistance"] = int((~shown).sum())
            out.append({"assisted": arm["name"], "unassisted": data.arms[j]["name"], **res})
    return out


def figure_data(db: Database, study: str | int, stats: dict) -> dict:
    """Data for the figures registry's "study" kind: ``registry_data`` plus each arm's answer times."""
    from affectscope.analysis.study_figure import registry_data

    d = load_study(db, study)
    times = {
        a["name"]: [float(t) / 1000.0 for t in d.time_ms[(d.arm == i) & np.isfinite(d.time_ms)]]
        for i, a in enumerate(d.arms)
    }
    return registry_data(stats, {k: v for k, v in times.items() if v})


# -- exports -------------------------------------------------------------------------------------------------
CSV_COLUMNS = (
    "study", "arm", "presentation", "assistance", "case", "case_ref", "clip_id", "truth", "reader",
    "label", "correct", "confidence", "note", "time_ms", "plays", "answered_at",
)  # fmt: skip


def export_csv(db: Database, study: str | int, path: str | Path) -> int:
    """One row per response (the long format every statistics package reads); returns the row count."""
    d = load_study(db, study, with_rows=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for k in range(len(d.answer)):
            arm, case = d.arms[d.arm[k]], d.case[k]
            t = d.case_truth[case]
            rid, note, plays, when = d.rows[k]
            w.writerow(
                [
                    d.name, arm["name"], arm["presentation"], arm["assistance"], case + 1, d.case_refs[case],
                    d.case_clip[case] or "", d.labels[t] if t >= 0 else "",
                    d.readers[d.reader[k]] if d.reader[k] >= 0 else "", d.labels[d.answer[k]],
                    "" if t < 0 else int(d.answer[k] == t),
                    "" if np.isnan(d.confidence[k]) else int(d.confidence[k]), note or "",
                    "" if np.isnan(d.time_ms[k]) else f"{d.time_ms[k]:.1f}", plays, when.isoformat(),
                ]
            )  # fmt: skip
    return len(d.answer)


def export_imrmc(db: Database, study: str | int, path: str | Path) -> int:
    """The iMRMC input file (percent-correct form, see analysis/mrmc.py); returns reader observations."""
    d = load_study(db, study)
    obs = []
    for k in range(len(d.answer)):
        t = d.case_truth[d.case[k]]
        if d.reader[k] < 0 or t < 0:
            continue  # iMRMC needs named readers and a truth
        obs.append(
            (d.readers[d.reader[k]], int(d.case[k]) + 1, d.arms[d.arm[k]]["name"], float(d.answer[k] == t))
        )
    cases = sorted({c for _, c, _, _ in obs})
    lines = mrmc.imrmc_lines(
        obs,
        cases,
        [a["name"] for a in d.arms],
        f"Affectscope reader study {d.name!r}: score 1 = the reader's label equals the reference label",
    )
    Path(path).write_text("\n".join(lines) + "\n")
    return len(obs)


# -- CREMA-D ----------------------------------------------------------------------------------------------
def crema_table(stats: dict) -> list[str]:
    """The reference table (markdown) of per-presentation recognition and agreement."""
    lines = [
        "| presentation | clips | responses | accuracy [95 % CI] | UAR | Fleiss' kappa [95 % CI] "
        "| Krippendorff's alpha [95 % CI] |",
        "|---|---|---|---|---|---|---|",
    ]  # fmt: skip

    def fmt(d: dict) -> str:
        return format_stat(d)

    for arm, r in stats["arms"].items():
        lines.append(
            f"| {arm} | {r['n_cases']} | {r['n_responses']} | {fmt(r['accuracy'])} "
            f"| {fmt({**r['uar'], 'ci': None})} | {fmt(r['fleiss_kappa'])} | {fmt(r['krippendorff_alpha'])} |"
        )
    return lines


def studies_of(db: Database) -> Iterable[str]:
    with unit_of_work(db) as s:
        return rows.study_names(s)


def format_stat(d: dict, digits: int = 3, signed: bool = False) -> str:
    """``0.812 [0.700, 0.900]``, ``0.812`` (no CI asked), or ``n/a (needs at least 2 readers)``: the one
    way the CLI text, the window and the tables write a statistic."""
    v, ci = d.get("value"), d.get("ci")
    f = f"{{:{'+' if signed else ''}.{digits}f}}"
    if v is None:
        return f"n/a ({d['reason']})" if d.get("reason") else "n/a"
    if ci is None:
        return f.format(v)
    if None in ci:
        return f.format(v) + (f" [CI n/a: {d['reason']}]" if d.get("reason") else " [CI n/a]")
    return f"{f.format(v)} [{f.format(ci[0])}, {f.format(ci[1])}]"
