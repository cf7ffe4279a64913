"""Figures from a project: load a kind's data, draw it with ``analysis.figures``, write a spec beside it.

A spec is everything needed to draw the figure again: the kind, the project folder, the run(s), the
clip, time range and frame time, the model version of the timelines, size, DPI and options. Defaults
are resolved when a figure is first exported and written into its spec, so ``regenerate(spec)``
gives the same picture until the data itself changes. Specs sit beside the figure (``OUT.json``)
and are recorded in the project (``figure_specs``).

Loaders are a registry too (``register_loader(kind, fn)``, ``fn(project, spec) -> data``); the
built-in "study" kind reads a reader study's statistics (accuracy per arm, agreement, times).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from affectscope import strict_json
from affectscope.analysis.figures import registry, style
from affectscope.app.services import evaluation_runs as runs
from affectscope.app.services.evaluation_runs import EvaluationError
from affectscope.app.services.figure_specs import check_spec
from affectscope.db import evaluations as ev
from affectscope.db import labels as label_rows
from affectscope.db.uow import unit_of_work

SPEC_VERSION = 1
LoaderFn = Callable[[Any, dict[str, Any]], dict[str, Any]]
_LOADERS: dict[str, LoaderFn] = {}


def register_loader(kind: str, fn: LoaderFn) -> None:
    _LOADERS[kind] = fn


def spec_path_for(out: str | Path) -> Path:
    return Path(str(out) + ".json")


def _need_run(spec: dict[str, Any]) -> int:
    if spec.get("run") is None:
        raise EvaluationError(
            f"a {spec['kind']} figure needs an evaluation run (--run ID); see evaluate --project"
        )
    return int(spec["run"])


def _marks(reports: list[dict[str, Any]]) -> str | None:
    """The contamination line a figure over these runs carries (None when every run is clean)."""
    from affectscope.models.provenance import describe, is_contaminated

    lines = [
        f"run {r['run']['id']}: {describe(r.get('contamination'))}"
        for r in reports
        if is_contaminated(r.get("contamination"))
    ]
    return "; ".join(lines) or None


def _load_confusion(project: Any, spec: dict[str, Any]) -> dict[str, Any]:
    rep = runs.run_report(project, _need_run(spec))
    return {"confusion": rep["confusion"], "labels": rep["labels"], "contamination": _marks([rep])}


def _load_per_class(project: Any, spec: dict[str, Any]) -> dict[str, Any]:
    rep = runs.run_report(project, _need_run(spec))
    keys = ("labels", "per_class", "per_class_ci", "uar", "chance_uar")
    return {**{k: rep[k] for k in keys}, "contamination": _marks([rep])}


def _load_reliability(project: Any, spec: dict[str, Any]) -> dict[str, Any]:
    rep = runs.run_report(project, _need_run(spec))
    return {"reliability": rep["reliability"], "contamination": _marks([rep])}


def _load_comparison(project: Any, spec: dict[str, Any]) -> dict[str, Any]:
    ids = spec.get("runs") or []
    if len(ids) != 2:
        raise EvaluationError("a comparison figure needs two runs: --run A --run B")
    out = runs.compare_runs(project, int(ids[0]), int(ids[1]))
    out["contamination"] = _marks([runs.run_report(project, int(i)) for i in ids])
    return out


def _clip_timelines(project: Any, clip_id: int, version_id: int | None) -> tuple[int | None, list, dict]:
    from affectscope.db import predictions as pred_rows
    from affectscope.db import timelines
    from affectscope.db.lineage import version_record

    with unit_of_work(project.db) as s:
        if version_id is None:
            version_id = timelines.newest_timeline_version(s, clip_id)
        if version_id is None:
            return None, [], {}
        labels = list(version_record(s, version_id).labels)
        lanes = {}
        for name in timelines.timeline_modalities(s, version_id, clip_id):
            rows = pred_rows.time_predictions(s, version_id, clip_id, name)
            lanes[name] = {
                "t": [(r.t_start + r.t_end) / 2 for r in rows],
                "probs": [list(r.probs) for r in rows],
            }
    return version_id, labels, lanes


def _resolve_clip(project: Any, spec: dict[str, Any]) -> Any:
    if spec.get("clip") is None:
        raise EvaluationError(f"a {spec['kind']} figure of a clip needs --clip CLIP")
    try:
        return project.clip(spec["clip"])
    except Exception as exc:  # noqa: BLE001 - the db says "no such clip" in its own words
        raise EvaluationError(str(exc)) from None


def _load_modality(project: Any, spec: dict[str, Any]) -> dict[str, Any]:
    if spec.get("clip") is None:
        rep = runs.run_report(project, _need_run(spec))
        if not rep.get("modalities"):
            raise EvaluationError(f"run {spec['run']} holds no per-modality predictions")
        reports = {k: v for k, v in rep["modalities"].items() if k != "fused"}
        reports["fused"] = rep["modalities"]["fused"]
        return {"reports": reports, "chance_uar": rep["chance_uar"], "contamination": _marks([rep])}
    clip = _resolve_clip(project, spec)
    version, labels, lanes = _clip_timelines(project, clip.id, spec.get("model_version_id"))
    if not lanes:
        raise EvaluationError(f"no model has stored timelines for {Path(clip.path).name}; run a model first")
    spec["model_version_id"] = version
    return {"labels": labels, "timelines": {k: v for k, v in lanes.items() if k != "accumulated"}}


def _load_clip(project: Any, spec: dict[str, Any]) -> dict[str, Any]:
    from scipy import signal

    from affectscope.media import NoAudioError, VideoReader, load_audio
    from affectscope.media.waveform import WaveformEnvelope

    clip = _resolve_clip(project, spec)
    spec["clip"] = clip.path
    start = float(spec.get("start") if spec.get("start") is not None else 0.0)
    end = float(spec.get("end") if spec.get("end") is not None else clip.duration)
    if not 0 <= start < end:
        raise EvaluationError(f"--start {start} / --end {end}: the range must satisfy 0 <= start < end")
    spec["start"], spec["end"] = start, end
    frame_t = float(spec.get("frame_t") if spec.get("frame_t") is not None else (start + end) / 2)
    spec["frame_t"] = frame_t
    path = project.clip_file(clip.id)
    with VideoReader(path) as reader:
        _, frame = reader.frame_at(frame_t)
    data: dict[str, Any] = {"frame": np.asarray(frame), "frame_t": frame_t, "start": start, "end": end}
    try:
        audio = load_audio(path)
    except NoAudioError:
        audio = None
    if audio is not None:
        env = WaveformEnvelope(audio.samples, audio.rate, audio.start_time)
        t, lo, hi = env.minmax(start, end, 600)
        data["waveform"] = {"t": t, "min": lo, "max": hi}
        s0 = max(0, int((start - audio.start_time) * audio.rate))
        s1 = max(s0 + 1, int((end - audio.start_time) * audio.rate))
        seg = audio.samples[s0:s1]
        if len(seg) >= 512:
            f, tt, sxx = signal.spectrogram(seg, fs=audio.rate, nperseg=512, noverlap=384)
            data["spectrogram"] = {
                "db": 10 * np.log10(sxx + 1e-10),
                "t0": audio.start_time + s0 / audio.rate,
                "t1": audio.start_time + s1 / audio.rate,
                "f_max": float(f[-1]),
            }
    version, labels, lanes = _clip_timelines(project, clip.id, spec.get("model_version_id"))
    spec["model_version_id"] = version
    data["labels"] = labels or list(project.labels())
    data["timelines"] = {k: v for k, v in lanes.items() if k != "accumulated"}
    with unit_of_work(project.db) as s:
        spans = label_rows.current_spans(s, [clip.id], project.label_set)
    tier = [{"start": sp.start, "end": sp.end, "value": sp.value} for sp in spans]
    if not tier and clip.label:
        tier = [{"start": start, "end": end, "value": clip.label}]
    data["tier"] = tier
    data["title"] = spec.get("options", {}).get("title", Path(clip.path).name)
    return data


def _load_study(project: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """A reader study's results (accuracy per arm with CIs, agreement, answer times), seeded so the
    figure regenerates identically while the answers are unchanged."""
    from affectscope.app.services import study_stats

    if spec.get("study") is None:
        raise EvaluationError(
            "a study figure needs --study ID (affectscope study show --project DIR lists them)"
        )
    options = spec.get("options", {})
    stats = study_stats.study_stats(
        project.db, spec["study"], n_resamples=int(options.get("n_resamples", 1000)), seed=0
    )
    return study_stats.figure_data(project.db, spec["study"], stats)


def _load_continuous(project: Any, spec: dict[str, Any]) -> dict[str, Any]:
    from affectscope.app.services.continuous_eval import figure_data

    options = spec.get("options", {})
    if not options.get("model") or not options.get("reference"):
        raise EvaluationError("a continuous figure needs --model NAME and --reference NAME")
    data = figure_data(project, options["model"], options["reference"], spec.get("clip"))
    spec["clip"] = data["clip"]  # the default clip, written into the spec so a redraw shows the same
    return data


for _kind, _fn in {
    "confusion": _load_confusion,
    "per-class": _load_per_class,
    "reliability": _load_reliability,
    "modality": _load_modality,
    "comparison": _load_comparison,
    "clip": _load_clip,
    "study": _load_study,
    "continuous": _load_continuous,
}.items():
    register_loader(_kind, _fn)


def make_spec(
    project: Any,
    kind: str,
    run: int | None = None,
    runs_: list[int] | None = None,
    clip: str | int | None = None,
    start: float | None = None,
    end: float | None = None,
    study: int | None = None,
    width_mm: float | None = None,
    height_mm: float | None = None,
    dpi: int = style.DEFAULT_DPI,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    try:
        fk = registry.get_kind(kind)
    except KeyError as exc:
        raise EvaluationError(str(exc.args[0])) from None
    if runs_ and len(runs_) == 1 and run is None:
        run, runs_ = runs_[0], None
    return {
        "affectscope_figure": SPEC_VERSION,
        "kind": kind,
        "project": str(Path(project.folder).resolve()),
        "run": run,
        "runs": list(runs_ or []),
        "clip": clip,
        "start": start,
        "end": end,
        "study": study,
        "width_mm": float(width_mm or style.WIDTHS_MM[fk.default_width]),
        "height_mm": height_mm,
        "dpi": int(dpi),
        "options": dict(options or {}),
    }


def load_data(project: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """The kind's data; fills the spec's defaults (clip path, range, frame time, model version)."""
    if spec["kind"] not in _LOADERS:
        raise EvaluationError(f"no data loader for figure kind {spec['kind']!r}")
    return _LOADERS[spec["kind"]](project, spec)


def draw(project: Any, spec: dict[str, Any]) -> Any:
    """A matplotlib Figure for ``spec`` (previews in the window use this)."""
    data = load_data(project, check_spec(spec, Path(project.folder)))
    return registry.make_figure(spec["kind"], data, spec["options"], spec["width_mm"], spec["height_mm"])


def export_figure(project: Any, spec: dict[str, Any], out: str | Path, record: bool = True) -> dict[str, Any]:
    """Draw ``spec`` into ``out`` (.png/.svg/.pdf), write ``OUT.json`` beside it, record it in the project.
    A spec naming another project is refused: drawn from this one's data, it would be recorded here
    under the other's name (issue 23)."""
    out = Path(out)
    try:
        style.output_format(out)
    except ValueError as exc:
        raise EvaluationError(str(exc)) from None
    try:
        spec = json.loads(strict_json.dumps(check_spec(spec, Path(project.folder))))
    except (TypeError, ValueError) as exc:  # a value JSON cannot hold
        raise EvaluationError(f"figure spec: {exc}") from None
    data = load_data(project, spec)
    registry.render(
        spec["kind"], data, out, spec["options"], spec["width_mm"], spec["height_mm"], spec["dpi"]
    )
    spec_file = spec_path_for(out)
    spec_file.write_text(strict_json.dumps(spec, indent=2, sort_keys=True) + "\n")
    figure_id = None
    if record:
        with unit_of_work(project.db, write=True) as s:
            figure_id = ev.record_figure(s, spec["kind"], spec, str(out.resolve()))
    return {"output": str(out), "spec": str(spec_file), "kind": spec["kind"], "figure_id": figure_id}


