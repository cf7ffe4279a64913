"""Evaluation runs in a project: score a model against the project's labels, store every clip's
prediction, and read runs back as reports, confusion cells and run-versus-run comparisons.

``evaluate_project`` reuses the predictions a model version already stored for a clip (same name and
weights hash) and runs the model only where none exist, so evaluating after "Run model" is quick.
Label sources: "current", "majority", "annotator:NAME" and "study:ID" (the majority answer of a
reader study's readers, ties left out) built in; more join with ``register_label_source(prefix, fn)``,
``fn(project, label_set, arg)`` returning ``{clip_id: label}``. ``store_run`` takes plain arrays
(imports, tests, benchmarks).

Selections flow back with ``send_clips(project, "relabel" | "study", clip_ids, source)``; the
relabel queue and the reader-study builder read ``pending_clip_selections(project, purpose)`` and mark
what they took with ``take_clip_selection``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectscope import strict_json
from affectscope.analysis.calibration import reliability
from affectscope.analysis.comparison import compare_predictions, per_modality_reports
from affectscope.analysis.intervals import per_class_ci
from affectscope.analysis.metrics import classification_report
from affectscope.db import evaluations as ev
from affectscope.db import predictions as pred_rows
from affectscope.db.label_sets import LabelError
from affectscope.db.uow import unit_of_work
from affectscope.errors import UserFacingError
from affectscope.jobs import Job, ensure_job

LabelSourceFn = Callable[[Any, str, str], dict[int, str]]
_LABEL_SOURCES: dict[str, LabelSourceFn] = {}  # "study" joins below, once study_majority is defined
LANES_SKIPPED = ("fused", "accumulated")  # the rest of a model's time lanes are its modality heads


class EvaluationError(UserFacingError):
    """An evaluation that cannot run as asked (no labelled clips, unknown run, other labels)."""


def register_label_source(prefix: str, fn: LabelSourceFn) -> None:
    """``fn(project, label_set, arg)`` for sources written ``prefix:arg`` (e.g. ``study:3``)."""
    _LABEL_SOURCES[prefix] = fn


def study_majority(project: Any, label_set: str, study: str) -> dict[int, str]:
    """Each clip's most common reader answer in one reader study (ties and other label sets left out)."""
    from collections import Counter

    from affectscope.app.services import studies

    with unit_of_work(project.db) as s:
        st = studies.find_study(s, study)
        name, study_set = st.name, st.label_set
    if study_set != label_set:
        raise EvaluationError(f"study {name!r} answers in {study_set}, not {label_set}")
    out: dict[int, str] = {}
    for clip_id, votes in studies.clip_reader_votes(project.db, label_set=label_set).items():
        counts = Counter(v.label for v in votes if v.study == name).most_common(2)
        if counts and (len(counts) == 1 or counts[0][1] > counts[1][1]):
            out[clip_id] = counts[0][0]
    return out


register_label_source("study", study_majority)


def reference_labels(project: Any, label_set: str, source: str) -> dict[int, str]:
    prefix, _, arg = source.partition(":")
    if prefix in _LABEL_SOURCES:
        return _LABEL_SOURCES[prefix](project, label_set, arg)
    with unit_of_work(project.db) as s:
        try:
            return ev.reference_labels(s, label_set, source)
        except LabelError as exc:
            raise EvaluationError(str(exc)) from None


@dataclass(frozen=True)
class RunSummary:
    id: int
    title: str
    n: int
    labels: tuple[str, ...]


def _title(r: ev.RunRecord) -> str:
    from affectscope.models.provenance import is_contaminated

    mark = " CONTAMINATED" if is_contaminated(r.clip_set.get("contamination")) else ""
    if "heldout_of" in r.clip_set:
        mark = f" held out by v{r.clip_set['heldout_of']}{mark}"
    return (
        f"#{r.id} {r.model_name} vs {r.label_source} ({r.n_items} clips, {r.created_at:%Y-%m-%d %H:%M})"
        + mark
    )


def list_runs(project: Any) -> list[RunSummary]:
    with unit_of_work(project.db) as s:
        return [RunSummary(r.id, _title(r), r.n_items, r.labels) for r in ev.list_runs(s)]


def get_run(project: Any, run_id: int) -> ev.RunRecord:
    with unit_of_work(project.db) as s:
        try:
            return ev.get_run(s, run_id)
        except LabelError as exc:
            raise EvaluationError(str(exc)) from None


# -------------------------------------------------------------------------------- creating runs
def _mapped(probs: np.ndarray, source: Sequence[str], target: Sequence[str], target_set: str) -> np.ndarray:
    from affectscope.models.evaluation import to_label_set

    return to_label_set(np.atleast_2d(np.asarray(probs, dtype=float)), source, target, target_set)


