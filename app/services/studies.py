"""Reader studies without Qt: design a study (checked so that it cannot be invalid), give each reader a
seeded order, and read back what they answered. Reading itself is app/services/reading.py.

Orders are stored (``study_assignments``) and reproducible: reader ``p`` (0-based position) reads, in a
crossed design, every arm in the rotated order ``arms[p:] + arms[:p]`` (a Latin-square rotation, so arm
order is counterbalanced over readers), each arm a separate session with its cases shuffled by
``numpy.random.default_rng([seed, p, arm])``. In a split design each reader reads each case once, case
``i`` in arm ``(i + p) % n_arms``, so every case is read in every arm by some reader.

A design is checked case by case against its arms when created (``check_design``): an audio arm needs
sound, a video arm a picture, an assisted arm that version's prediction, a scored case a reference label.
Misfits are refused, naming the clips, unless the caller allows them; then each kept case records why.

Every query is a db/studies.py function; this module imports no SQLAlchemy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from affectscope import strict_json
from affectscope.db import clips as clip_rows
from affectscope.db import studies as rows
from affectscope.db.engine import Database
from affectscope.db.label_sets import get_label_set, utcnow
from affectscope.db.studies import ASSISTANCE, DESIGNS, PRESENTATIONS, StudyRecord
from affectscope.db.uow import unit_of_work
from affectscope.errors import UserFacingError


class StudyError(UserFacingError):
    """A study, arm, reader or answer that does not exist or does not fit the design."""


@dataclass(frozen=True)
class ArmSpec:
    name: str
    presentation: str = "audiovisual"  # audio | video | audiovisual
    assistance: str = "none"  # none | model
    model_version_id: int | None = None
    show_saliency: bool = False


@dataclass(frozen=True)
class CaseSpec:
    clip_id: int | None
    ref: str
    span: tuple[float, float] | None = None
    truth: str | None = None
    practice: bool = False


@dataclass(frozen=True)
class Misfit:
    """A case that does not fit an arm (or, ``arm`` None, the study): which clip and why."""

    ref: str
    arm: str | None
    reason: str


def __getattr__(name: str) -> Any:  # noqa: ANN401 - reading lives in reading.py; old callers find it here
    if name in ("ReadingSession", "Stimulus", "Assistance", "CaseMedia"):
        from affectscope.app.services import reading

        return getattr(reading, name)
    raise AttributeError(name)


# -- design ---------------------------------------------------------------------------------------------
def select_cases(
    db: Database,
    label_set: str,
    *,
    refs: Sequence[str | int] | None = None,
    query: clip_rows.ClipQuery | None = None,
    per_label: int | None = None,
    seed: int = 0,
    practice: bool = False,
) -> list[CaseSpec]:
    """Cases by hand (``refs``: paths, names or ids), by filter (``query``), or a stratified random
    sample of ``per_label`` clips per current label (seeded). Truth is each clip's current label."""
    with unit_of_work(db) as s:
        if refs:
            ids = [clip_rows.find_clip(s, r).id for r in refs]
        else:
            q = query or clip_rows.ClipQuery(label_set=label_set, status="ok")
            ids = [c.id for c in clip_rows.list_clips(s, q)]
        current = rows.current_values(s, label_set, ids)
        paths = {cid: m.path for cid, m in rows.clip_media(s, ids).items()}
    if per_label is not None:
        rng = np.random.default_rng(seed)
        strata: dict[str, list[int]] = defaultdict(list)
        for cid in sorted(ids):
            if cid in current:
                strata[current[cid]].append(cid)
        ids = []
        for value in sorted(strata):
            pool = strata[value]
            take = rng.choice(len(pool), size=min(per_label, len(pool)), replace=False)
            ids += [pool[i] for i in sorted(take)]
    return [CaseSpec(cid, Path(paths[cid]).name, None, current.get(cid), practice) for cid in ids]