def read_spec(path: str | Path) -> dict[str, Any]:
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"cannot read the figure spec {path}: {exc}") from None
    except RecursionError:
        raise EvaluationError(f"{path} is nested too deeply to be a figure spec") from None
    if not isinstance(spec, dict) or spec.get("affectscope_figure") != SPEC_VERSION or "kind" not in spec:
        raise EvaluationError(f"{path} is not an Affectscope figure spec (version {SPEC_VERSION})")
    return spec


def regenerate(
    spec_file: str | Path, out: str | Path, project: Any = None, project_folder: str | Path | None = None
) -> dict[str, Any]:
    """Draw the figure a spec describes again, from the project's current data: the project the spec
    names, which must be ``project`` (an open one) or ``project_folder`` (``figure --from SPEC --project
    DIR``) when given; a spec naming another project is refused before anything is opened or drawn."""
    from affectscope.app.services.project import Project

    spec = read_spec(spec_file)
    drawn_in = project.folder if project is not None else project_folder
    check_spec(spec, Path(drawn_in) if drawn_in is not None else None)
    if project is not None:
        return export_figure(project, spec, out)
    with Project.open(spec["project"]) as opened:
        return export_figure(opened, spec, out)


def preview_png(project: Any, spec: dict[str, Any], dpi: int = 100) -> bytes:
    """The figure as PNG bytes, drawn exactly as ``export_figure`` would (for previews)."""
    import io

    import matplotlib as mpl

    data = load_data(project, check_spec(spec, Path(project.folder)))
    fig = registry.make_figure(spec["kind"], data, spec["options"], spec["width_mm"], spec["height_mm"])
    buf = io.BytesIO()
    with mpl.rc_context(style.PAPER_RC):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "Affectscope"})
    return buf.getvalue()
