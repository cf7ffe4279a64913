"""Label exchange: CSV/JSON manifests (what training reads) and ELAN ``.eaf`` tiers, out and back in.

Manifest rows are each annotator's current labels: whole-clip labels (start/end empty) and spans. CSV
columns, the training contract: ``path,label,annotator,start,end,label_set,created_at`` (``path``
absolute, or relative to the manifest's folder with ``relative=True``; times in seconds to the
millisecond; ``created_at`` ISO 8601 UTC). JSON holds the same rows plus ``source`` and the label-set
definitions. ELAN: one ``.eaf`` per clip, one tier per annotator and label set named
``LABELSET@ANNOTATOR`` (spans) or ``LABELSET@ANNOTATOR#clip`` (the whole-clip label as one annotation).
Spans are stored in milliseconds, ELAN's unit, so an export/import round trip is exact.

Imports append rows with source "import", never overwrite, and skip a row that would change nothing
(that annotator already has that value there), so importing the same file twice adds nothing.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from sqlalchemy import select

from affectscope import strict_json
from affectscope.db import clips as clip_rows
from affectscope.db import labels as label_rows
from affectscope.db.label_sets import LabelError, add_label_set, all_label_sets
from affectscope.db.schema import Annotator, AnnotatorCurrent, Clip, Label
from affectscope.db.uow import unit_of_work
from affectscope.errors import UserFacingError
from affectscope.jobs import Job, ensure_job

CSV_COLUMNS = ("path", "label", "annotator", "start", "end", "label_set", "created_at")
FORMATS = ("csv", "json", "eaf")
_TIER = re.compile(r"^(?P<set>[A-Za-z0-9_-]+)@(?P<who>.+?)(?P<clip>#clip)?$")


class InteropError(UserFacingError):
    """A manifest or .eaf file that cannot be read or written as asked."""


@dataclass(frozen=True)
class ManifestRow:
    path: str
    label: str
    annotator: str
    start: float | None
    end: float | None
    label_set: str
    created_at: datetime | None
    source: str = "import"
    clip_id: int | None = None


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
        query = (
            select(
                Clip.id,
                Clip.path,
                AnnotatorCurrent.value,
                Annotator.name,
                AnnotatorCurrent.label_set,
                AnnotatorCurrent.created_at,
                Label.source,
            )
            .join(Clip, Clip.id == AnnotatorCurrent.clip_id)
            .join(Annotator, Annotator.id == AnnotatorCurrent.annotator_id)
            .join(Label, Label.id == AnnotatorCurrent.label_id)
        )
        if label_set:
            query = query.where(AnnotatorCurrent.label_set == label_set)
        if not include_model:
            query = query.where(Label.source != "model")
        if clip_ids is not None:
            query = query.where(Clip.id.in_(clip_ids))
        rows = [
            ManifestRow(path, value, who, None, None, lset, label_rows.aware(at), source, cid)
            for cid, path, value, who, lset, at, source in s.execute(query)
        ]
        paths = dict(s.execute(select(Clip.id, Clip.path)).all())
        for span in label_rows.current_spans(s, clip_ids, label_set):
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
    query = (
        select(
            Clip.path,
            AnnotatorCurrent.value,
            Annotator.name,
            AnnotatorCurrent.label_set,
            AnnotatorCurrent.created_at,
        )
        .join(Clip, Clip.id == AnnotatorCurrent.clip_id)
        .join(Annotator, Annotator.id == AnnotatorCurrent.annotator_id)
        .order_by(Clip.path, AnnotatorCurrent.label_set, Annotator.name)
    )
    if label_set:
        query = query.where(AnnotatorCurrent.label_set == label_set)
    if not include_model:
        query = query.where(Annotator.kind != "model")
    tmp = out.with_name(out.name + ".part")
    n = 0
    with unit_of_work(db) as s, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for part in s.execute(query.execution_options(yield_per=20_000)).partitions():
            job.check()
            writer.writerows(
                (_manifest_path(path, out, relative), value, who, "", "", lset, _iso_utc(at))
                for path, value, who, lset, at in part
            )
            n += len(part)
            job.progress(n, 0, "writing CSV")
        paths = {}
        for span in label_rows.current_spans(s, None, label_set):
            if span.source == "model" and not include_model:
                continue
            if span.clip_id not in paths:
                paths[span.clip_id] = s.scalar(select(Clip.path).where(Clip.id == span.clip_id))
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
        out.mkdir(parents=True, exist_ok=True)
    with unit_of_work(db) as s:
        durations = dict(s.execute(select(Clip.id, Clip.duration)).all())
    written = []
    for i, (clip_id, clip_rows_) in enumerate(sorted(by_clip.items(), key=lambda kv: kv[1][0].path)):
        job.check()
        job.progress(i, len(by_clip), Path(clip_rows_[0].path).name)
        eaf = pympi.Elan.Eaf(author="affectscope")
        eaf.remove_tier("default")
        eaf.add_linked_file(Path(clip_rows_[0].path).as_uri(), mimetype=_mimetype(clip_rows_[0].path))
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
        eaf.to_file(str(target))
        written.append(target)
    return written


def _mimetype(path: str) -> str:
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


# -- reading files --------------------------------------------------------------------------------
def _parse_time(text: str | float | None, where: str) -> float | None:
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise InteropError(f"{where}: {text!r} is not a time in seconds") from None


def _parse_when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _resolve(path: str, manifest: Path) -> str:
    p = Path(path).expanduser()
    return str((p if p.is_absolute() else manifest.parent / p).resolve())


def read_csv(path: Path) -> list[ManifestRow]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = {"path", "label"} - set(reader.fieldnames or ())
        if missing:
            raise InteropError(
                f"{path.name} is not a label manifest: no {', '.join(sorted(missing))} column "
                f"(expected {','.join(CSV_COLUMNS)})"
            )
        rows = []
        for n, rec in enumerate(reader, start=2):
            where = f"{path.name} line {n}"
            rows.append(
                ManifestRow(
                    _resolve(rec["path"], path),
                    (rec.get("label") or "").strip(),
                    (rec.get("annotator") or "").strip(),
                    _parse_time(rec.get("start"), where),
                    _parse_time(rec.get("end"), where),
                    (rec.get("label_set") or "").strip(),
                    _parse_when(rec.get("created_at")),
                )
            )
    return rows


def read_json(path: Path) -> tuple[list[ManifestRow], dict[str, list[str]]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        items = doc["labels"] if isinstance(doc, dict) else doc
        rows = [
            ManifestRow(
                _resolve(it["path"], path),
                str(it["label"]),
                str(it.get("annotator") or ""),
                _parse_time(it.get("start"), path.name),
                _parse_time(it.get("end"), path.name),
                str(it.get("label_set") or ""),
                _parse_when(it.get("created_at")),
            )
            for it in items
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise InteropError(f"{path.name} is not an Affectscope label manifest ({exc})") from None
    return rows, (doc.get("label_sets") or {}) if isinstance(doc, dict) else {}


def read_eaf(path: Path, default_label_set: str, default_annotator: str) -> list[ManifestRow]:
    import pympi

    try:
        eaf = pympi.Elan.Eaf(str(path), suppress_version_warning=True)
    except Exception as exc:  # pympi raises bare exceptions on malformed XML
        raise InteropError(f"{path.name} is not a readable ELAN file ({exc})") from None
    media = [f.get("MEDIA_URL", "") for f in eaf.get_linked_files()]
    if not media:
        raise InteropError(f"{path.name} links no media file; cannot tell which clip it labels")
    url = urlparse(media[0])
    clip_path = unquote(url.path) if url.scheme == "file" else media[0]
    clip_path = _resolve(clip_path, path)
    rows = []
    for tier in eaf.get_tier_names():
        m = _TIER.match(tier)
        attrs = eaf.tiers[tier][2]
        label_set = m["set"] if m else default_label_set
        who = m["who"] if m else (attrs.get("ANNOTATOR") or default_annotator)
        whole = bool(m and m["clip"])
        for ann in eaf.get_annotation_data_for_tier(tier):
            start_ms, end_ms, value = ann[0], ann[1], ann[2]
            start, end = (None, None) if whole else (start_ms / 1000.0, end_ms / 1000.0)
            rows.append(ManifestRow(clip_path, str(value).strip(), who, start, end, label_set, None))
    return rows


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
    """Read a CSV/JSON manifest or .eaf file(s) and append their labels to ``project`` (source "import")."""
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
        rows = [r for f in files for r in read_eaf(f, default_set, default_who)]
    else:
        raise InteropError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    report = ImportReport()
    if sets:
        with unit_of_work(project.db, write=True) as s:
            known = all_label_sets(s)
            for name, labels in sets.items():
                if name not in known:
                    add_label_set(s, name, labels)
    clip_ids: dict[str, int | None] = {}
    for i, row in enumerate(rows):
        if i % 200 == 0:
            job.check()
            job.progress(i, len(rows), "importing labels")
        what = f"{Path(row.path).name} {row.label}"
        if row.path not in clip_ids:
            clip_ids[row.path] = _clip_for(project, row.path, report)
        clip_id = clip_ids[row.path]
        if clip_id is None:
            report.skipped.append((what, f"no clip at {row.path} (it is not in the project and not on disk)"))
            continue
        try:
            with unit_of_work(project.db, write=True) as s:
                if _unchanged(s, clip_id, row, default_set, default_who):
                    report.duplicates += 1
                    continue
                label_rows.add_label(
                    s,
                    clip_id,
                    row.label_set or default_set,
                    row.label,
                    row.annotator or default_who,
                    _span(row),
                    source="import",
                    created_at=row.created_at,
                )
            report.imported += 1
        except LabelError as exc:
            report.skipped.append((what, str(exc)))
    job.progress(len(rows), len(rows), "done")
    return report


def _span(row: ManifestRow) -> tuple[float, float] | None:
    return None if row.start is None or row.end is None else (row.start, row.end)


def _clip_for(project, path: str, report: ImportReport) -> int | None:  # noqa: ANN001
    with unit_of_work(project.db) as s:
        clip = clip_rows.clip_by_path(s, path)
        if clip is not None:
            return clip.id
    if not Path(path).is_file():
        return None
    before = report.clips_added
    scan = project.import_clips(Path(path).parent)
    report.clips_added = before + len(scan.added)
    with unit_of_work(project.db) as s:
        clip = clip_rows.clip_by_path(s, path)
        return clip.id if clip is not None else None


def _unchanged(s, clip_id: int, row: ManifestRow, default_set: str, default_who: str) -> bool:  # noqa: ANN001
    """True when this annotator's current label there already has this value (a re-import)."""
    label_set, who = row.label_set or default_set, row.annotator or default_who
    span = _span(row)
    for r in label_rows.history(s, clip_id=clip_id, annotator=who, label_set=label_set, limit=10_000):
        if r.action != "set" or r.undone or r.source == "model":
            continue
        if span is None and r.start is None:
            return r.value == row.label
        if (
            span is not None
            and r.start is not None
            and (label_rows.to_ms(r.start), label_rows.to_ms(r.end))
            == (
                label_rows.to_ms(span[0]),
                label_rows.to_ms(span[1]),
            )
        ):
            return r.value == row.label and r.edit != "delete"  # a deleted span is not there
    return False
