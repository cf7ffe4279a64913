"""Batch analysis of whole corpora on Dask distributed: extract, predict or evaluate every clip.

The driver (this module) plans the clips (a project's, a folder's or a manifest's), skips those
already done, hands the rest to an engine and writes results into the project database as they
arrive. Engines:

* ``local``: one process, one clip after another (the baseline; no Dask).
* ``dask``: Dask distributed. With ``address`` the driver joins a running scheduler (started with
  ``dask scheduler`` / ``dask worker``, or by dask-jobqueue's ``SLURMCluster`` on a cluster);
  without it a ``LocalCluster`` of ``workers`` processes is started for the batch. Dask's own
  scheduler does the queueing and re-runs the tasks of a worker that dies; nothing here replaces it.

Resumable: a clip is skipped when its work is already stored for the same content hash, extractor
versions and settings (the extraction cache key says exactly that) and, for predict/evaluate, the
same model version (name + weights SHA-256) has its whole-clip prediction in the project database.
Tasks are idempotent (cache entries are renamed into place, predictions of a version replace that
version's earlier ones), so a task re-run after its worker was killed still leaves each clip done
exactly once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectscope.errors import UserFacingError
from affectscope.jobs import Job, ensure_job

COMMANDS = ("extract", "predict", "evaluate")
ENGINES = ("local", "dask")
DEFAULT_MODEL = "lightweight-streaming"


class BatchError(UserFacingError):
    """A batch that cannot start (no clips, unknown engine, unreachable scheduler...)."""


@dataclass(frozen=True)
class BatchItem:
    path: str
    clip_id: int | None = None
    content_hash: str | None = None
    label: str | None = None  # ground truth for evaluate (the project's current label / the manifest's)


def plan_items(
    project: Any = None,
    folder: str | Path | None = None,
    manifest: str | Path | None = None,
    label_set: str | None = None,
) -> list[BatchItem]:
    """The clips of a project (present ones), of a folder (videos, recursively) or of a manifest."""
    if project is not None:
        from affectscope.db.clips import ClipQuery

        query = ClipQuery(label_set=label_set or project.label_set)
        return [
            BatchItem(r.path, r.id, r.content_hash, r.label)
            for r in project.clips(query)
            if r.status != "missing"
        ]
    if folder is not None:
        from affectscope.media import scan_folder

        return [BatchItem(str(p)) for p in scan_folder(folder)]
    if manifest is not None:
        from affectscope.models.registry import LABEL_SETS
        from affectscope.models.training.datasets import read_manifest

        chosen = label_set or "sentiment3"
        samples, _ = read_manifest(manifest, chosen)
        return [BatchItem(str(s.path), label=LABEL_SETS[chosen][s.label]) for s in samples]
    raise BatchError("give a project (--project DIR), a folder (--folder DIR) or a manifest (--manifest CSV)")


@dataclass
class BatchSettings:
    command: str
    model: str = DEFAULT_MODEL
    weights: str | None = None
    allow_untrained: bool = False
    rate_hz: float = 10.0
    modalities: tuple[str, ...] = ()  # extract only; () = all
    engine: str = "local"
    address: str | None = None
    workers: int = 2
    cache_dir: str | None = None  # project folder whose cache/ holds extraction results


def _extract_done(item: BatchItem, settings: BatchSettings) -> bool:
    from affectscope.media import content_hash
    from affectscope.models.extractors import cache as cache_mod
    from affectscope.models.extractors.pipeline import MODALITIES, ExtractSettings, extractor_versions

    modalities = settings.modalities or MODALITIES
    try:
        digest = item.content_hash or content_hash(item.path)
    except UserFacingError:
        return False
    extract = ExtractSettings(modalities=tuple(modalities), rate_hz=float(settings.rate_hz))
    key = cache_mod.cache_key(digest, extractor_versions(extract.modalities), extract.to_json())
    return (cache_mod.cache_root(settings.cache_dir) / key / "signals.json").is_file()


def _stored_probs(project: Any, version_id: int) -> dict[int, tuple[float, ...]]:
    """Whole-clip probabilities this model version already has in the project: clip id -> probs."""
    from affectscope.db import predictions as pred_rows
    from affectscope.db.uow import unit_of_work

    with unit_of_work(project.db) as s:
        return pred_rows.version_clip_probs(s, version_id)


def run_batch(
    items: list[BatchItem],
    settings: BatchSettings,
    project: Any = None,
    job: Job | None = None,
    resume: bool = True,
) -> dict[str, Any]:
    """Run ``settings.command`` over ``items``; returns the summary (see docs/cli.md, ``batch``)."""
    if settings.command not in COMMANDS:
        raise BatchError(f"unknown batch command {settings.command!r}; choose from {', '.join(COMMANDS)}")
    if settings.engine not in ENGINES:
        raise BatchError(f"unknown engine {settings.engine!r}; choose from {', '.join(ENGINES)}")
    if not items:
        raise BatchError("no clips to process (import a folder into the project first)")
    job = ensure_job(job)
    started = time.perf_counter()
    summary: dict[str, Any] = {
        "command": settings.command,
        "engine": settings.engine,
        "address": settings.address,
        "workers": settings.workers if settings.engine == "dask" else 1,
        "clips": len(items),
    }
    version_id, labels, stored, untrained, continuous = None, (), {}, False, False
    if settings.command != "extract":
        from affectscope.app.services.predict import is_untrained
        from affectscope.models.registry import get

        version_id, labels, weights_used = _model_version(settings, project)
        untrained = is_untrained(get(settings.model), settings.weights)
        continuous = get(settings.model).label_set == "continuous"
        summary.update(model=settings.model, model_version=_version_name(weights_used), labels=list(labels))
        # predict's one policy: an untrained model's output is never stored (and the summary says so)
        summary["stored"] = None if project is None else not untrained
        if project is not None and resume:
            stored = _stored_probs(project, version_id)
    else:
        weights_used = None
    todo, skipped = [], []
    for i, item in enumerate(items):
        done = (
            _extract_done(item, settings)
            if settings.command == "extract"
            else item.clip_id is not None and item.clip_id in stored
        )
        (skipped if resume and done else todo).append(i)
    tasks = [_task(i, items[i], settings, weights_used) for i in todo]
    outcomes: dict[int, dict[str, Any]] = {}
    job.progress(len(skipped), len(items), f"{len(skipped)} already done")

    def on_result(outcome: dict[str, Any]) -> None:
        i = outcome["index"]
        if outcome["status"] == "done" and "analysis" in outcome:
            analysis = outcome.pop("analysis")
            outcome["probs"] = [float(p) for p in analysis.clip_probs]
            outcome["label"] = analysis.clip_label
            if project is not None and items[i].clip_id is not None:
                from affectscope.app.services.predict import store_prediction

                store_prediction(project, items[i].clip_id, analysis, untrained)
        outcomes[i] = outcome
        done = len(skipped) + len(outcomes)
        job.progress(done, len(items), f"{Path(outcome['clip']).name}: {outcome['status']}")

    if tasks:
        if settings.engine == "local":
            _run_local(tasks, on_result, job)
        else:
            summary["workers"] = _run_dask(tasks, settings, on_result, job)
    failed = [o for o in outcomes.values() if o["status"] != "done"]
    seconds = time.perf_counter() - started
    summary.update(
        done=len(outcomes) - len(failed),
        skipped=len(skipped),
        failed=len(failed),
        seconds=round(seconds, 3),
        clips_per_minute=round(60.0 * len(outcomes) / seconds, 2) if outcomes and seconds > 0 else None,
        failures=[{"clip": o["clip"], "error": o.get("error", "")} for o in failed],
        model_loads=_model_loads(outcomes.values()),
        undecodable_frames=sum(int(o.get("undecodable_frames", 0)) for o in outcomes.values()),
    )
    if settings.command != "extract":
        results = []
        for i, item in enumerate(items):
            probs = outcomes[i].get("probs") if i in outcomes else stored.get(item.clip_id)
            if probs is not None and continuous:  # values (valence, ...): no class, no confidence
                values = {k: round(float(v), 6) for k, v in zip(labels, probs, strict=True)}
                results.append({"clip": item.path, "label": None, "confidence": None, "values": values})
            elif probs is not None:
                best = max(range(len(probs)), key=probs.__getitem__)
                results.append(
                    {"clip": item.path, "label": labels[best], "confidence": round(probs[best], 6)}
                )
        summary["results"] = results
        if settings.command == "evaluate":
            summary["metrics"] = _metrics(items, results, labels)
            from affectscope.app.services.evaluation_runs import clip_contamination

            scored = {r["clip"] for r in results}
            summary["contamination"] = clip_contamination(
                weights_used, [i.path for i in items if i.label in labels and i.path in scored]
            )
    return summary


def _version_name(weights: str | None) -> str:
    from affectscope.app.services.analysis_store import weights_sha256

    digest = weights_sha256(weights)
    return digest[:12] if digest else "untrained"


def _model_version(settings: BatchSettings, project: Any) -> tuple[int | None, tuple[str, ...], str | None]:
    """The project's row for the model version (created if new), its labels, the weights file used."""
    from affectscope.models.registry import get

    try:
        spec = get(settings.model)
    except KeyError as exc:
        raise BatchError(str(exc.args[0]) + " (see: affectscope models)") from None
    if settings.command == "evaluate" and spec.label_set == "continuous":
        raise BatchError(
            f"{spec.name} gives continuous outputs ({', '.join(spec.labels)}), which no class label scores; "
            f"batch predict them, then: evaluate --project DIR --model {spec.name} --reference REF"
        )
    path = settings.weights or (str(spec.weights_path()) if spec.weights else None)
    if path is None and not settings.allow_untrained:
        raise BatchError(f"model {settings.model!r} has no weights; give --weights or --allow-untrained")
    if settings.weights and not Path(settings.weights).is_file():
        raise BatchError(f"weights file not found: {settings.weights}")
    version_id = None
    if project is not None:
        from affectscope.app.services.analysis_store import record_version

        version_id = record_version(project, spec.name, spec.label_set, spec.labels, path)
    return version_id, tuple(spec.labels), path


