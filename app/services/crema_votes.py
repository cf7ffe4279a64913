"""Checking a CREMA-D ``tabulatedVotes.csv`` whole before the import creates anything.

``study_stats.import_crema_d`` creates the study first and reads the votes after: a malformed file (a
vote count that is not a number, a file name without a known emotion, a row whose id names no
presentation, a missing column, text that is not UTF-8) stopped it with a traceback halfway and left an
empty ``crema-d`` study behind that then blocked a retry (issue 23). ``check_votes`` reads the file
with the same rules first and says in one line which row is wrong.
"""

from __future__ import annotations

import csv
from pathlib import Path

from affectscope.app.services.studies import StudyError
from affectscope.app.services.study_stats import CREMA_ARMS, CREMA_CODES, CREMA_FILE_EMOTION

_COLUMNS = ("", *CREMA_CODES, "fileName")
MAX_VOTES = 1000  # per clip and category; CREMA-D has at most a dozen raters per clip


def check_votes(folder: str | Path) -> int:
    """The number of vote rows in ``folder/tabulatedVotes.csv``; StudyError naming the first bad row."""
    path = Path(folder) / "tabulatedVotes.csv"
    if not path.is_file():
        raise StudyError(f"{folder} has no tabulatedVotes.csv; point at the CREMA-D ratings folder")
    line = 1
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c or '""' for c in _COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise StudyError(
                    f"{path.name} is not CREMA-D's tabulated votes: no {', '.join(missing)} column"
                )
            n = 0
            for row in reader:
                line = reader.line_num
                _check_row(row, f"{path.name} line {line}")
                n += 1
    except UnicodeDecodeError:
        raise StudyError(f"{path.name} is not UTF-8 text; use CREMA-D's own file") from None
    except csv.Error as exc:
        raise StudyError(f"{path.name} line {line + 1}: not readable as CSV ({exc})") from None
    if n == 0:
        raise StudyError(f"{path.name} holds no votes")
    return n


def _check_row(row: dict, where: str) -> None:
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
    for code in CREMA_CODES:
        text = row[code].strip()
        if not text.isdigit() or int(text) > MAX_VOTES:
            raise StudyError(
                f"{where}: the {code} vote count {row[code][:20]!r} is not a whole number of votes"
            )
