"""Answers collected outside the reader mode (paper forms, a web survey) imported into a study from a
CSV, validated as live answers are: the reader is one of the study's readers, the (arm, case) is in that
reader's order and not answered yet, the label is one of the study's, confidence 0-100, time_ms >= 0.
All or nothing: one bad row refuses the file, naming its line, and nothing is stored.

Columns: ``reader, arm, case, label`` and optionally ``confidence, time_ms``. ``case`` is the case
number of ``study export --format csv`` (1-based), the case's opaque key (``case-1a2b3c4d``), or the
clip (its path or file name, as the study's case refs name it).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from affectscope.app.services.reading import case_key, check_answer
from affectscope.app.services.studies import StudyError, find_study
from affectscope.db import studies as rows
from affectscope.db.engine import Database
from affectscope.db.label_sets import utcnow
from affectscope.db.uow import unit_of_work

REQUIRED = ("reader", "arm", "case", "label")
OPTIONAL = ("confidence", "time_ms")
MAX_ERRORS = 5


def _number(text: str, column: str) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        v = float(text)
    except ValueError:
        raise StudyError(f"{column} {text!r} is not a number") from None
    if not math.isfinite(v):
        raise StudyError(f"{column} {text!r} is not a finite number")
    return v


def import_answers(db: Database, study: str | int, path: str | Path) -> dict:
    """Validate every row, then store them all in one transaction; returns what was imported."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            table = [{(k or "").strip(): (v or "") for k, v in r.items()} for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise StudyError(f"{path}: cannot read it as a CSV ({exc})") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise StudyError(
            f"{path}: missing column(s) {', '.join(missing)}; the columns are "
            f"{', '.join(REQUIRED + OPTIONAL)} (confidence and time_ms may be empty)"
        )
    if not table:
        raise StudyError(f"{path} has no answers (only a header)")
    with unit_of_work(db, write=True) as s:
        st = find_study(s, study)
        arms = {a.name: a.id for a in rows.study_arms(s, st.id)}
        cases = rows.study_cases(s, st.id)
        readers = {r.name: r.id for r in rows.study_readers(s, st.id)}
        by_ref: dict[str, int] = {}
        for c in cases:
            by_ref[str(c.position + 1)] = c.id
            by_ref[case_key(st.id, c.id, st.seed)] = c.id
            by_ref.setdefault(c.ref, c.id)
        paths = rows.clip_media(s, [c.clip_id for c in cases if c.clip_id is not None])
        clip_case = {c.clip_id: c.id for c in cases if c.clip_id is not None}
        for cid, m in paths.items():
            by_ref.setdefault(m.path, clip_case[cid])
            by_ref.setdefault(Path(m.path).name, clip_case[cid])
        assigned = {rid: {(a, c) for _, _, a, c in rows.reader_steps(s, rid)} for rid in readers.values()}
        done = {rid: rows.answered_pairs(s, rid) for rid in readers.values()}
        errors: list[str] = []
        out: list[dict] = []
        seen: set[tuple[int, int, int]] = set()
        now = utcnow()
        for line, r in enumerate(table, start=2):
            try:
                name, arm, case = r["reader"].strip(), r["arm"].strip(), r["case"].strip()
                if name not in readers:
                    raise StudyError(
                        f"{name!r} is not a reader of study {st.name!r} (add them first: affectscope study "
                        "add-readers)"
                    )
                if arm not in arms:
                    raise StudyError(f"no arm {arm!r} (arms: {', '.join(arms)})")
                if case not in by_ref:
                    raise StudyError(f"no case {case!r} in this study (give its number, key or clip)")
                rid, aid, cid = readers[name], arms[arm], by_ref[case]
                if (aid, cid) not in assigned[rid]:
                    raise StudyError(f"case {case!r} in arm {arm!r} is not in {name}'s order")
                conf = _number(r.get("confidence", ""), "confidence")
                t_ms = _number(r.get("time_ms", ""), "time_ms")
                check_answer(st.labels, r["label"].strip(), conf, t_ms)
                if (aid, cid) in done[rid] or (rid, aid, cid) in seen:
                    raise StudyError(f"{name} has already answered case {case!r} in arm {arm!r}")
            except StudyError as exc:
                errors.append(f"line {line}: {exc}")
                if len(errors) >= MAX_ERRORS:
                    break
                continue
            seen.add((rid, aid, cid))
            out.append(
                {"study_id": st.id, "arm_id": aid, "case_id": cid, "reader_id": rid, "session_id": None,
                 "label": r["label"].strip(), "confidence": None if conf is None else int(round(conf)),
                 "note": "imported from " + Path(path).name, "time_ms": t_ms, "plays": 0, "answered_at": now}
            )  # fmt: skip
        if errors:
            more = " (and maybe more)" if len(errors) >= MAX_ERRORS else ""
            raise StudyError(f"{path}: nothing imported; " + "; ".join(errors) + more)
        rows.insert_responses(s, out)
    return {"study": st.name, "file": str(path), "imported": len(out)}