def check_design(
    db: Database, arms: Sequence[ArmSpec], cases: Sequence[CaseSpec], label_set: str | None = None
) -> list[Misfit]:
    """Every case against every arm it may be read in: sound for audio arms, a picture for video arms,
    the named version's prediction for assisted arms, a reference label for scored cases, media that
    exist. Cases without a clip (imported studies) have no media to check. An assisted arm's version
    must predict the study's ``label_set`` (its answer is shown as one of the reader's choices)."""
    ids = [c.clip_id for c in cases if c.clip_id is not None]
    out: list[Misfit] = []
    with unit_of_work(db) as s:
        media = rows.clip_media(s, ids)
        predicted: dict[int, set[int]] = {}
        for a in arms:
            if a.assistance == "model" and a.model_version_id is not None:
                if rows.model_version_name(s, a.model_version_id) is None:
                    raise StudyError(
                        f"arm {a.name!r}: there is no model version {a.model_version_id} in this project; "
                        "list them with: affectscope versions --project DIR"
                    )
                predicts = rows.model_version_label_set(s, a.model_version_id)
                if label_set is not None and predicts != label_set:
                    raise StudyError(
                        f"arm {a.name!r}: model version {a.model_version_id} predicts {predicts}, not the "
                        f"study's {label_set}; its answers could not be shown as the reader's choices"
                    )
                predicted[a.model_version_id] = set(rows.model_predictions(s, a.model_version_id, ids))
    for c in cases:
        if not c.practice and c.truth is None:
            out.append(Misfit(c.ref, None, "no reference label (the case could not be scored)"))
        if c.clip_id is None:
            continue
        m = media.get(c.clip_id)
        if m is None or m.status == "missing" or not Path(m.path).exists():
            out.append(Misfit(c.ref, None, "its media file is missing"))
            continue
        for a in arms:
            if a.presentation in ("audio", "audiovisual") and not m.has_audio:
                out.append(Misfit(c.ref, a.name, f"{a.presentation} arm, but the clip has no sound"))
            if a.presentation in ("video", "audiovisual") and not m.has_video:
                out.append(Misfit(c.ref, a.name, f"{a.presentation} arm, but the clip has no picture"))
            if a.assistance == "model" and c.clip_id not in predicted.get(a.model_version_id, set()):
                out.append(
                    Misfit(c.ref, a.name, f"assisted arm, but model version {a.model_version_id} has no "
                           "prediction for it")
                )  # fmt: skip
    return out


def misfit_message(misfits: Sequence[Misfit], limit: int = 8) -> str:
    """One line naming the clips that do not fit (the first few, and how many more)."""
    parts = [f"{m.ref} ({m.arm + ': ' if m.arm else ''}{m.reason})" for m in misfits[:limit]]
    more = f" and {len(misfits) - limit} more" if len(misfits) > limit else ""
    clips = len({m.ref for m in misfits})
    return (
        f"{clips} case(s) do not fit this design: {'; '.join(parts)}{more}; drop them, fix them, or keep "
        "them with --allow-mismatch (recorded with the study)"
    )


def _check_arms(arms: Sequence[ArmSpec], design: str) -> None:
    if design not in DESIGNS:
        raise StudyError(f"design must be one of {', '.join(DESIGNS)}, not {design!r}")
    if not arms:
        raise StudyError("a study needs at least one arm")
    if len({a.name for a in arms}) != len(arms):
        raise StudyError("arm names must differ")
    for a in arms:
        if not a.name.strip():
            raise StudyError("an arm needs a name")
        if a.presentation not in PRESENTATIONS:
            raise StudyError(
                f"presentation must be one of {', '.join(PRESENTATIONS)}, not {a.presentation!r}"
            )
        if a.assistance not in ASSISTANCE:
            raise StudyError(f"assistance must be one of {', '.join(ASSISTANCE)}, not {a.assistance!r}")
        if a.assistance == "model" and a.model_version_id is None:
            raise StudyError(f"arm {a.name!r} is model-assisted but names no model version")


