"""Reading label manifests (CSV, JSON) and ELAN ``.eaf`` files into checked rows, before anything is written.

Every value is checked here, for every row, so that an import either refuses the whole file with one
line that says where and what is wrong, or goes on to write: times must be finite seconds within what
the database stores, a span needs both ends, ``created_at`` must be an ISO 8601 time between 1900 and
now, names must fit their columns, and ``label_sets`` must map names to lists of labels. Rows that are
well formed but do not fit the project (an unknown clip, a label outside its set) are the importer's to
skip with a reason (app/services/interop.py).
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from affectscope.errors import UserFacingError

CSV_COLUMNS = ("path", "label", "annotator", "start", "end", "label_set", "created_at")
_TIER = re.compile(r"^(?P<set>[A-Za-z0-9_-]+)@(?P<who>.+?)(?P<clip>#clip)?$")
# Column widths of db/schema.py: a longer value would be cut or refused by PostgreSQL mid-import.
MAX_NAME, MAX_LABEL, MAX_SET, MAX_PATH = 128, 128, 64, 1024
MAX_SECONDS = (2**31 - 1) / 1000.0  # spans are stored as 32-bit milliseconds
EARLIEST = datetime(1900, 1, 1)


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


def parse_time(value: object, where: str, what: str = "time") -> float | None:
    """Seconds as a float, None when empty; InteropError for text, booleans, NaN, infinities, huge values."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InteropError(f"{where}: {what} {value!r} is not a time in seconds")
    try:
        seconds = float(value)
    except ValueError:
        raise InteropError(f"{where}: {what} {value!r} is not a time in seconds") from None
    if not math.isfinite(seconds):
        raise InteropError(f"{where}: {what} {value!r} is not a finite time in seconds")
    if abs(seconds) > MAX_SECONDS:
        raise InteropError(
            f"{where}: {what} {value!r} s is past the end of any clip (max {MAX_SECONDS:.0f} s)"
        )
    return seconds


def parse_when(value: object, where: str) -> datetime | None:
    """An ISO 8601 time as naive UTC (naive input is taken as UTC), between 1900 and a day from now."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InteropError(f"{where}: created_at {value!r} is not an ISO 8601 time")
    try:
        when = datetime.fromisoformat(value.strip())
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise InteropError(f"{where}: created_at {value!r} is not an ISO 8601 time") from None
    latest = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    if not EARLIEST <= when <= latest:
        raise InteropError(f"{where}: created_at {value!r} is not a plausible time (between 1900 and now)")
    return when


def _text(value: object, where: str, what: str, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InteropError(f"{where}: {what} {value!r} is not text")
    value = value.strip()
    if required and not value:
        raise InteropError(f"{where}: the {what} is empty")
    if len(value) > limit:
        raise InteropError(f"{where}: the {what} is {len(value)} characters long (at most {limit})")
    if "\x00" in value:
        raise InteropError(f"{where}: the {what} holds a NUL character")
    return value


def _resolve(path: str, manifest: Path, where: str, seen: dict[str, str] | None = None) -> str:
    """A row's path made absolute against the manifest's folder, symbolic links and ``..`` resolved
    (once per distinct path: ``seen`` remembers them, most manifests name each clip many times)."""
    if seen is not None and isinstance(path, str) and path in seen:
        return seen[path]
    raw = path
    path = _text(path, where, "path", MAX_PATH, required=True)
    p = Path(path).expanduser()
    resolved = str((p if p.is_absolute() else manifest.parent / p).resolve())
    if len(resolved) > MAX_PATH:
        raise InteropError(f"{where}: the path resolves to {len(resolved)} characters (at most {MAX_PATH})")
    if seen is not None:
        seen[raw] = resolved
    return resolved


def _row(fields: dict, manifest: Path, where: str, seen: dict[str, str]) -> ManifestRow:
    start = parse_time(fields.get("start"), where, "start")
    end = parse_time(fields.get("end"), where, "end")
    if (start is None) != (end is None):
        raise InteropError(f"{where}: a span needs both start and end (a whole-clip label has neither)")
    return ManifestRow(
        _resolve(fields.get("path"), manifest, where, seen),
        _text(fields.get("label"), where, "label", MAX_LABEL, required=True),
        _text(fields.get("annotator"), where, "annotator", MAX_NAME),
        start,
        end,
        _text(fields.get("label_set"), where, "label_set", MAX_SET),
        parse_when(fields.get("created_at"), where),
    )


def read_csv(path: Path) -> list[ManifestRow]:
    """Every row of a CSV manifest, checked; InteropError naming the line of the first bad one."""
    line = 1
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = {"path", "label"} - set(reader.fieldnames or ())
            if missing:
                raise InteropError(
                    f"{path.name} is not a label manifest: no {', '.join(sorted(missing))} column "
                    f"(expected {','.join(CSV_COLUMNS)})"
                )
            rows, seen = [], {}
            for rec in reader:
                line = reader.line_num
                if None in rec:  # more cells than columns
                    raise InteropError(f"{path.name} line {line}: more cells than the header has columns")
                rows.append(_row(rec, path, f"{path.name} line {line}", seen))
    except UnicodeDecodeError as exc:
        raise InteropError(
            f"{path.name} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    except csv.Error as exc:
        raise InteropError(f"{path.name} line {line + 1}: not readable as CSV ({exc})") from None
    return rows


def read_json(path: Path) -> tuple[list[ManifestRow], dict[str, list[str]]]:
    """The rows and label-set definitions of a JSON manifest (a document, or a bare list of rows)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InteropError(f"{path.name} is not UTF-8 text; save it as UTF-8") from None
    except RecursionError:
        raise InteropError(f"{path.name} is nested too deeply to be a label manifest") from None
    except ValueError as exc:
        raise InteropError(f"{path.name} is not JSON ({exc})") from None
    if isinstance(doc, dict):
        if "labels" not in doc:
            raise InteropError(f'{path.name} is not an Affectscope label manifest (no "labels" list)')
        items, sets = doc["labels"], doc.get("label_sets") or {}
    else:
        items, sets = doc, {}
    if not isinstance(items, list):
        raise InteropError(f'{path.name}: "labels" must be a list of rows, not {type(items).__name__}')
    if not isinstance(sets, dict) or not all(
        isinstance(labels, list) and all(isinstance(x, str) for x in labels) for labels in sets.values()
    ):
        raise InteropError(
            f'{path.name}: "label_sets" must map each set\'s name to a list of labels, '
            'e.g. {"valence": ["low", "high"]}'
        )
    rows, seen = [], {}
    for n, item in enumerate(items):
        where = f"{path.name} row {n}"
        if not isinstance(item, dict):
            raise InteropError(f"{where}: a row must be an object with path, label, ...")
        rows.append(_row(item, path, where, seen))
    return rows, sets


