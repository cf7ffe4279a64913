"""Predictions from outside as model versions, and any version's predictions out as files.

``import_predictions`` turns a file of per-window predictions (a colleague's pipeline, another tool)
into a model version named NAME: the same tables a model run fills, so lanes, evaluation, the relabel
queue and reader studies use it like any version. Every row is checked (and every clip found) before
anything is written, in one transaction; importing the same file again rewrites the same version
(its id is the file's SHA-256), so it is idempotent. ``export_predictions`` writes a version back out;
CSV and JSON exports read back through ``import_predictions`` to the same numbers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affectscope.app.services.prediction_files import (
    PredictionFileError,
    PredictionRow,
    PredictionTable,
    check_range,
    guess_format,
    read_table,
    write_csv,
    write_eaf,
    write_json,
)
from affectscope.db import predictions as pred_rows
from affectscope.db.label_sets import LabelError
from affectscope.db.uow import unit_of_work

CONTINUOUS = "continuous"  # the label-set column of versions whose outputs are continuous values
FROM_WINDOWS = "mean of fused windows"  # clip decision of a file that gives none


@dataclass
class ImportResult:
    name: str
    version: str
    model_version_id: int
    kind: str
    label_set: str | None
    columns: list[str]
    clips: int
    rows: int
    lanes: list[str]
    clip_decision: str  # "file" or FROM_WINDOWS

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ExportResult:
    model: str
    version: str
    format: str
    rows: int
    clips: int
    files: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_name(name: str) -> None:
    from affectscope.models.registry import all_specs

    if not name or not name.strip() or "@" in name or len(name) > 128:
        raise PredictionFileError(f"--name {name!r}: give a name of 1-128 characters without '@'")
    if name in {spec.name for spec in all_specs()}:
        raise PredictionFileError(f"{name} is a registered model; give the imported predictions another name")


def _resolve_clips(project: Any, table: PredictionTable, source: str) -> dict[str, Any]:
    """Clip reference -> ClipRecord for every clip the file names; all unknown ones named at once."""
    found, missing = {}, []
    for ref in dict.fromkeys(r.clip for r in table.rows):
        try:
            found[ref] = project.clip(ref)
        except LabelError as exc:
            missing.append(str(exc))
    if missing:
        more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
        raise PredictionFileError(f"{source}: nothing imported; " + "; ".join(missing[:3]) + more)
    late = [
        f"{r.clip} {r.modality} window at {r.start} s starts after the clip ends "
        f"({found[r.clip].duration:.3f} s)"
        for r in table.rows
        if r.start is not None and r.start >= found[r.clip].duration
    ]
    if late:
        raise PredictionFileError(f"{source}: nothing imported; " + "; ".join(late[:3]))
    return found


def import_predictions(
    project: Any,
    path: str | Path,
    name: str,
    fmt: str | None = None,
    label_set: str | None = None,
    continuous: bool = False,
    ranges: dict[str, tuple[float, float]] | None = None,
) -> ImportResult:
    """Store the predictions of ``path`` as a version of model ``name`` (see the module docstring);
    ``ranges`` give continuous outputs their extent (the lanes draw it)."""
    path = Path(path)
    _check_name(name)
    table = read_table(path, fmt, project.label_sets(), label_set, continuous)
    for output, (lo, hi) in (ranges or {}).items():  # --range: over what the file declares
        if table.kind != "continuous" or output not in table.columns:
            raise PredictionFileError(
                f"--range {output}={lo}:{hi}: name a continuous output of the file "
                f"({', '.join(table.columns)})"
            )
        table.ranges[output] = check_range(output, lo, hi, "--range")
    clips = _resolve_clips(project, table, path.name)
    per_clip: dict[str, dict[str, list[PredictionRow]]] = {}
    decisions: dict[str, PredictionRow] = {}
    for r in table.rows:
        if r.start is None:
            decisions[r.clip] = r
        else:
            per_clip.setdefault(r.clip, {}).setdefault(r.modality, []).append(r)
    undecided = [c for c in clips if c not in decisions and "fused" not in per_clip.get(c, {})]
    if undecided:
        raise PredictionFileError(
            f"{path.name}: nothing imported; {undecided[0]} has neither a clip decision (a row without "
            "start and end) nor fused windows to average"
        )
    given = bool(decisions)
    if given and len(decisions) != len(clips):
        raise PredictionFileError(
            f"{path.name}: nothing imported; give a clip decision for every clip or for none "
            f"({len(decisions)} of {len(clips)} have one)"
        )
    clip_decision = "file" if given else FROM_WINDOWS
    digest = _file_sha(path)
    config = {
        "source": "import",
        "file": str(path.resolve()),
        "format": guess_format(path, fmt),
        "kind": table.kind,
        "clip_decision": clip_decision,
        "ranges": {k: list(v) for k, v in table.ranges.items()},
    }
    written = 0
    with unit_of_work(project.db, write=True) as s:
        version = pred_rows.record_model_version(
            s, name, f"import-{digest[:12]}", table.label_set or CONTINUOUS, table.columns, digest, config
        )
        for ref, clip in clips.items():
            lanes = per_clip.get(ref, {})
            if ref in decisions:
                decision = list(decisions[ref].values)
            else:
                decision = np.mean([r.values for r in lanes["fused"]], axis=0).tolist()
            written += pred_rows.add_predictions(s, version.id, clip.id, clip_probs=decision)
            for lane, rows in lanes.items():
                timeline = [(r.start, r.end, r.values) for r in rows]
                written += pred_rows.add_predictions(s, version.id, clip.id, timeline=timeline, modality=lane)
    return ImportResult(
        name=name,
        version=version.version,
        model_version_id=version.id,
        kind=table.kind,
        label_set=table.label_set,
        columns=list(table.columns),
        clips=len(clips),
        rows=len(table.rows),
        lanes=sorted({r.modality for r in table.rows if r.start is not None}),
        clip_decision=clip_decision,
    )


def find_version(project: Any, model: str) -> Any:
    """The newest version of ``model`` (``NAME`` or ``NAME@VERSION``) that the project holds."""
    name, _, tag = model.partition("@")
    with unit_of_work(project.db) as s:
        versions = pred_rows.versions_named(s, name)
        known = pred_rows.model_names(s)
    if tag:
        versions = [v for v in versions if v.version == tag]
    if not versions:
        have = ", ".join(known) or "none yet"
        raise PredictionFileError(f"the project has no predictions of {model!r} (it has: {have})")
    return versions[-1]


def version_id(project: Any, ref: str | int) -> int:
    """The model version a person names: an id; ``NAME@VERSION``; a registered model with its weights
    file (a built-in system's shipped weights, an imported model's newest file: recorded on first ask,
    as a run of it records it); or imported predictions by name (the newest version)."""
    text = str(ref).strip()
    if text.isdigit():
        return int(text)
    if "@" not in text:
        from affectscope.app.services.shipped_version import shipped_version_id
        from affectscope.models.registry import get

        try:
            spec = get(text)
        except KeyError:
            spec = None
        if spec is not None:
            vid = shipped_version_id(project, text, spec.label_set)
            if vid is None:
                raise PredictionFileError(f"{text} has no weights file, so it has no version to name")
            return vid
    return find_version(project, text).id


def version_table(project: Any, version: Any) -> tuple[PredictionTable, dict[str, str]]:
    """A version's predictions as a table, and clip reference -> file path. Clips are named by file
    name where that is unique in the project (portable), else by their full path."""
    with unit_of_work(project.db) as s:
        records = pred_rows.version_predictions(s, version.id)
    clips = {c.id: c.path for c in project.clips()}
    names = [Path(p).name for p in clips.values()]
    ref = {cid: Path(p).name if names.count(Path(p).name) == 1 else p for cid, p in clips.items()}
    keep_decisions = version.config.get("clip_decision") != FROM_WINDOWS
    rows = [
        PredictionRow(ref[r.clip_id], r.t_start, r.t_end, r.modality, tuple(r.probs))
        for r in records
        if r.t_start is not None or keep_decisions
    ]
    kind = version.config.get("kind", "categorical")
    ranges = {k: (float(a), float(b)) for k, (a, b) in (version.config.get("ranges") or {}).items()}
    label_set = None if kind == CONTINUOUS else version.label_set
    table = PredictionTable(kind, tuple(version.labels), rows, label_set, version.name, ranges)
    return table, {ref[cid]: p for cid, p in clips.items()}


def export_predictions(project: Any, model: str, fmt: str, out: str | Path) -> ExportResult:
    """Write the newest version of ``model`` as csv, json or eaf (see ``prediction_files``)."""
    from affectscope.app.services.interop import media_mimetype

    out = Path(out)
    if fmt not in ("csv", "json", "eaf"):
        raise PredictionFileError(f"--format {fmt!r}: choose csv, json or eaf")
    parent = out if fmt == "eaf" and out.suffix.lower() != ".eaf" else out.parent
    if not (parent if parent.exists() else parent.parent).is_dir():
        raise PredictionFileError(f"{out}: its folder does not exist")
    version = find_version(project, model)
    table, paths = version_table(project, version)
    if fmt == "csv":
        write_csv(table, out)
        files = [out]
    elif fmt == "json":
        write_json(table, out)
        files = [out]
    else:
        files = write_eaf(table, out, paths, {ref: media_mimetype(p) for ref, p in paths.items()})
    return ExportResult(
        model=version.name,
        version=version.version,
        format=fmt,
        rows=len(table.rows),
        clips=len({r.clip for r in table.rows}),
        files=[str(f) for f in files],
    )