def _worst_window(times: list[tuple[float, float]], probs: np.ndarray, true_index: int) -> float | None:
    """Centre of the window where the model gave its highest probability to a wrong class."""
    if not len(times):
        return None
    wrong = probs.copy()
    wrong[:, true_index] = -1.0
    k = int(wrong.max(1).argmax())
    return float((times[k][0] + times[k][1]) / 2)


def _imported_version(project: Any, model: str) -> Any:
    """The newest version named ``model`` that is no registered system (imported predictions), or None."""
    with unit_of_work(project.db) as s:
        versions = pred_rows.versions_named(s, model)
    return versions[-1] if versions else None


def _version(project: Any, version_id: int) -> Any:
    from affectscope.db.lineage import version_record

    with unit_of_work(project.db) as s:
        try:
            return version_record(s, version_id)
        except LabelError as exc:
            raise EvaluationError(str(exc)) from None


def _has_prediction(project: Any, version_id: int, clip_id: int) -> bool:
    with unit_of_work(project.db) as s:
        return any(p.model_version_id == version_id for p in pred_rows.clip_predictions(s, clip_id))


def _adapt_to_clips(
    spec: Any, weights: str | None, allow_untrained: bool, paths: list[str], speakers: list[str]
) -> None:
    """A model that normalises with statistics of the clips it analyses (the eGeMAPS reference:
    per speaker, from the clips' speaker metadata or file names) computes them from the project's
    own clips before any is scored."""
    from affectscope.errors import WeightsError
    from affectscope.models.inference import load_model, signals_for_file

    try:
        _, loaded = load_model(spec.name, weights, allow_untrained)
    except WeightsError:  # stored predictions may still be scored; a new analysis will say why not
        return
    if hasattr(loaded, "adapt"):  # seed 004 adapts on sound alone: no perception of the video for it
        mods = tuple(getattr(loaded, "adapt_modalities", spec.modalities))
        loaded.adapt((signals_for_file(p, mods), s) for p, s in zip(paths, speakers, strict=True))


def evaluate_project(
    project: Any,
    model: str,
    weights: str | None = None,
    label_source: str = "current",
    label_set: str | None = None,
    allow_untrained: bool = False,
    rerun: bool = False,
    job: Job | None = None,
    version: int | None = None,
) -> int:
    """Score ``model`` on every present clip with a reference label; store the run; return its id.

    A version retrained in this project (``version``, or named by ``model``/``weights``) is scored on
    its own held-out clips only (``retrained_eval``): its training clips would flatter it."""
    from affectscope.app.services import retrained_eval
    from affectscope.app.services.analysis_store import record_version, store_analysis, weights_sha256
    from affectscope.models.registry import get

    job = ensure_job(job)
    label_set = label_set or project.label_set
    target = project.labels(label_set)
    imported = None
    if version is not None:
        imported = _version(project, version)
        model, weights = imported.name, imported.config.get("weights")
    try:
        spec = get(model)
    except KeyError as exc:
        imported = imported or _imported_version(project, model)  # predictions imported under this name
        if imported is None:
            raise EvaluationError(str(exc.args[0])) from None
        if imported.config.get("kind") == "continuous":
            raise EvaluationError(f"{model} gives continuous values, not classes (score it by CCC)") from None
        spec = imported
    if imported is None:
        weights = weights or (str(spec.weights_path()) if spec.weights_path() else None)
    refs = reference_labels(project, label_set, label_source)
    clips = [c for c in project.clips() if c.id in refs and refs[c.id] in target and c.status == "ok"]
    if not clips:
        raise EvaluationError(f"no present clips with {label_source} labels in {label_set} to evaluate on")
    scope: dict[str, Any] = {"clips": "all present with a reference label"}
    digest = imported.weights_sha256 if imported is not None else weights_sha256(weights)
    lin = retrained_eval.retrained_lineage(project, imported.id if imported else None, digest)
    if lin is not None:  # its test part only; the predictions it lacks there are made and stored first
        held = retrained_eval.predict_heldout(project, lin, job)
        clips = [c for c in clips if c.id in held]
        if not clips:
            raise EvaluationError(
                f"none of the clips version {lin.model_version_id} held out has a {label_source} label"
            )
        imported = _version(project, lin.model_version_id)
        scope = retrained_eval.heldout_scope(lin)
    if imported is None:
        version_id = record_version(project, spec.name, spec.label_set, spec.labels, weights)
    else:
        version_id = imported.id
        clips = [c for c in clips if _has_prediction(project, version_id, c.id)]
        if not clips:
            raise EvaluationError(f"{model} has no predictions for the labelled clips of {label_set}")
    contamination = clip_contamination(
        weights, [c.path for c in clips], [getattr(c, "speaker", None) for c in clips]
    )
    if imported is None:
        from affectscope.models.training.datasets import speaker_of

        speakers = [getattr(c, "speaker", None) or speaker_of(c.path) for c in clips]
        _adapt_to_clips(spec, weights, allow_untrained, [c.path for c in clips], speakers)
    items = []
    for i, clip in enumerate(clips):
        job.check()
        job.progress(i, len(clips), f"evaluate {model}: {Path(clip.path).name}")
        with unit_of_work(project.db) as s:
            stored = [p for p in pred_rows.clip_predictions(s, clip.id) if p.model_version_id == version_id]
        if imported is None and (rerun or not stored):
            from affectscope.models.inference import analyse_clip

            analysis = analyse_clip(clip.path, spec.name, weights=weights, allow_untrained=allow_untrained)
            store_analysis(project, clip.id, analysis)
        with unit_of_work(project.db) as s:
            clip_probs = [
                p for p in pred_rows.clip_predictions(s, clip.id) if p.model_version_id == version_id
            ]
            lanes = {}
            for lane in ev.stored_lanes(s, version_id, clip.id):  # every head the model has
                rows = pred_rows.time_predictions(s, version_id, clip.id, lane)
                if rows:
                    lanes[lane] = rows
        true_index = target.index(refs[clip.id])
        probs = _mapped(clip_probs[-1].probs, spec.labels, target, label_set)[0]
        modality = {
            lane: _mapped([r.probs for r in rows], spec.labels, target, label_set).mean(0).tolist()
            for lane, rows in lanes.items()
            if lane not in LANES_SKIPPED
        }
        worst = None
        if "fused" in lanes:
            fused = _mapped([r.probs for r in lanes["fused"]], spec.labels, target, label_set)
            worst = _worst_window([(r.t_start, r.t_end) for r in lanes["fused"]], fused, true_index)
        items.append(ev.ItemInput(clip.id, clip.path, true_index, probs.tolist(), modality, worst))
    job.progress(len(clips), len(clips), "storing the run")
    with unit_of_work(project.db, write=True) as s:
        run_id = ev.create_run(
            s,
            spec.name,
            label_set,
            target,
            label_source,
            {**scope, "contamination": contamination},
            items,
            model_version_id=version_id,
            weights_sha256=weights_sha256(weights) if imported is None else imported.weights_sha256,
        )
    run_report(project, run_id)  # computed once and cached with the run
    return run_id


