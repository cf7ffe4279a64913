"""Label exchange: CSV/JSON manifests (what training reads) and ELAN ``.eaf`` tiers, out and back in.

Manifest rows are each annotator's current labels: whole-clip labels (start/end empty) and spans. CSV
columns, the training contract: ``path,label,annotator,start,end,label_set,created_at`` (``path``
absolute, or relative to the manifest's folder with ``relative=True``; times in seconds to the
millisecond; ``created_at`` ISO 8601 UTC). JSON holds the same rows plus ``source`` and the label-set
definitions. ELAN: one ``.eaf`` per clip, one tier per annotator and label set named
``LABELSET@ANNOTATOR`` (spans) or ``LABELSET@ANNOTATOR#clip`` (the whole-clip label as one annotation).
Spans are stored in milliseconds, ELAN's unit, so an export/import round trip is exact.

Imports (reading and checking: app/services/manifests.py; writing: db/label_import.py) append rows
with source "import", never overwrite, and skip a row that is already there, so importing the same file
twice adds nothing; a file is checked whole before anything is written.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from affectscope import strict_json
from affectscope.app.services.manifests import (
    CSV_COLUMNS,
    InteropError,
    ManifestRow,
    read_csv,
    read_eaf,
    read_json,
)
from affectscope.db import clips as clip_rows
from affectscope.db import current_labels
from affectscope.db import labels as label_rows
from affectscope.db.clips import ClipSpanFacts
from affectscope.db.label_import import NewLabel
from affectscope.db.label_import import import_labels as bulk_import
from affectscope.db.label_sets import LabelError, add_label_set, all_label_sets, check_label_set_definition
from affectscope.db.labels import span_ms_within
from affectscope.db.uow import unit_of_work
from affectscope.jobs import Job, ensure_job

FORMATS = ("csv", "json", "eaf")
__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "ImportReport",
    "InteropError",
    "ManifestRow",
    "current_rows",
    "export_csv",
    "export_eaf",
    "export_json",
    "import_labels",
    "read_csv",
    "read_eaf",
    "read_json",
]


@dataclass
class ImportReport:
    imported: int = 0
    duplicates: int = 0
    clips_added: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)

    def to_json(self) -> dict:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "clips_added": self.clips_added,
            "skipped": len(self.skipped),
            "skipped_examples": [{"row": w, "reason": r} for w, r in self.skipped[:20]],
        }


# -- reading the current labels -------------------------------------------------------------------
def current_rows(
    db, label_set: str | None = None, include_model: bool = False, clip_ids: list[int] | None = None
) -> list[ManifestRow]:  # noqa: ANN001
    """Each annotator's current whole-clip labels and every current span, ordered by clip path."""
    with unit_of_work(db) as s:
        rows = [
            ManifestRow(
                w.path, w.value, w.annotator, None, None, w.label_set, w.created_at, w.source, w.clip_id
            )
            for w in current_labels.current_whole_labels(s, label_set, include_model, clip_ids)
        ]
        spans = label_rows.current_spans(s, clip_ids, label_set)
        paths = current_labels.clip_paths(s, {span.clip_id for span in spans})
        for span in spans:
            rows.append(
                ManifestRow(
                    paths[span.clip_id],
                    span.value,
                    span.annotator,
                    span.start,
                    span.end,
                    span.label_set,
                    span.created_at,
                    span.source,
                    span.clip_id,
                )
            )
    rows.sort(key=lambda r: (r.path, r.label_set, r.start is not None, r.start or 0.0, r.annotator))
    return rows


@contextmanager
def _writing(out: Path) -> Iterator[None]:
    """A file that cannot be written (no such folder, no permission, disk full) as one clear line."""
    try:
        yield
    except OSError as exc:
        raise InteropError(f"cannot write {out}: {exc.strerror or exc}; choose another place") from None


def _fmt_time(t: float | None) -> str:
    return "" if t is None else f"{t:.3f}"


def _manifest_path(path: str, out: Path, relative: bool) -> str:
    return os.path.relpath(path, out.parent) if relative else path


def _iso_utc(dt: datetime) -> str:
    """Stored times are naive UTC: mark them so without building an aware datetime per row."""
    return dt.isoformat() + "+00:00" if dt.tzinfo is None else dt.isoformat()


