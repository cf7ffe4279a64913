"""Clip rows: record, find, and the clip browser's query (sort and filter by label, annotator, agreement).

The browser query reads only ``clips`` and the ``clip_current`` cache (one row per clip and label
set), so sorting or filtering 100,000 clips never touches the label history.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from affectscope import strict_json
from affectscope.db.label_sets import LabelError, utcnow
from affectscope.db.labels import aware
from affectscope.db.records import ClipQuery, ClipRecord
from affectscope.db.schema import Annotator, AnnotatorCurrent, Clip, ClipCurrent, ProjectMeta

SORT_KEYS = ("path", "label", "annotator", "labelled_at", "agreement", "n_annotators", "duration", "id")


def add_clip(session: Session, **facts: object) -> Clip:
    """Insert a clip row from probed facts (path, content_hash, duration, fps, width, height, ...)."""
    now = utcnow()
    clip = Clip(status="ok", added_at=now, updated_at=now, **facts)
    session.add(clip)
    session.flush()
    return clip


def clip_by_path(session: Session, path: str) -> Clip | None:
    return session.scalar(select(Clip).where(Clip.path == path))


def find_clip(session: Session, ref: str | int) -> Clip:
    """A clip by id, exact stored path, resolved path, or unique file name; LabelError saying why not."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and not Path(ref).exists()):
        clip = session.get(Clip, int(ref))
        if clip is None:
            raise LabelError(f"no clip with id {ref} in this project")
        return clip
    ref = str(ref)
    for candidate in (ref, str(Path(ref).expanduser().resolve())):
        clip = clip_by_path(session, candidate)
        if clip is not None:
            return clip
    name = Path(ref).name
    matches = session.scalars(select(Clip).where(Clip.path.like(f"%{name}"))).all()
    matches = [c for c in matches if Path(c.path).name == name]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise LabelError(f"{name!r} names {len(matches)} clips in this project; give the full path")
    raise LabelError(f"{ref!r} is not a clip of this project; import it first (affectscope project init)")


_CLIP_COLUMNS = (Clip.id, Clip.path, Clip.content_hash, Clip.duration, Clip.fps, Clip.width, Clip.height,
                 Clip.n_frames, Clip.has_audio, Clip.status)  # fmt: skip


def _browser_select(q: ClipQuery) -> Select:
    cur = ClipCurrent
    query = (
        # Plain columns, not ORM entities: building 100,000 Clip objects costs seconds.
        select(
            *_CLIP_COLUMNS,
            Clip.speaker,
            cur.value,
            Annotator.name,
            cur.created_at,
            cur.n_annotators,
            cur.agreement,
        )
        .outerjoin(cur, and_(cur.clip_id == Clip.id, cur.label_set == q.label_set))
        .outerjoin(Annotator, Annotator.id == cur.annotator_id)
    )
    if q.label == "-":
        query = query.where(cur.value.is_(None))
    elif q.label is not None:
        query = query.where(cur.value == q.label)
    if q.annotator is not None:
        by = select(Annotator.id).where(Annotator.name == q.annotator).scalar_subquery()
        query = query.where(
            exists().where(
                AnnotatorCurrent.clip_id == Clip.id,
                AnnotatorCurrent.label_set == q.label_set,
                AnnotatorCurrent.annotator_id == by,
            )
        )
    if q.min_agreement is not None:
        query = query.where(cur.agreement >= q.min_agreement)
    if q.max_agreement is not None:
        query = query.where(cur.agreement <= q.max_agreement)
    if q.text:
        query = query.where(Clip.path.contains(q.text, autoescape=True))
    if q.status:
        query = query.where(Clip.status == q.status)
    return query


def list_clips(session: Session, q: ClipQuery) -> list[ClipRecord]:
    if q.sort not in SORT_KEYS:
        raise LabelError(f"cannot sort clips by {q.sort!r}; choose one of {', '.join(SORT_KEYS)}")
    column = {
        "path": Clip.path,
        "label": ClipCurrent.value,
        "annotator": Annotator.name,
        "labelled_at": ClipCurrent.created_at,
        "agreement": ClipCurrent.agreement,
        "n_annotators": ClipCurrent.n_annotators,
        "duration": Clip.duration,
        "id": Clip.id,
    }[q.sort]
    order = column.desc() if q.descending else column.asc()
    # Unlabelled clips last either way; the id makes the order total (stable paging).
    query = _browser_select(q).order_by(column.is_(None), order, Clip.id).offset(q.offset)
    if q.limit is not None:
        query = query.limit(q.limit)
    return [_record(row) for row in session.execute(query)]