def clip_contamination(
    weights: str | None, paths: Sequence[str], speakers: Sequence[str | None] = ()
) -> dict[str, Any] | None:
    """How the clips overlap what trained, validated and tuned ``weights`` (``models.provenance``):
    by content hash and by speaker (a clip's stored speaker where given, else ``speaker_of``'s reading
    of corpus file names); None without records."""
    from affectscope.models.training.datasets import speaker_of
    from affectscope.models.weights import weights_contamination

    given = list(speakers) or [None] * len(paths)
    kept = [(p, s or speaker_of(p)) for p, s in zip(paths, given, strict=True) if Path(p).is_file()]
    return weights_contamination(weights, [p for p, _ in kept], [s for _, s in kept])


def store_run(
    project: Any,
    model_name: str,
    labels: Sequence[str],
    y_true: Sequence[int],
    probs: np.ndarray,
    clip_ids: Sequence[int | None],
    paths: Sequence[str],
    label_source: str = "import",
    label_set: str | None = None,
    modality_probs: dict[str, np.ndarray] | None = None,
    worst_t: Sequence[float | None] | None = None,
    clip_set: dict[str, Any] | None = None,
) -> int:
    """Store a run from arrays (an imported manifest evaluation, a benchmark); returns its id."""
    probs = np.asarray(probs, dtype=float)
    items = (
        ev.ItemInput(
            clip_ids[i],
            paths[i],
            int(y_true[i]),
            probs[i],
            {k: v[i] for k, v in (modality_probs or {}).items()},
            worst_t[i] if worst_t is not None else None,
        )
        for i in range(len(y_true))
    )
    with unit_of_work(project.db, write=True) as s:
        return ev.create_run(
            s, model_name, label_set or project.label_set, labels, label_source, clip_set or {}, items
        )