def _task(index: int, item: BatchItem, settings: BatchSettings, weights_used: str | None) -> dict[str, Any]:
    return {
        "index": index,
        "command": "extract" if settings.command == "extract" else "predict",
        "path": item.path,
        "modalities": list(settings.modalities or _all_modalities()),
        "rate_hz": settings.rate_hz,
        "cache_dir": settings.cache_dir,
        "model": settings.model,
        "weights": settings.weights,
        "weights_used": weights_used,
        "allow_untrained": settings.allow_untrained,
        # One clip per worker process at a time: one torch thread each, the workers are the parallelism.
        "torch_threads": 1 if settings.engine == "dask" else None,
    }


def _all_modalities() -> tuple[str, ...]:
    from affectscope.models.extractors.pipeline import MODALITIES

    return MODALITIES


def _run_local(tasks: list[dict[str, Any]], on_result, job: Job) -> None:
    from affectscope.app.services.batch_tasks import run_task

    for task in tasks:
        job.check()
        on_result(run_task(task))


def _run_dask(tasks: list[dict[str, Any]], settings: BatchSettings, on_result, job: Job) -> int:
    """Submit every task to Dask and collect outcomes as they complete; returns the worker count."""
    from distributed import Client, LocalCluster, as_completed

    from affectscope.app.services.batch_tasks import run_task

    cluster = None
    try:
        if settings.address:
            client = Client(settings.address, timeout="30s")
        else:
            cluster = LocalCluster(
                n_workers=max(1, settings.workers),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {settings.address}: {exc}") from None
    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        futures = client.map(run_task, tasks, pure=False)
        index_of = {f.key: t["index"] for f, t in zip(futures, tasks, strict=True)}
        pending = as_completed(futures)
        for future in pending:
            if job.cancelled():
                client.cancel(futures)
                job.check()
            try:
                outcome = future.result()
            except Exception as exc:  # KilledWorker (the clip killed workers repeatedly), lost data
                i = index_of[future.key]
                outcome = {
                    "index": i,
                    "clip": tasks[[t["index"] for t in tasks].index(i)]["path"],
                    "status": "failed",
                    "error": f"worker failed on this clip: {type(exc).__name__}: {exc}",
                }
            on_result(outcome)
        return n_workers
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _model_loads(outcomes) -> dict[str, int]:
    """Per worker process: how many times it loaded the model (1 each when loading once per worker)."""
    loads: dict[str, int] = {}
    for o in outcomes:
        if "worker" in o:
            loads[o["worker"]] = max(loads.get(o["worker"], 0), sum(o.get("model_loads", {}).values()))
    return loads


def _metrics(
    items: list[BatchItem], results: list[dict[str, Any]], labels: tuple[str, ...]
) -> dict[str, Any]:
    from affectscope.analysis.metrics import classification_report

    predicted = {r["clip"]: r["label"] for r in results}
    y_true, y_pred = [], []
    for item in items:
        if item.label in labels and item.path in predicted:
            y_true.append(labels.index(item.label))
            y_pred.append(labels.index(predicted[item.path]))
    if not y_true:
        raise BatchError(f"no clip has both a label in {', '.join(labels)} and a prediction to evaluate")
    return classification_report(y_true, y_pred, labels)
