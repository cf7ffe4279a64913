"""CREMA-D's crowd ratings (``tabulatedVotes.csv``) imported as a reference study, in one transaction.

The import once created the study first and read the votes after: a malformed file (a vote count that
is not a number, a file name without a known emotion, a row whose id names no presentation, a missing
column, text that is not UTF-8) stopped it with a traceback half-way and left an empty ``crema-d`` study
behind that then blocked a retry (issue 23). Now ``read_votes`` checks the whole file first and says in
one line which row is wrong, and ``import_crema_d`` writes the label set, the study and every vote in
one unit of work: a refusal or a cancellation at any point leaves the database as it was.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from affectscope.app.services.studies import ArmSpec, CaseSpec, StudyError, write_study
from affectscope.db import studies as rows
from affectscope.db.engine import Database
from affectscope.db.label_sets import add_label_set, all_label_sets, utcnow
from affectscope.db.uow import unit_of_work
from affectscope.jobs import Job, ensure_job

CREMA_LABEL_SET = "crema6"
CREMA_CODES = {"A": "anger", "D": "disgust", "F": "fear", "H": "happy", "N": "neutral", "S": "sad"}
CREMA_FILE_EMOTION = {"ANG": "A", "DIS": "D", "FEA": "F", "HAP": "H", "NEU": "N", "SAD": "S"}
CREMA_ARMS = {
    "1": ArmSpec("voice", "audio"),
    "2": ArmSpec("face", "video"),
    "3": ArmSpec("audiovisual", "audiovisual"),
}
_COLUMNS = ("", *CREMA_CODES, "fileName")
MAX_VOTES = 1000  # per clip and category; CREMA-D has at most a dozen raters per clip
_BATCH = 20_000  # responses per INSERT


@dataclass(frozen=True)
class CremaVote:
    """One row of the file: which presentation, which clip, and how many raters chose each emotion."""

    arm: str  # CREMA_ARMS key
    clip: str  # fileName, ACTOR_SENTENCE_EMOTION_LEVEL
    counts: tuple[int, ...]  # in CREMA_CODES order


def read_votes(folder: str | Path) -> list[CremaVote]:
    """Every vote row of ``folder/tabulatedVotes.csv``, checked; StudyError naming the first bad row."""
    path = Path(folder) / "tabulatedVotes.csv"
    if not path.is_file():
        raise StudyError(f"{folder} has no tabulatedVotes.csv; point at the CREMA-D ratings folder")
    line = 1
    votes: list[CremaVote] = []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c or '""' for c in _COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise StudyError(
                    f"{path.name} is not CREMA-D's tabulated votes: no {', '.join(missing)} column"
                )
            for row in reader:
                line = reader.line_num
                votes.append(_vote(row, f"{path.name} line {line}"))
    except UnicodeDecodeError:
        raise StudyError(f"{path.name} is not UTF-8 text; use CREMA-D's own file") from None
    except csv.Error as exc:
        raise StudyError(f"{path.name} line {line + 1}: not readable as CSV ({exc})") from None
    if not votes:
        raise StudyError(f"{path.name} holds no votes")
    return votes


def _vote(row: dict, where: str) -> CremaVote:
    if None in row or any(row[c] is None for c in _COLUMNS):
        raise StudyError(f"{where}: the row does not have the header's columns")
    if not row[""] or row[""][0] not in CREMA_ARMS:
        raise StudyError(
            f"{where}: id {row[''][:20]!r} must start with 1, 2 or 3 (voice, face, audio-visual)"
        )
    parts = row["fileName"].split("_")
    if len(parts) != 4 or parts[2] not in CREMA_FILE_EMOTION:
        raise StudyError(
            f"{where}: file name {row['fileName'][:60]!r} is not ACTOR_SENTENCE_EMOTION_LEVEL with an "
            f"emotion of {', '.join(CREMA_FILE_EMOTION)}"
        )
    counts = []
    for code in CREMA_CODES:
        text = row[code].strip()
        if not text.isdigit() or int(text) > MAX_VOTES:
            raise StudyError(
                f"{where}: the {code} vote count {row[code][:20]!r} is not a whole number of votes"
            )
        counts.append(int(text))
    return CremaVote(row[""][0], row["fileName"], tuple(counts))


def import_crema_d(db: Database, folder: str | Path, name: str = "crema-d", job: Job | None = None) -> int:
    """CREMA-D's tabulated crowd votes as a study: three arms (voice, face, audio-visual), one case per
    clip (no media), truth from the file name's intended emotion, each vote an anonymous response.
    The whole file is checked before anything is written, and everything is written in one transaction."""
    job = ensure_job(job)
    votes = read_votes(folder)
    clips = sorted({v.clip for v in votes})
    cases = [CaseSpec(None, f, None, CREMA_CODES[CREMA_FILE_EMOTION[f.split("_")[2]]]) for f in clips]
    labels = list(CREMA_CODES.values())
    with unit_of_work(db, write=True) as s:
        if CREMA_LABEL_SET not in all_label_sets(s):
            add_label_set(s, CREMA_LABEL_SET, labels)
        study_id = write_study(
            s, name, CREMA_LABEL_SET, list(CREMA_ARMS.values()), cases, design="split", source="imported",
            description="CREMA-D crowd ratings (Cao et al. 2014), tabulatedVotes.csv; votes are anonymous",
        )  # fmt: skip
        arm_ids = {a.name: a.id for a in rows.study_arms(s, study_id)}
        case_ids = {c.ref: c.id for c in rows.study_cases(s, study_id)}
        now = utcnow()
        batch: list[dict] = []
        for i, v in enumerate(votes):
            if i % 2000 == 0:
                job.check()  # Cancelled rolls the whole import back
                job.progress(i, len(votes), "importing votes")
            arm, case = arm_ids[CREMA_ARMS[v.arm].name], case_ids[v.clip]
            for label, n in zip(labels, v.counts, strict=True):
                batch += [
                    {"study_id": study_id, "arm_id": arm, "case_id": case, "label": label, "plays": 1,
                     "answered_at": now}
                ] * n  # fmt: skip
            if len(batch) >= _BATCH:
                rows.insert_responses(s, batch)
                batch = []
        rows.insert_responses(s, batch)
    job.progress(len(votes), len(votes), "done")
    return study_id