def _record(row) -> ClipRecord:
    *facts, speaker, value, by, at, n, agreement = row
    return ClipRecord(
        *facts, value, by, aware(at) if at is not None else None, n or 0, agreement, speaker=speaker
    )


def clip_speakers(session: Session) -> dict[int, str | None]:
    """Every clip's speaker (None where not known), by clip id."""
    return dict(session.execute(select(Clip.id, Clip.speaker)).all())


def set_speakers(session: Session, speakers: dict[int, str | None]) -> int:
    """Record each clip's speaker (None forgets it); returns how many clips changed."""
    rows = {c.id: c for c in session.scalars(select(Clip).where(Clip.id.in_(list(speakers))))}
    changed = 0
    for clip_id, speaker in speakers.items():
        row = rows.get(clip_id)
        if row is not None and row.speaker != speaker:
            row.speaker = speaker
            changed += 1
    return changed


def count_clips(session: Session, q: ClipQuery | None = None) -> int:
    q = q or ClipQuery()
    return session.scalar(select(func.count()).select_from(_browser_select(q).subquery())) or 0


def clip_record(session: Session, clip_id: int, label_set: str) -> ClipRecord:
    found = session.execute(_browser_select(ClipQuery(label_set=label_set)).where(Clip.id == clip_id)).first()
    if found is None:
        raise LabelError(f"no clip with id {clip_id} in this project")
    return _record(found)


def paths_under(session: Session, folder: str) -> list[Clip]:
    """Clips whose stored path lies under ``folder`` (for re-import: which ones went missing)."""
    prefix = folder.rstrip("/\\")
    candidates = session.scalars(select(Clip).where(Clip.path.startswith(prefix, autoescape=True)))
    return [c for c in candidates if Path(c.path).is_relative_to(prefix)]


_FOLDERS_KEY = "clip_folders"


def record_clip_folder(session: Session, folder: str) -> None:
    """Remember a folder clips were imported from: label imports may take new files from it by path."""
    row = session.get(ProjectMeta, _FOLDERS_KEY)
    folders = strict_json.loads(row.value) if row is not None else []
    if folder in folders:
        return
    folders.append(folder)
    if row is None:
        session.add(ProjectMeta(key=_FOLDERS_KEY, value=strict_json.dumps(folders)))
    else:
        row.value = strict_json.dumps(folders)


def clip_folders(session: Session) -> list[str]:
    """The project's clip folders: those its clips were imported from (with their sub-folders) and the
    folder of every clip it holds (projects made before folders were recorded)."""
    row = session.get(ProjectMeta, _FOLDERS_KEY)
    folders = set(strict_json.loads(row.value)) if row is not None else set()
    folders.update(str(Path(p).parent) for p in session.scalars(select(Clip.path)))
    return sorted(folders)


@dataclass(frozen=True)
class ClipSpanFacts:
    """What a label import needs of a clip to check a span: its id, duration and frame rate."""

    id: int
    duration: float
    fps: float


def clips_by_paths(session: Session, paths: list[str]) -> dict[str, ClipSpanFacts]:
    """The clips stored at these exact paths (a few queries for any number of paths)."""
    found: dict[str, ClipSpanFacts] = {}
    for i in range(0, len(paths), 500):
        query = select(Clip.path, Clip.id, Clip.duration, Clip.fps).where(Clip.path.in_(paths[i : i + 500]))
        for path, clip_id, duration, fps in session.execute(query):
            found[path] = ClipSpanFacts(clip_id, duration, fps)
    return found


def file_facts(session: Session) -> dict[str, tuple[int | None, float | None, str | None]]:
    """Every clip's path -> (size in bytes, modification time, content hash): what a re-import compares."""
    rows = session.execute(select(Clip.path, Clip.size_bytes, Clip.mtime, Clip.content_hash))
    return {path: (size, mtime, digest) for path, size, mtime, digest in rows}


def paths_with_hash(session: Session, digest: str) -> list[str]:
    """The paths of the clips whose content hash is ``digest``."""
    return list(session.scalars(select(Clip.path).where(Clip.content_hash == digest)))


def clip_counts(session: Session) -> tuple[int, int]:
    """(clips, of which missing) in the project."""
    n = session.scalar(select(func.count()).select_from(Clip)) or 0
    missing = session.scalar(select(func.count()).select_from(Clip).where(Clip.status == "missing")) or 0
    return int(n), int(missing)