def create_study(
    db: Database,
    name: str,
    label_set: str,
    arms: Sequence[ArmSpec],
    cases: Sequence[CaseSpec],
    *,
    design: str = "crossed",
    seed: int = 0,
    readers: Sequence[str] = (),
    description: str = "",
    source: str = "designed",
    allow_mismatch: bool = False,
    break_s: float = 0.0,
    washout_s: float = 0.0,
) -> int:
    """Create a study (labels frozen), its arms and cases, and the readers' orders; returns its id.
    A design with misfits (``check_design``) is refused unless ``allow_mismatch``; kept misfits are
    recorded on their cases."""
    _check_arms(arms, design)
    if not name.strip():
        raise StudyError("a study needs a name")
    if break_s < 0 or washout_s < 0 or not np.isfinite([break_s, washout_s]).all():
        raise StudyError("the break and the washout are seconds, 0 or more")
    if not [c for c in cases if not c.practice]:
        raise StudyError("a study needs at least one scored case")
    misfits = check_design(db, arms, cases, label_set) if source == "designed" else []
    if misfits and not allow_mismatch:
        raise StudyError(misfit_message(misfits))
    why: dict[str, list[str]] = defaultdict(list)
    for m in misfits:
        why[m.ref].append(f"{m.arm}: {m.reason}" if m.arm else m.reason)
    with unit_of_work(db, write=True) as s:
        study_id = write_study(
            s, name, label_set, arms, cases, design=design, seed=seed, description=description,
            source=source, break_s=break_s, washout_s=washout_s, why=why,
        )  # fmt: skip
    if readers:
        add_readers(db, study_id, readers)
    return study_id


def write_study(
    s,  # noqa: ANN001 - an open write session (db/uow.py)
    name: str,
    label_set: str,
    arms: Sequence[ArmSpec],
    cases: Sequence[CaseSpec],
    *,
    design: str,
    seed: int = 0,
    description: str = "",
    source: str = "designed",
    break_s: float = 0.0,
    washout_s: float = 0.0,
    why: dict[str, list[str]] | None = None,
) -> int:
    """Insert a checked study's row, arms and cases in the caller's transaction; returns its id. An
    import (CREMA-D) writes its study and responses in one transaction through this, so a refusal
    half-way leaves nothing behind."""
    why = why or {}
    if not name.strip():
        raise StudyError("a study needs a name")
    if name.isdigit():
        raise StudyError(f"study name {name!r}: a name cannot be only digits (those are study ids)")
    if rows.find_study(s, name) is not None:
        raise StudyError(f"a study called {name!r} exists already; choose another name")
    labels = get_label_set(s, label_set)
    for c in cases:
        if c.truth is not None and c.truth not in labels:
            raise StudyError(f"case {c.ref}: truth {c.truth!r} is not in label set {label_set}")
    study = {
        "name": name, "label_set": label_set, "labels_json": strict_json.dumps(list(labels)),
        "design": design, "seed": int(seed), "source": source, "description": description,
        "created_at": utcnow(), "break_s": float(break_s), "washout_s": float(washout_s),
    }  # fmt: skip
    arm_cols = [
        {"name": a.name, "presentation": a.presentation, "assistance": a.assistance,
         "model_version_id": a.model_version_id, "show_saliency": a.show_saliency}
        for a in arms
    ]  # fmt: skip
    case_cols = [
        {"clip_id": c.clip_id, "ref": c.ref, "truth": c.truth, "practice": c.practice,
         "start_ms": None if c.span is None else int(round(c.span[0] * 1000)),
         "end_ms": None if c.span is None else int(round(c.span[1] * 1000)),
         "misfit": "; ".join(why.get(c.ref, ())) or None}
        for c in cases
    ]  # fmt: skip
    return rows.insert_study(s, study, arm_cols, case_cols)


def free_study_name(db: Database, stem: str = "study") -> str:
    """The first of ``stem-1``, ``stem-2``, ... that no study has (what a new-study form proposes)."""
    with unit_of_work(db) as s:
        taken = set(rows.study_names(s))
    k = 1
    while f"{stem}-{k}" in taken:
        k += 1
    return f"{stem}-{k}"


def find_study(session, ref: str | int) -> StudyRecord:  # noqa: ANN001
    """The study (a record) called ``ref`` or with that id, in an open session."""
    st = rows.find_study(session, ref)
    if st is None:
        raise StudyError(
            f"no study {str(ref)!r} in this project; list them with: affectscope study show --project DIR"
        )
    return st