def read_eaf(path: Path, default_label_set: str, default_annotator: str) -> list[ManifestRow]:
    """Rows of one ELAN file: tiers ``SET@WHO`` (spans) and ``SET@WHO#clip`` (the whole-clip label)."""
    import pympi

    try:
        eaf = pympi.Elan.Eaf(str(path), suppress_version_warning=True)
    except Exception as exc:  # pympi raises bare exceptions on malformed XML
        raise InteropError(f"{path.name} is not a readable ELAN file ({exc})") from None
    media = [f.get("MEDIA_URL", "") for f in eaf.get_linked_files()]
    if not media:
        raise InteropError(f"{path.name} links no media file; cannot tell which clip it labels")
    url = urlparse(media[0])
    clip_path = _resolve(unquote(url.path) if url.scheme == "file" else media[0], path, path.name)
    rows = []
    for tier in eaf.get_tier_names():
        m = _TIER.match(tier)
        attrs = eaf.tiers[tier][2]
        label_set = m["set"] if m else default_label_set
        who = m["who"] if m else (attrs.get("ANNOTATOR") or default_annotator)
        where = f"{path.name} tier {tier[:40]!r}"
        who = _text(who, where, "annotator", MAX_NAME)
        label_set = _text(label_set, where, "label set", MAX_SET)
        whole = bool(m and m["clip"])
        try:
            annotations = eaf.get_annotation_data_for_tier(tier)
        except (KeyError, TypeError, ValueError) as exc:
            raise InteropError(f"{where}: an annotation refers to a missing time slot ({exc})") from None
        for ann in annotations:
            start_ms, end_ms, value = ann[0], ann[1], ann[2]
            if not all(isinstance(t, int) for t in (start_ms, end_ms)):
                raise InteropError(
                    f"{where}: annotation {value!r} is not aligned to times (unaligned time slots are "
                    "not supported; align it in ELAN)"
                )
            start = None if whole else parse_time(start_ms / 1000.0, where, "start")
            end = None if whole else parse_time(end_ms / 1000.0, where, "end")
            label = _text(value, where, "label", MAX_LABEL, required=True)
            rows.append(ManifestRow(clip_path, label, who, start, end, label_set, None))
    return rows
