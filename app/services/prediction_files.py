"""Prediction timelines as files (CSV, JSON, ELAN .eaf): read them whole and check every row before
anything is stored, write them so that reading back gives the same numbers.

One row is one time window of one clip and one lane (``fused`` or a modality head), or the clip's own
decision (no start and end). A row holds either class probabilities (one column per label of a label
set), a hard label (a ``label`` column: probability 1 for it), or named continuous values (valence,
arousal, ...). Floats are written with ``repr`` (the shortest text that reads back to the same double),
which is what makes CSV and JSON round trips exact. No database and no Qt here: the prediction_io
service joins these tables to a project.

Continuous outputs may declare their range: in CSV as comment lines before the header,
``# range valence=-1:1 arousal=0:10`` (what ``write_csv`` writes back), in JSON as ``"ranges"``; each
range must be two finite numbers with LO < HI and name an output of the file.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from affectscope import strict_json
from affectscope.errors import UserFacingError

FORMAT = "affectscope-predictions"
FORMAT_VERSION = 1
KINDS = ("categorical", "continuous")
_ID_COLUMNS = ("clip", "start", "end", "modality")
_MAX_ERRORS = 5  # messages shown at once; the rest are counted


class PredictionFileError(UserFacingError):
    """A predictions file that cannot be used as it is (every problem found is listed)."""


@dataclass(frozen=True)
class PredictionRow:
    clip: str  # path, file name or id of a project clip
    start: float | None  # seconds; None (with end) for the clip's own decision
    end: float | None
    modality: str  # "fused" or a modality head
    values: tuple[float, ...]  # probabilities (categorical) or the outputs' values (continuous)


@dataclass
class PredictionTable:
    """Every row of one file, checked: ``columns`` are the labels or the continuous outputs in order."""

    kind: str  # categorical | continuous
    columns: tuple[str, ...]
    rows: list[PredictionRow]
    label_set: str | None = None  # categorical: the set the columns are the labels of
    model: str | None = None  # the name the file gives itself (JSON), if any
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # continuous: declared ranges


# -- reading ----------------------------------------------------------------------------------------
def guess_format(path: Path, fmt: str | None) -> str:
    fmt = fmt or path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "json", "eaf"):
        raise PredictionFileError(f"{path.name}: say --format csv, json or eaf (not {fmt!r})")
    return fmt


class _Problems:
    """Collects row errors so one run of the importer names all of them (up to a few), not the first."""

    def __init__(self, source: str) -> None:
        self.source, self.messages, self.count = source, [], 0

    def add(self, where: str, message: str) -> None:
        self.count += 1
        if len(self.messages) < _MAX_ERRORS:
            self.messages.append(f"{where}: {message}")

    def raise_any(self) -> None:
        if self.count:
            more = f" (and {self.count - len(self.messages)} more)" if self.count > len(self.messages) else ""
            raise PredictionFileError(
                f"{self.source}: nothing imported; {self.count} problem(s){more}: " + "; ".join(self.messages)
            )


def _number(text: object, where: str, what: str, problems: _Problems) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        problems.add(where, f"{what} {text!r} is not a number")
        return None
    if not math.isfinite(value):
        problems.add(where, f"{what} is {text!r}; only finite numbers are allowed")
        return None
    return value


def check_range(name: str, lo: object, hi: object, where: str) -> tuple[float, float]:
    """A declared range as two finite floats with lo < hi, or an error naming it."""
    try:
        pair = (float(lo), float(hi))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        pair = (math.nan, math.nan)
    if (
        isinstance(lo, bool)
        or isinstance(hi, bool)
        or not all(map(math.isfinite, pair))
        or not pair[0] < pair[1]
    ):
        raise PredictionFileError(f"{where}: the range of {name} must be LO:HI, finite numbers with LO < HI")
    return pair


def parse_range_items(items: Iterable[str], where: str) -> dict[str, tuple[float, float]]:
    """``NAME=LO:HI`` items (a CSV's ``# range`` line, or ``--range`` options) as {name: (lo, hi)}."""
    out: dict[str, tuple[float, float]] = {}
    for item in items:
        name, eq, span = item.partition("=")
        lo, colon, hi = span.partition(":")
        if not eq or not colon or not name.strip():
            raise PredictionFileError(f"{where}: {item!r}: write NAME=LO:HI, e.g. valence=-1:1")
        out[name.strip()] = check_range(name.strip(), lo, hi, where)
    return out


def _declared_ranges(
    declared: Mapping[str, tuple[float, float]], kind: str, columns: Sequence[str], where: str
) -> dict[str, tuple[float, float]]:
    for name in declared:
        if kind != "continuous" or name not in columns:
            raise PredictionFileError(
                f"{where}: a range is declared for {name!r}, which is not a continuous output of the file "
                f"({', '.join(columns)}){'' if kind == 'continuous' else '; say --continuous'}"
            )
    return dict(declared)


def _times(start: object, end: object, where: str, problems: _Problems) -> tuple[float | None, float | None]:
    blank = lambda v: v is None or (isinstance(v, str) and not v.strip())  # noqa: E731
    if blank(start) and blank(end):
        return None, None  # the clip's own decision
    if blank(start) or blank(end):
        problems.add(where, "give both start and end (or neither, for the clip's own decision)")
        return None, None
    t0, t1 = _number(start, where, "start", problems), _number(end, where, "end", problems)
    if t0 is not None and t1 is not None and not 0 <= t0 < t1:
        problems.add(where, f"window {t0}..{t1} s must have 0 <= start < end")
    return t0, t1


def _check_values(values: list[float], kind: str, where: str, problems: _Problems) -> None:
    if kind == "categorical":
        if any(not 0.0 <= v <= 1.0 for v in values):
            problems.add(where, "probabilities must lie in 0..1")
        elif abs(sum(values) - 1.0) > 1e-3:
            problems.add(where, f"probabilities sum to {sum(values):.6g}, not 1")


def _label_set_of(columns: Sequence[str], label_sets: Mapping[str, Sequence[str]]) -> str | None:
    for name, labels in label_sets.items():
        if set(columns) == set(labels) and len(columns) == len(labels):
            return name
    return None


def _kind_and_columns(
    columns: Sequence[str],
    label_sets: Mapping[str, Sequence[str]],
    label_set: str | None,
    continuous: bool,
    source: str,
) -> tuple[str, str | None, tuple[str, ...]]:
    """(kind, label set, columns in stored order) for a file whose value columns are ``columns``."""
    if continuous:
        if label_set:
            raise PredictionFileError(f"{source}: continuous values belong to no label set; drop --label-set")
        return "continuous", None, tuple(columns)
    if label_set is not None:
        if label_set not in label_sets:
            raise PredictionFileError(f"{source}: no label set {label_set!r}; known: {', '.join(label_sets)}")
        wanted = tuple(label_sets[label_set])
        if set(columns) != set(wanted):
            raise PredictionFileError(
                f"{source}: its columns {', '.join(columns)} are not the labels of {label_set} "
                f"({', '.join(wanted)})"
            )
        return "categorical", label_set, wanted
    found = _label_set_of(columns, label_sets)
    if found is None:
        raise PredictionFileError(
            f"{source}: the value columns {', '.join(columns)} are the labels of no label set "
            f"({', '.join(label_sets)}); name one with --label-set, add a custom set to the project, "
            "or say --continuous for named continuous outputs (valence, arousal, ...)"
        )
    return "categorical", found, tuple(label_sets[found])


def _one_hot(label: str, labels: Sequence[str], where: str, problems: _Problems) -> list[float] | None:
    if label not in labels:
        problems.add(where, f"label {label!r} is not one of {', '.join(labels)}")
        return None
    return [1.0 if x == label else 0.0 for x in labels]


def _hard_label_set(
    labels: Iterable[str], label_sets: Mapping[str, Sequence[str]], label_set: str | None
) -> str:
    if label_set is not None:
        return label_set
    used = set(labels)
    for name, known in label_sets.items():
        if used <= set(known):
            return name
    raise PredictionFileError(
        f"the labels {', '.join(sorted(used))} belong to no one label set; name it with --label-set"
    )


def read_csv(
    path: Path,
    label_sets: Mapping[str, Sequence[str]],
    label_set: str | None = None,
    continuous: bool = False,
) -> PredictionTable:
    """Columns ``clip,start,end[,modality]`` then one per label (probabilities), or one ``label``
    column (hard labels), or (``continuous``) one per named output."""
    problems = _Problems(path.name)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            lines = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise PredictionFileError(f"{path}: cannot be read ({exc})") from exc
    declared: dict[str, tuple[float, float]] = {}
    while lines and lines[0] and lines[0][0].lstrip().startswith("#"):  # comments before the header
        comment = ",".join(lines.pop(0)).lstrip().lstrip("#").split()
        if comment and comment[0] == "range":
            declared.update(parse_range_items(comment[1:], f"{path.name}: # range"))
    if not lines:
        raise PredictionFileError(f"{path.name} is empty; expected a header clip,start,end,...")
    header = [h.strip() for h in lines[0]]
    if header[:3] != ["clip", "start", "end"]:
        raise PredictionFileError(f"{path.name}: the header must begin clip,start,end, not {header[:3]}")
    has_modality = len(header) > 3 and header[3] == "modality"
    value_cols = header[4 if has_modality else 3 :]
    if not value_cols or len(set(header)) != len(header):
        raise PredictionFileError(f"{path.name}: the header needs value columns, each named once")
    hard = value_cols == ["label"]
    if hard:
        label_set = _hard_label_set((r[-1].strip() for r in lines[1:] if r), label_sets, label_set)
        kind, columns = "categorical", tuple(label_sets[label_set]) if label_set in label_sets else ()
        if not columns:
            known = ", ".join(label_sets)
            raise PredictionFileError(f"{path.name}: no label set {label_set!r}; known: {known}")
    else:
        kind, label_set, columns = _kind_and_columns(value_cols, label_sets, label_set, continuous, path.name)
    order = [value_cols.index(c) for c in columns] if not hard else []
    rows: list[PredictionRow] = []
    for lineno, raw in enumerate(lines[1:], start=2):
        if not raw or all(not cell.strip() for cell in raw):
            continue
        where = f"line {lineno}"
        if len(raw) != len(header):
            problems.add(where, f"{len(raw)} fields for {len(header)} columns")
            continue
        clip = raw[0].strip()
        if not clip:
            problems.add(where, "no clip")
            continue
        start, end = _times(raw[1], raw[2], where, problems)
        modality = raw[3].strip() if has_modality else "fused"
        cells = raw[4 if has_modality else 3 :]
        if hard:
            values = _one_hot(cells[0].strip(), columns, where, problems)
        else:
            parsed = [_number(cells[i], where, f"{columns[k]}", problems) for k, i in enumerate(order)]
            values = None if any(v is None for v in parsed) else [float(v) for v in parsed]  # type: ignore[arg-type]
        if values is None:
            continue
        _check_values(values, kind, where, problems)
        rows.append(PredictionRow(clip, start, end, modality or "fused", tuple(values)))
    problems.raise_any()
    ranges = _declared_ranges(declared, kind, columns, f"{path.name}: # range")
    return _finish(PredictionTable(kind, columns, rows, label_set, ranges=ranges), path.name)


def read_json(
    path: Path,
    label_sets: Mapping[str, Sequence[str]],
    label_set: str | None = None,
    continuous: bool = False,
) -> PredictionTable:
    """The document ``write_json`` writes (``rows`` of clip/start/end/modality and ``values``; a row may
    give ``label`` instead of ``values`` for a hard label)."""
    try:
        doc = strict_json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PredictionFileError(f"{path.name} is not a JSON document Affectscope can read ({exc})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
        raise PredictionFileError(
            f'{path.name}: expected {{"format": "{FORMAT}", "columns": [...], "rows": [...]}}'
        )
    if doc.get("format", FORMAT) != FORMAT or doc.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise PredictionFileError(
            f"{path.name}: format {doc.get('format')!r} version {doc.get('version')!r}; this Affectscope "
            f"reads {FORMAT} version {FORMAT_VERSION}"
        )
    continuous = continuous or doc.get("kind") == "continuous"
    label_set = label_set or doc.get("label_set")
    value_cols = doc.get("columns")
    if not isinstance(value_cols, list) or not value_cols or not all(isinstance(c, str) for c in value_cols):
        labels = [r.get("label") for r in doc["rows"] if isinstance(r, dict) and "label" in r]
        if continuous or not labels:
            raise PredictionFileError(f"{path.name}: 'columns' must list the labels or outputs")
        label_set = _hard_label_set(labels, label_sets, label_set)
        value_cols = list(label_sets.get(label_set, ()))
    kind, label_set, columns = _kind_and_columns(value_cols, label_sets, label_set, continuous, path.name)
    order = [value_cols.index(c) for c in columns]
    problems = _Problems(path.name)
    rows: list[PredictionRow] = []
    for i, r in enumerate(doc["rows"]):
        where = f"row {i}"
        if not isinstance(r, dict) or not isinstance(r.get("clip"), (str, int)) or r.get("clip") == "":
            problems.add(where, "expected an object with a clip")
            continue
        start, end = _times(r.get("start"), r.get("end"), where, problems)
        if "label" in r and "values" not in r:
            values = _one_hot(str(r["label"]), columns, where, problems)
        else:
            raw = r.get("values")
            if not isinstance(raw, list) or len(raw) != len(value_cols):
                problems.add(where, f"'values' must list {len(value_cols)} numbers")
                continue
            if any(isinstance(v, bool) for v in raw):
                problems.add(where, "values must be numbers, not true/false")
                continue
            parsed = [_number(raw[k], where, columns[j], problems) for j, k in enumerate(order)]
            values = None if any(v is None for v in parsed) else [float(v) for v in parsed]  # type: ignore[arg-type]
        if values is None:
            continue
        _check_values(values, kind, where, problems)
        modality = str(r.get("modality") or "fused")
        rows.append(PredictionRow(str(r["clip"]), start, end, modality, tuple(values)))
    problems.raise_any()
    raw_ranges = doc.get("ranges") or {}
    if not isinstance(raw_ranges, dict) or not all(
        isinstance(p, list) and len(p) == 2 for p in raw_ranges.values()
    ):
        raise PredictionFileError(
            f'{path.name}: "ranges" maps outputs to [lo, hi], e.g. {{"valence": [-1, 1]}}'
        )
    declared = {k: check_range(k, p[0], p[1], f"{path.name}: ranges") for k, p in raw_ranges.items()}
    ranges = _declared_ranges(declared, kind, columns, f"{path.name}: ranges")
    table = PredictionTable(kind, columns, rows, label_set, doc.get("model"), ranges)
    return _finish(table, path.name)


def read_eaf(
    path: Path, label_sets: Mapping[str, Sequence[str]], label_set: str | None = None
) -> PredictionTable:
    """ELAN tiers named ``MODEL LANE`` (as ``write_eaf`` writes them): each annotation is a window with
    a hard label; the clip is the media file the .eaf links to."""
    import pympi

    problems = _Problems(path.name)
    try:
        eaf = pympi.Elan.Eaf(str(path))
    except Exception as exc:  # noqa: BLE001 - pympi raises bare errors on broken XML
        raise PredictionFileError(f"{path.name} is not an ELAN file pympi can read ({exc})") from exc
    media = [d.get("MEDIA_URL", "") for d in eaf.media_descriptors]
    if not media:
        raise PredictionFileError(f"{path.name} links no media file; ELAN's Linked files must name the clip")
    clip = Path(media[0].removeprefix("file://")).name
    found: list[tuple[str, float, float, str]] = []
    for tier in eaf.get_tier_names():
        lane = tier.rsplit(" ", 1)[-1] if " " in tier else "fused"
        for start_ms, end_ms, value, *_ in eaf.get_annotation_data_for_tier(tier):
            found.append((lane, start_ms / 1000.0, end_ms / 1000.0, str(value).strip()))
    label_set = _hard_label_set((v for *_, v in found), label_sets, label_set)
    labels = tuple(label_sets[label_set])
    rows = []
    for lane, t0, t1, value in found:
        values = _one_hot(value, labels, f"tier {lane} at {t0:.3f} s", problems)
        if values is not None:
            rows.append(PredictionRow(clip, t0, t1, lane, tuple(values)))
    problems.raise_any()
    return _finish(PredictionTable("categorical", labels, rows, label_set), path.name)


def _finish(table: PredictionTable, source: str) -> PredictionTable:
    if not table.rows:
        raise PredictionFileError(f"{source} has no prediction rows")
    seen: set[tuple[str, float | None, str]] = set()
    for r in table.rows:
        key = (r.clip, r.start, r.modality)
        if key in seen:
            where = "clip decision" if r.start is None else f"window at {r.start} s"
            raise PredictionFileError(
                f"{source}: {r.clip} {r.modality} {where} is given twice; nothing imported"
            )
        seen.add(key)
    return table


def read_table(
    path: Path,
    fmt: str | None,
    label_sets: Mapping[str, Sequence[str]],
    label_set: str | None = None,
    continuous: bool = False,
) -> PredictionTable:
    path = Path(path)
    if not path.is_file():
        raise PredictionFileError(f"{path}: no such file")
    fmt = guess_format(path, fmt)
    if fmt == "csv":
        return read_csv(path, label_sets, label_set, continuous)
    if fmt == "json":
        return read_json(path, label_sets, label_set, continuous)
    if continuous:
        raise PredictionFileError("ELAN tiers hold labels, not continuous values; use csv or json")
    return read_eaf(path, label_sets, label_set)


# -- writing ----------------------------------------------------------------------------------------
def _num(v: float | None) -> str:
    return "" if v is None else repr(float(v))


def _atomic_write(out: Path, text: str) -> None:
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)


def write_csv(table: PredictionTable, out: Path) -> None:
    import io

    buf = io.StringIO()
    if table.ranges:  # read back by read_csv
        ranged = [k for k in table.columns if k in table.ranges]  # in column order
        items = " ".join(f"{k}={_num(table.ranges[k][0])}:{_num(table.ranges[k][1])}" for k in ranged)
        buf.write(f"# range {items}\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*_ID_COLUMNS, *table.columns])
    for r in table.rows:
        w.writerow([r.clip, _num(r.start), _num(r.end), r.modality, *(repr(float(v)) for v in r.values)])
    _atomic_write(out, buf.getvalue())


def write_json(table: PredictionTable, out: Path) -> None:
    doc = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": table.model,
        "kind": table.kind,
        "label_set": table.label_set,
        "columns": list(table.columns),
        "ranges": {k: list(v) for k, v in table.ranges.items()},
        "rows": [
            {"clip": r.clip, "start": r.start, "end": r.end, "modality": r.modality, "values": list(r.values)}
            for r in table.rows
        ],
    }
    _atomic_write(out, strict_json.dumps(doc, indent=1) + "\n")


def write_eaf(
    table: PredictionTable, out: Path, media: Mapping[str, str], mimetype: Mapping[str, str]
) -> list[Path]:
    """One .eaf per clip (``out`` a folder; or ``out`` itself when it ends in .eaf and one clip is
    written): a tier ``MODEL LANE`` per lane holding each window's top label. ELAN tiers cannot
    overlap, so a window's annotation ends where the next window starts (the last keeps its end)."""
    import pympi

    if table.kind != "categorical":
        raise PredictionFileError("ELAN tiers hold labels; continuous outputs export as csv or json")
    by_clip: dict[str, list[PredictionRow]] = {}
    for r in table.rows:
        if r.start is not None:
            by_clip.setdefault(r.clip, []).append(r)
    single = out.suffix.lower() == ".eaf"
    if single and len(by_clip) > 1:
        raise PredictionFileError(f"{len(by_clip)} clips have predictions; give -o a folder (an .eaf each)")
    if not single:
        out.mkdir(parents=True, exist_ok=True)
    written = []
    for clip, rows in sorted(by_clip.items()):
        eaf = pympi.Elan.Eaf(author="affectscope")
        eaf.remove_tier("default")
        eaf.add_linked_file(Path(media[clip]).as_uri(), mimetype=mimetype[clip])
        lanes: dict[str, list[PredictionRow]] = {}
        for r in rows:
            lanes.setdefault(r.modality, []).append(r)
        for lane, lane_rows in lanes.items():
            tier = f"{table.model or 'model'} {lane}"
            eaf.add_tier(tier)
            lane_rows = sorted(lane_rows, key=lambda r: r.start)  # type: ignore[arg-type, return-value]
            for k, r in enumerate(lane_rows):
                end = lane_rows[k + 1].start if k + 1 < len(lane_rows) else r.end
                t0, t1 = round(r.start * 1000), round(min(end, r.end) * 1000)  # type: ignore[type-var, operator]
                if t1 > t0:
                    best = max(range(len(r.values)), key=r.values.__getitem__)
                    eaf.add_annotation(tier, t0, t1, table.columns[best])
        target = out if single else out / f"{Path(clip).stem}.eaf"
        eaf.to_file(str(target))
        written.append(target)
    return written