def reader_order(
    design: str, seed: int, position: int, arm_ids: Sequence[int], case_ids: Sequence[int]
) -> list[tuple[int, int, int, int]]:
    """The (session_index, position, arm_id, case_id) steps of reader ``position``: pure, from the seed."""
    n_arms = len(arm_ids)
    rotated = [(position + k) % n_arms for k in range(n_arms)]
    steps = []
    for session_index, a in enumerate(rotated):
        if design == "crossed":
            mine = list(case_ids)
        else:
            mine = [c for i, c in enumerate(case_ids) if (i + position) % n_arms == a]
        perm = np.random.default_rng([seed, position, a]).permutation(len(mine))
        steps += [(session_index, k, arm_ids[a], mine[j]) for k, j in enumerate(perm)]
    return steps


def add_readers(db: Database, study: str | int, names: Sequence[str]) -> list[str]:
    """Add readers (each with their stored, seeded order); readers already in the study are kept as is."""
    added = []
    with unit_of_work(db, write=True) as s:
        st = find_study(s, study)
        arm_ids = [a.id for a in rows.study_arms(s, st.id)]
        case_ids = [c.id for c in rows.study_cases(s, st.id)]
        existing = rows.study_readers(s, st.id)
        names_in = {r.name for r in existing}
        position = len(existing)
        for name in names:
            name = name.strip()
            if not name or name in names_in:
                continue
            steps = reader_order(st.design, st.seed, position, arm_ids, case_ids)
            rows.insert_reader(s, st.id, name, position, steps, utcnow())
            names_in.add(name)
            added.append(name)
            position += 1
    return added


# -- reading back ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReaderVote:
    """One reader's answer about a clip (for relabel queues): which study/arm, who, what, how sure."""

    clip_id: int
    study: str
    arm: str
    presentation: str
    assistance: str
    reader: str | None  # None: an anonymous imported vote
    label: str
    confidence: int | None
    answered_at: datetime


def clip_reader_votes(
    db: Database, clip_ids: Sequence[int] | None = None, label_set: str | None = None
) -> dict[int, list[ReaderVote]]:
    """Every reader answer per clip (cases without a clip are left out), oldest first; with
    ``label_set``, only the answers of studies in that label set."""
    out: dict[int, list[ReaderVote]] = defaultdict(list)
    with unit_of_work(db) as s:
        for row in rows.reader_vote_rows(s, clip_ids, label_set):
            out[row[0]].append(ReaderVote(*row))
    return dict(out)


def list_studies(db: Database) -> list[dict]:
    with unit_of_work(db) as s:
        return [study_summary(s, st) for st in rows.all_studies(s)]


def study_summary(session, st: StudyRecord) -> dict:  # noqa: ANN001
    arms = rows.study_arms(session, st.id)
    readers = rows.study_readers(session, st.id)
    cases = rows.study_cases(session, st.id, practice=None)
    answered = rows.response_counts(session, st.id)
    todo = rows.assignment_counts(session, st.id)
    return {
        "id": st.id,
        "name": st.name,
        "label_set": st.label_set,
        "labels": list(st.labels),
        "design": st.design,
        "seed": st.seed,
        "source": st.source,
        "n_cases": sum(1 for c in cases if not c.practice),
        "n_practice_cases": sum(1 for c in cases if c.practice),
        "break_s": st.break_s,
        "washout_s": st.washout_s,
        "arms": [
            {
                "name": a.name,
                "presentation": a.presentation,
                "assistance": a.assistance,
                "model_version_id": a.model_version_id,
            }
            for a in arms
        ],
        "readers": [
            {"name": r.name, "answered": int(answered.get(r.id, 0)), "assigned": int(todo.get(r.id, 0))}
            for r in readers
        ],
        "misfits": [{"case": c.ref, "reason": c.misfit} for c in cases if c.misfit],
        "n_responses": int(sum(answered.values())),
        "n_anonymous_responses": int(answered.get(None, 0)),
    }


def show_study(db: Database, study: str | int) -> dict:
    with unit_of_work(db) as s:
        return study_summary(s, find_study(s, study))