def export_csv(
    db,
    out: Path,
    label_set: str | None = None,
    relative: bool = False,
    include_model: bool = False,
    job: Job | None = None,
) -> int:  # noqa: ANN001
    """Stream the manifest: whole-clip rows straight from the cache table in path order, then spans."""
    job = ensure_job(job)
    tmp = out.with_name(out.name + ".part")
    n = 0
    with _writing(out), unit_of_work(db) as s, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for part in current_labels.stream_whole_labels(s, label_set, include_model):
            job.check()
            writer.writerows(
                (_manifest_path(path, out, relative), value, who, "", "", lset, _iso_utc(at))
                for path, value, who, lset, at in part
            )
            n += len(part)
            job.progress(n, 0, "writing CSV")
        spans = [
            sp for sp in label_rows.current_spans(s, None, label_set) if include_model or sp.source != "model"
        ]
        paths = current_labels.clip_paths(s, {span.clip_id for span in spans})
        for span in spans:
            writer.writerow(
                [
                    _manifest_path(paths[span.clip_id], out, relative),
                    span.value,
                    span.annotator,
                    _fmt_time(span.start),
                    _fmt_time(span.end),
                    span.label_set,
                    _iso_utc(span.created_at),
                ]
            )
            n += 1
    with _writing(out):
        os.replace(tmp, out)
    return n


def export_json(db, out: Path, label_set: str | None = None, relative: bool = False,
                include_model: bool = False, job: Job | None = None) -> int:  # fmt: skip  # noqa: ANN001
    rows = current_rows(db, label_set, include_model)
    ensure_job(job).progress(0, len(rows), "writing JSON")
    with unit_of_work(db) as s:
        sets = all_label_sets(s)
    used = sorted({r.label_set for r in rows})
    doc = {
        "format": "affectscope-labels",
        "version": 1,
        "label_sets": {name: list(sets[name]) for name in used if name in sets},
        "labels": [
            {
                "path": _manifest_path(r.path, out, relative),
                "label": r.label,
                "annotator": r.annotator,
                "start": r.start,
                "end": r.end,
                "label_set": r.label_set,
                "created_at": r.created_at.isoformat(),
                "source": r.source,
            }
            for r in rows
        ],
    }
    tmp = out.with_name(out.name + ".part")
    with _writing(out):
        tmp.write_text(strict_json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, out)
    return len(rows)


def export_eaf(db, out: Path, label_set: str | None = None, clip: int | None = None,
               include_model: bool = False, job: Job | None = None) -> list[Path]:  # fmt: skip  # noqa: ANN001
    """Write one .eaf per labelled clip into folder ``out`` (or to file ``out`` for a single clip)."""
    import pympi

    job = ensure_job(job)
    rows = current_rows(db, label_set, include_model, [clip] if clip is not None else None)
    by_clip: dict[int, list[ManifestRow]] = {}
    for r in rows:
        by_clip.setdefault(r.clip_id, []).append(r)
    single = out.suffix.lower() == ".eaf"
    if single and len(by_clip) > 1:
        raise InteropError(
            f"{len(by_clip)} clips have labels; give -o a folder (one .eaf per clip) or --clip"
        )
    if not single:
        with _writing(out):
            out.mkdir(parents=True, exist_ok=True)
    with unit_of_work(db) as s:
        durations = current_labels.clip_durations(s)
    written = []
    for i, (clip_id, clip_rows_) in enumerate(sorted(by_clip.items(), key=lambda kv: kv[1][0].path)):
        job.check()
        job.progress(i, len(by_clip), Path(clip_rows_[0].path).name)
        eaf = pympi.Elan.Eaf(author="affectscope")
        eaf.remove_tier("default")
        eaf.add_linked_file(Path(clip_rows_[0].path).as_uri(), mimetype=media_mimetype(clip_rows_[0].path))
        for r in clip_rows_:
            tier = f"{r.label_set}@{r.annotator}" + ("#clip" if r.start is None else "")
            if tier not in eaf.tiers:
                eaf.add_tier(tier, ann=r.annotator)
            if r.start is None:
                start_ms, end_ms = 0, max(1, label_rows.to_ms(durations[clip_id]))
            else:
                start_ms, end_ms = label_rows.to_ms(r.start), label_rows.to_ms(r.end)
            eaf.add_annotation(tier, start_ms, end_ms, r.label)
        target = out if single else out / (Path(clip_rows_[0].path).stem + ".eaf")
        with _writing(target):
            eaf.to_file(str(target))
        written.append(target)
    return written


def media_mimetype(path: str) -> str:
    """The MIME type ELAN records for a linked clip."""
    return {
        ".mp4": "video/mp4",
        ".mov": "video/quicktime",
        ".webm": "video/webm",
        ".mkv": "video/x-matroska",
        ".avi": "video/x-msvideo",
        ".flv": "video/x-flv",
        ".mpg": "video/mpeg",
        ".mpeg": "video/mpeg",
        ".ts": "video/mp2t",
        ".3gp": "video/3gpp",
        ".wmv": "video/x-ms-wmv",
    }.get(Path(path).suffix.lower(), "video/*")


# -- importing ------------------------------------------------------------------------------------
def detect_format(path: Path) -> str:
    if path.is_dir():
        return "eaf"
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InteropError(f"cannot tell the format of {path.name}; use --format {'|'.join(FORMATS)}")
    return fmt