# -------------------------------------------------------------------------------- reading runs
def run_data(project: Any, run_id: int) -> tuple[ev.RunRecord, dict[str, np.ndarray]]:
    """The run and its items as arrays: true, pred, probs (n, C), modality {name: (n, C), NaN = none}."""
    with unit_of_work(project.db) as s:
        run = get_run(project, run_id)
        cols = ev.run_arrays(s, run_id)
    c = len(run.labels)
    n = len(cols["true"])
    names = sorted({k for m in cols["modality"] for k in m})
    modality = {k: np.full((n, c), np.nan) for k in names}
    for i, m in enumerate(cols["modality"]):
        for k, v in m.items():
            modality[k][i] = v
    arrays = {
        "true": np.asarray(cols["true"], int),
        "pred": np.asarray(cols["pred"], int),
        "probs": np.asarray(cols["probs"], float).reshape(n, c),
        "clip_id": np.asarray([-1 if x is None else x for x in cols["clip_id"]], int),
        "path": cols["path"],
        "modality": modality,
    }
    return run, arrays


def run_report(project: Any, run_id: int, refresh: bool = False) -> dict[str, Any]:
    """Metrics with CIs, per-class CIs, calibration and per-modality reports; cached with the run."""
    with unit_of_work(project.db) as s:
        cached = {} if refresh else ev.cached_report(s, run_id)
    if cached:
        cached.setdefault("contamination", None)  # runs stored before issue 19: unknown
        return cached
    run, a = run_data(project, run_id)
    report = classification_report(a["true"], a["pred"], run.labels)
    report["per_class_ci"] = per_class_ci(a["true"], a["pred"], run.labels)
    report["reliability"] = reliability(a["probs"], a["true"])
    heads = {**a["modality"], "fused": a["probs"]}
    report["modalities"] = per_modality_reports(a["true"], heads, run.labels) if a["modality"] else {}
    report["contamination"] = run.clip_set.get("contamination")
    report["run"] = {
        "id": run.id,
        "model": run.model_name,
        "weights_sha256": run.weights_sha256,
        "label_source": run.label_source,
        "label_set": run.label_set,
        "created_at": run.created_at.isoformat(),
    }
    report = json.loads(strict_json.dumps(report))  # plain JSON types, as the cache returns them
    with unit_of_work(project.db, write=True) as s:
        ev.set_report(s, run_id, report)
    return report


def confusion(project: Any, run_id: int) -> list[list[int]]:
    run = get_run(project, run_id)
    with unit_of_work(project.db) as s:
        return ev.confusion_counts(s, run_id, len(run.labels))


def cell_clips(
    project: Any, run_id: int, true_index: int, pred_index: int, limit: int | None = None
) -> list[ev.ItemRecord]:
    """Exactly the clips whose reference is ``true_index`` and prediction ``pred_index``."""
    with unit_of_work(project.db) as s:
        return ev.cell_items(s, run_id, true_index, pred_index, limit)


def compare_runs(project: Any, run_a: int, run_b: int, n_resamples: int = 1000) -> dict[str, Any]:
    """McNemar and the paired bootstrap UAR difference on the clips both runs scored (same labels)."""
    ra, a = run_data(project, run_a)
    rb, b = run_data(project, run_b)
    if ra.labels != rb.labels:
        raise EvaluationError(f"runs {run_a} and {run_b} score different label lists; compare like with like")
    key_a = {(c if c >= 0 else p): i for i, (c, p) in enumerate(zip(a["clip_id"], a["path"], strict=True))}
    pairs = [
        (key_a[k], j)
        for j, k in enumerate(c if c >= 0 else p for c, p in zip(b["clip_id"], b["path"], strict=True))
        if k in key_a
    ]
    if not pairs:
        raise EvaluationError(f"runs {run_a} and {run_b} share no clips")
    ia, ib = (np.asarray(x, int) for x in zip(*pairs, strict=True))
    same_truth = a["true"][ia] == b["true"][ib]
    ia, ib = ia[same_truth], ib[same_truth]
    out = compare_predictions(a["true"][ia], a["pred"][ia], b["pred"][ib], ra.labels, n_resamples=n_resamples)
    out.update(
        name_a=f"#{ra.id} {ra.model_name}",
        name_b=f"#{rb.id} {rb.model_name}",
        left_out_different_truth=int((~same_truth).sum()),
    )
    return json.loads(strict_json.dumps(out))


# -------------------------------------------------------------------------------- selections
def send_clips(project: Any, purpose: str, clip_ids: Sequence[int], source: str) -> int:
    """Hand clips to the relabel queue ("relabel") or a new reader study ("study"); returns the id."""
    with unit_of_work(project.db, write=True) as s:
        try:
            return ev.add_selection(s, purpose, [int(c) for c in clip_ids], source)
        except LabelError as exc:
            raise EvaluationError(str(exc)) from None


def pending_clip_selections(project: Any, purpose: str) -> list[tuple[int, str, list[int]]]:
    with unit_of_work(project.db) as s:
        return ev.pending_selections(s, purpose)


def take_clip_selection(project: Any, selection_id: int) -> list[int]:
    with unit_of_work(project.db, write=True) as s:
        return ev.consume_selection(s, selection_id)
