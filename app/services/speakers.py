"""Who speaks in each clip: from a file-name pattern, a CSV, or the names a corpus gives its files.

Speaker-independent splits hold whole speakers out (never one actor in both train and test), so the
retrain split and the relabel queue's out-of-fold model group clips by speaker. A project learns its
clips' speakers three ways:

- on import, from names that state them: EmoDB's first two digits (``03a01Fa`` → ``emodb:03``),
  RAVDESS's last field (``03-01-05-01-02-01-12`` → ``ravdess:12``);
- ``assign_speakers(project, pattern=...)``: a regular expression over the file name whose first
  group (or the group named ``speaker``) is the speaker, e.g. ``^(\\d{4})_`` for CREMA-D;
- ``assign_speakers(project, csv=...)``: a CSV with ``path`` (or ``file``) and ``speaker`` columns,
  a path relative to the CSV's folder or a bare file name.

Stored in ``clips.speaker``; ``affectscope project speakers`` and Project ▸ Speakers… call this.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affectscope.db import clips as clip_rows
from affectscope.db.uow import unit_of_work
from affectscope.errors import UserFacingError


class SpeakerError(UserFacingError):
    pass


@dataclass
class SpeakerReport:
    """What an assignment did: clips given a speaker, clips it could not place, distinct speakers."""

    assigned: int = 0
    changed: int = 0
    unmatched: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "assigned": self.assigned,
            "changed": self.changed,
            "unmatched": self.unmatched,
            "speakers": self.speakers,
        }


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A file-name pattern with the speaker in its first group (or the group ``speaker``)."""
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise SpeakerError(f"the speaker pattern {pattern!r} is not a regular expression: {exc}") from None
    if rx.groups < 1:
        raise SpeakerError(f"the speaker pattern {pattern!r} needs a group (…) around the speaker")
    return rx


def speaker_from_name(path: str | Path, rx: re.Pattern[str]) -> str | None:
    """The speaker ``rx`` finds in the file name (searched, so it need not match from the start)."""
    m = rx.search(Path(path).name)
    if m is None:
        return None
    value = m.group("speaker") if "speaker" in rx.groupindex else m.group(1)
    return value or None


def read_speaker_csv(path: str | Path) -> dict[str, str]:
    """``path``/``file`` → ``speaker`` rows of a CSV; keys are resolved paths and bare file names."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise SpeakerError(f"cannot read the speaker CSV {path}: {exc.strerror or exc}") from None
    if not rows or "speaker" not in rows[0] or not ({"path", "file"} & set(rows[0])):
        raise SpeakerError(f"{path} needs a header with 'path' (or 'file') and 'speaker' columns")
    out: dict[str, str] = {}
    for row in rows:
        name, speaker = (row.get("path") or row.get("file") or "").strip(), (row.get("speaker") or "").strip()
        if not name or not speaker:
            continue
        file = Path(name)
        out[str((path.parent / file).resolve()) if not file.is_absolute() else str(file.resolve())] = speaker
        out.setdefault(file.name, speaker)
    return out


def assign_speakers(
    project: Any, pattern: str | None = None, csv_path: str | Path | None = None
) -> SpeakerReport:
    """Give every clip of ``project`` its speaker from ``pattern`` or the CSV at ``csv_path``.

    Clips the pattern or CSV does not name keep what they had (a corpus name's speaker, say) and are
    listed as unmatched. Committed in one transaction.
    """
    if (pattern is None) == (csv_path is None):
        raise SpeakerError("give a file-name pattern or a CSV of speakers (one of them)")
    rx = compile_pattern(pattern) if pattern is not None else None
    table = read_speaker_csv(csv_path) if csv_path is not None else {}
    report = SpeakerReport()
    found: dict[int, str] = {}
    for clip in project.clips():
        if rx is not None:
            speaker = speaker_from_name(clip.path, rx)
        else:
            speaker = table.get(str(Path(clip.path).resolve())) or table.get(Path(clip.path).name)
        if speaker is None:
            report.unmatched.append(clip.path)
        else:
            found[clip.id] = speaker
    with unit_of_work(project.db, write=True) as s:
        report.changed = clip_rows.set_speakers(s, found)
    report.assigned = len(found)
    report.speakers = sorted(set(found.values()))
    return report


def clip_speakers(project: Any) -> dict[int, str | None]:
    """Each clip's stored speaker (None: not known), by clip id."""
    with unit_of_work(project.db) as s:
        return clip_rows.clip_speakers(s)
