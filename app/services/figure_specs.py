"""Checking a figure spec before anything is drawn or recorded: each field's type and a sane range.

A spec comes from the command line or from a file a person may have edited, so it is input: a run id
that is text, options that are a list, a width of NaN or a million millimetres, a negative or
20,000 dpi, a title of two million characters each failed deep inside matplotlib or SQL with a
traceback (issue 23). ``check_spec`` says in one line which field is wrong and what it must be.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from affectscope.app.services.evaluation_runs import EvaluationError

WIDTH_MM = (20.0, 500.0)  # a journal page is 89-183 mm wide; a poster panel fits under 500
DPI = (30, 2400)
MAX_TITLE = 300
MAX_RESAMPLES = 100_000
PER_CLASS_METRICS = ("precision", "recall", "f1")
RUN_METRICS = ("uar", "accuracy", "macro_f1")
_OPTION_TYPES: dict[str, tuple[type, ...]] = {
    "title": (str,),
    "normalise": (bool,),
    "n_resamples": (int,),
    "metric": (str,),
    "metrics": (list,),
    "model": (str,),  # continuous: the model (or imported predictions) whose traces are drawn
    "reference": (str,),  # continuous: the reference traces they are drawn against
}


def _int_or_none(spec: dict[str, Any], key: str) -> None:
    value = spec.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise EvaluationError(f"figure spec: {key!r} must be a whole number (an id), not {value!r:.60}")


def _number(value: Any, key: str, lo: float, hi: float, required: bool) -> None:
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise EvaluationError(f"figure spec: {key!r} must be a finite number, not {value!r:.60}")
    if not lo <= value <= hi:
        raise EvaluationError(f"figure spec: {key!r} is {value:g}; it must lie between {lo:g} and {hi:g}")


def check_spec(spec: dict[str, Any], project_folder: Path | None = None) -> dict[str, Any]:
    """``spec`` unchanged when every field is usable; EvaluationError naming the first bad one.

    ``project_folder``: the project the figure is drawn in; a spec naming another one is refused
    (it would draw from, and record in, a project the user did not name).
    """
    if not isinstance(spec.get("kind"), str):
        raise EvaluationError(
            f"figure spec: 'kind' must be a figure kind's name, not {spec.get('kind')!r:.60}"
        )
    if not isinstance(spec.get("project"), str) or not spec["project"]:
        raise EvaluationError("figure spec: 'project' must be the project folder's path")
    if project_folder is not None and Path(spec["project"]).resolve() != Path(project_folder).resolve():
        raise EvaluationError(
            f"the figure spec belongs to the project {spec['project']:.300}, not {project_folder}; "
            "redraw it there, or make a new figure in this project"
        )
    for key in ("run", "study", "model_version_id"):
        _int_or_none(spec, key)
    runs = spec.get("runs", [])
    if not isinstance(runs, list) or any(isinstance(r, bool) or not isinstance(r, int) for r in runs):
        raise EvaluationError(f"figure spec: 'runs' must be a list of run ids, not {runs!r:.60}")
    clip = spec.get("clip")
    if clip is not None and (
        isinstance(clip, bool) or not isinstance(clip, (str, int)) or len(str(clip)) > 1024
    ):
        raise EvaluationError(f"figure spec: 'clip' must be a clip path or id, not {clip!r:.60}")
    for key in ("start", "end", "frame_t"):
        _number(spec.get(key), key, 0.0, 1e7, required=False)
    _number(spec.get("width_mm"), "width_mm", *WIDTH_MM, required=True)
    _number(spec.get("height_mm"), "height_mm", *WIDTH_MM, required=False)
    dpi = spec.get("dpi")
    if isinstance(dpi, bool) or not isinstance(dpi, int):
        raise EvaluationError(f"figure spec: 'dpi' must be a whole number, not {dpi!r:.60}")
    _number(dpi, "dpi", *DPI, required=True)
    options = spec.get("options", {})
    if not isinstance(options, dict):
        raise EvaluationError(f"figure spec: 'options' must be an object, not {type(options).__name__}")
    for key, value in options.items():
        kinds = _OPTION_TYPES.get(key)
        if kinds is None:
            raise EvaluationError(
                f"figure spec: unknown option {key!r:.60}; known: {', '.join(_OPTION_TYPES)}"
            )
        if not isinstance(value, kinds) or (kinds != (bool,) and isinstance(value, bool)):
            raise EvaluationError(
                f"figure spec: option {key!r} must be {kinds[0].__name__}, not {value!r:.60}"
            )
    if len(options.get("title", "")) > MAX_TITLE:
        raise EvaluationError(
            f"figure spec: the title has {len(options['title'])} characters (at most {MAX_TITLE})"
        )
    if "n_resamples" in options:
        _number(options["n_resamples"], "n_resamples", 100, MAX_RESAMPLES, required=True)
    metrics = options.get("metrics", list(PER_CLASS_METRICS))
    if not metrics or any(m not in PER_CLASS_METRICS for m in metrics):
        raise EvaluationError(
            f"figure spec: option 'metrics' must list some of {', '.join(PER_CLASS_METRICS)}"
        )
    if options.get("metric", "uar") not in RUN_METRICS:
        raise EvaluationError(f"figure spec: option 'metric' must be one of {', '.join(RUN_METRICS)}")
    return spec