def import_labels(project, path: Path, fmt: str | None = None, annotator: str | None = None,
                  label_set: str | None = None, job: Job | None = None) -> ImportReport:  # fmt: skip  # noqa: ANN001
    """Append the labels of a CSV/JSON manifest or .eaf file(s) to ``project`` (source "import").

    All or nothing: every row is read and checked first (InteropError for the first malformed one,
    before anything is written), then all labels go in one transaction. Rows that are well formed but
    do not fit the project (no such clip, a label outside its set, a span past the clip's end) are
    skipped with a reason. A row may name a file not yet in the project only inside the project's clip
    folders; exactly that file is added, no folder is scanned.
    """
    job = ensure_job(job)
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise InteropError(f"{path} does not exist")
    fmt = fmt or detect_format(path)
    default_set = label_set or project.label_set
    default_who = annotator or project.annotator
    sets: dict[str, list[str]] = {}
    if fmt == "csv":
        rows = read_csv(path)
    elif fmt == "json":
        rows, sets = read_json(path)
    elif fmt == "eaf":
        files = sorted(path.glob("*.eaf")) if path.is_dir() else [path]
        if not files:
            raise InteropError(f"{path} holds no .eaf files")
        rows = [r for f in files for r in read_eaf(f, default_set, default_who)]
    else:
        raise InteropError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    with unit_of_work(project.db) as s:
        known_sets = all_label_sets(s)
    new_sets = {}
    for name, labels in sets.items():
        if name in known_sets:
            if tuple(known_sets[name]) != tuple(str(x).strip() for x in labels):
                raise InteropError(f"{path.name}: label set {name!r} already exists with other labels")
            continue
        try:
            new_sets[name] = known_sets[name] = check_label_set_definition(name, labels)
        except LabelError as exc:
            raise InteropError(f"{path.name}: {exc}") from None
    report = ImportReport()
    clips = _clips_for(project, sorted({r.path for r in rows}), report)
    new: list[NewLabel] = []
    for row in rows:
        clip = clips.get(row.path)
        if isinstance(clip, str):
            report.skipped.append((_what(row), clip))
            continue
        lset, who = row.label_set or default_set, row.annotator or default_who
        try:
            if lset not in known_sets:
                raise LabelError(f"no label set named {lset!r}; known sets: {', '.join(known_sets)}")
            if row.label not in known_sets[lset]:
                raise LabelError(
                    f"{row.label!r} is not a label of {lset!r}; choose one of: {', '.join(known_sets[lset])}"
                )
            span = (
                None if row.start is None else span_ms_within(clip.duration, clip.fps, (row.start, row.end))
            )
        except LabelError as exc:
            report.skipped.append((_what(row), str(exc)))
            continue
        new.append(NewLabel(clip.id, lset, row.label, who, *(span or (None, None)), row.created_at))
    job.progress(0, len(new), "importing labels")
    with unit_of_work(project.db, write=True) as s:
        for name, labels in new_sets.items():
            add_label_set(s, name, labels)
        report.imported, report.duplicates = bulk_import(
            s, new, check=lambda n: (job.check(), job.progress(n, len(new), "importing labels"))
        )
    job.progress(len(new), len(new), "done")
    return report


def _what(row: ManifestRow) -> str:
    return f"{Path(row.path).name} {row.label}"


def _clips_for(project, paths: list[str], report: ImportReport) -> dict[str, ClipSpanFacts | str]:  # noqa: ANN001
    """Each path's clip, or why there is none. A file not yet in the project is added only when it lies
    inside one of the project's clip folders (never its whole folder: a row naming ``/`` must not
    import the disk)."""
    from affectscope.media.files import VIDEO_EXTENSIONS

    with unit_of_work(project.db) as s:
        found: dict[str, ClipSpanFacts | str] = dict(clip_rows.clips_by_paths(s, paths))
        folders = [Path(f) for f in clip_rows.clip_folders(s)]
    for path in paths:
        if path in found:
            continue
        file = Path(path)
        if not any(file.is_relative_to(folder) for folder in folders):
            shown = ", ".join(str(f) for f in folders[:3]) + (", ..." if len(folders) > 3 else "")
            found[path] = (
                f"{path} is not a clip of the project and lies outside its clip folders "
                f"({shown or 'none yet'}); import its folder first (affectscope project init "
                f"{project.folder} --clips FOLDER)"
            )
        elif not file.is_file():
            found[path] = f"no clip at {path}: it is not in the project and there is no such file"
        elif not file.name.lower().endswith(VIDEO_EXTENSIONS):
            found[path] = f"{path} is not a video file ({', '.join(VIDEO_EXTENSIONS)})"
        else:
            scan = project.import_clip_file(file)
            report.clips_added += len(scan.added)
            with unit_of_work(project.db) as s:
                facts = clip_rows.clips_by_paths(s, [path]).get(path)
            reason = scan.failed[0][1] if scan.failed else f"{path} could not be added as a clip"
            found[path] = facts if facts is not None else reason
    return found
