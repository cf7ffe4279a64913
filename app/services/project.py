"""A project: a folder holding ``affectscope.json`` and (by default) its SQLite database, or pointing at
a PostgreSQL database by URL. Create, open, import a folder of clips (new, moved, changed, missing),
and the session's choice of annotator and label set.

Re-importing probes only files whose size or modification time changed; a file at a new path whose
content hash matches a clip whose old path is gone is the same clip moved (its labels follow it).
Each file is committed on its own so a cancelled or killed import keeps what it already recorded.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from affectscope import strict_json
from affectscope.db import clips as clip_rows
from affectscope.db import labels as label_rows
from affectscope.db import project_meta
from affectscope.db.engine import Database, display_url, normalize_url, open_database
from affectscope.db.label_sets import (
    BUILTIN_LABEL_SETS,
    DEFAULT_LABEL_SET,
    add_label_set,
    all_label_sets,
    get_label_set,
    utcnow,
)
from affectscope.db.records import ClipRecord, ClipScan
from affectscope.db.uow import unit_of_work
from affectscope.errors import MediaError, StorageError
from affectscope.jobs import Job, ensure_job

PROJECT_FILE = "affectscope.json"
DB_FILE = "project.db"
FORMAT = 1


def default_annotator() -> str:
    """$AFFECTSCOPE_ANNOTATOR, else the login name: who labels when nobody said."""
    name = os.environ.get("AFFECTSCOPE_ANNOTATOR", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "annotator"


@dataclass
class Project:
    """An open project. ``annotator`` and ``label_set`` are this session's choices."""

    folder: Path
    db: Database
    annotator: str
    label_set: str

    # -- create and open -------------------------------------------------------------------------
    @classmethod
    def init(
        cls,
        folder: str | os.PathLike[str],
        db_url: str | None = None,
        name: str | None = None,
        recreate: bool = False,
    ) -> Project:
        """Create the project folder and database (or open them if they exist with the same database).

        An existing project whose database is missing or empty is refused, as by ``open``, unless
        ``recreate`` (the explicit ``affectscope project init``) asks for an empty database again.
        """
        folder = Path(folder).expanduser().resolve()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the project folder {folder}: {exc.strerror}") from None
        meta_path = folder / PROJECT_FILE
        if meta_path.exists():
            stored = _read_meta(folder).get("db_url")
            if db_url is not None and display_url(normalize_url(db_url)) != stored:
                raise StorageError(
                    f"{folder} is already a project on database {stored or DB_FILE}; "
                    "choose another folder for a project on another database"
                )
            return cls.open(folder, create=recreate)
        if not os.access(folder, os.W_OK):
            raise StorageError(f"the folder {folder} is read-only; choose a folder you can write to")
        project = cls._connect(folder, db_url, create=True)
        with unit_of_work(project.db, write=True) as s:
            for key, value in (
                ("name", name or folder.name),
                ("created_at", utcnow().isoformat()),
                ("default_label_set", DEFAULT_LABEL_SET),
            ):
                project_meta.set_meta_default(s, key, value)
        meta = {"format": FORMAT, "name": name or folder.name}
        if db_url is not None:
            # Never store a password: the server takes it from PGPASSWORD or ~/.pgpass.
            meta["db_url"] = project.db.display_url
        tmp = meta_path.with_suffix(".json.tmp")
        tmp.write_text(strict_json.dumps(meta, indent=2) + "\n")
        os.replace(tmp, meta_path)  # atomic: a crash leaves the old file or the new one, never half
        return project

    @classmethod
    def open(cls, folder: str | os.PathLike[str], create: bool = False) -> Project:
        """Open an existing project; a missing, empty or truncated database is refused (StorageError),
        never recreated (``create`` is for ``init`` only)."""
        folder = Path(folder).expanduser().resolve()
        try:
            exists = (folder / PROJECT_FILE).exists()
        except PermissionError:
            raise StorageError(f"you may not read the project folder {folder}; fix its permissions") from None
        if not exists:
            raise StorageError(
                f"{folder} is not an Affectscope project (no {PROJECT_FILE}); "
                "create one with: affectscope project init DIR --clips FOLDER"
            )
        meta = _read_meta(folder)
        if meta.get("format", 1) > FORMAT:
            raise StorageError(f"{folder} was made by a newer Affectscope; update Affectscope to open it")
        return cls._connect(folder, meta.get("db_url"), create=create)

    @classmethod
    def _connect(cls, folder: Path, db_url: str | None, create: bool) -> Project:
        # $AFFECTSCOPE_DB_URL (may hold a password) overrides the stored, password-free URL.
        url = os.environ.get("AFFECTSCOPE_DB_URL") if db_url is not None else None
        db = open_database(url or db_url or folder / DB_FILE, create=create)
        with unit_of_work(db) as s:
            stored = project_meta.get_meta(s, "default_label_set")
        label_set = stored if stored is not None else DEFAULT_LABEL_SET
        return cls(folder=folder, db=db, annotator=default_annotator(), label_set=label_set)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- choices -----------------------------------------------------------------------------------
    def label_sets(self) -> dict[str, tuple[str, ...]]:
        with unit_of_work(self.db) as s:
            return all_label_sets(s)

    def labels(self, label_set: str | None = None) -> tuple[str, ...]:
        with unit_of_work(self.db) as s:
            return get_label_set(s, label_set or self.label_set)

    def choose_label_set(self, name: str) -> tuple[str, ...]:
        labels = self.labels(name)
        self.label_set = name
        return labels

    def add_label_set(self, name: str, labels: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        with unit_of_work(self.db, write=True) as s:
            return add_label_set(s, name, labels)

    def choose_annotator(self, name: str) -> str:
        """Become ``name`` (created on first use) for the labels of this session."""
        with unit_of_work(self.db, write=True) as s:
            self.annotator = label_rows.get_or_create_annotator(s, name).name
        return self.annotator

    def summary(self) -> dict:
        """What ``project info`` reports: database, clip and label row counts, annotators, label sets."""
        with unit_of_work(self.db) as s:
            n_clips, missing = clip_rows.clip_counts(s)
            n_labels = sum(label_rows.label_counts(s).values())
        return {
            "db": self.db.display_url,
            "clips": n_clips,
            "missing_clips": missing,
            "label_rows": n_labels,
            "annotators": self.annotators(),
            "label_set": self.label_set,
            "label_sets": {k: list(v) for k, v in self.label_sets().items()},
        }

    def annotators(self) -> list[str]:
        with unit_of_work(self.db) as s:
            return [a.name for a in label_rows.list_annotators(s) if a.kind == "human"]

    # -- clips ---------------------------------------------------------------------------------------
    def clips(self, query: clip_rows.ClipQuery | None = None) -> list[ClipRecord]:
        query = query or clip_rows.ClipQuery(label_set=self.label_set)
        with unit_of_work(self.db) as s:
            return clip_rows.list_clips(s, query)

    def clip(self, ref: str | int) -> ClipRecord:
        with unit_of_work(self.db) as s:
            return clip_rows.clip_record(s, clip_rows.find_clip(s, ref).id, self.label_set)

    def clip_file(self, clip_id: int) -> Path:
        """The clip's file, or MediaError saying it moved and how to find it again."""
        record = self.clip(clip_id)
        path = Path(record.path)
        if not path.exists():
            raise MediaError(
                f"the clip {path.name} is no longer at {path}; if it moved, import its new folder again "
                f"(affectscope project init {self.folder} --clips NEW_FOLDER) and its labels will follow it"
            )
        return path

    def import_clips(self, folder: str | os.PathLike[str], job: Job | None = None) -> ClipScan:
        """Record every clip under ``folder``: new ones probed, moved and changed ones noticed."""
        from affectscope.media import scan_folder

        root = Path(folder).expanduser().resolve()
        files = scan_folder(root)
        with unit_of_work(self.db, write=True) as s:
            clip_rows.record_clip_folder(s, str(root))
        scan = self._record_files(files, ensure_job(job))
        missing = self._mark_missing(root, {str(p) for p in files} | {old for old, _ in scan.moved})
        return replace(scan, missing=tuple(missing))

    def import_clip_file(self, path: Path) -> ClipScan:
        """Record exactly this one file (new, moved or changed), scanning no folder."""
        return self._record_files([Path(path)], ensure_job(None))

    def _record_files(self, files: list[Path], job: Job) -> ClipScan:
        from affectscope.media import content_hash, probe
        from affectscope.models.training.datasets import known_speaker

        with unit_of_work(self.db) as s:
            known = clip_rows.file_facts(s)
        added, moved, changed, unchanged, failed = [], [], [], [], []
        for i, path in enumerate(files):
            job.check()
            job.progress(i, len(files), path.name)
            key = str(path)
            stat = path.stat()
            if key in known and known[key][:2] == (stat.st_size, stat.st_mtime):
                unchanged.append(key)
                continue
            try:
                digest = content_hash(path)
                if key in known:
                    if digest == known[key][2]:
                        self._touch(key, stat)
                        unchanged.append(key)
                    else:
                        self._update_facts(key, digest, stat, probe(path))
                        changed.append(key)
                    continue
                old = self._moved_from(digest)
                if old is not None:
                    self._move(old, key, stat)
                    moved.append((old, key))
                    continue
                info = probe(path)
            except MediaError as exc:
                failed.append((key, str(exc)))
                continue
            with unit_of_work(self.db, write=True) as s:
                facts = {
                    "path": key,
                    "content_hash": digest,
                    "size_bytes": stat.st_size,
                    "mtime": stat.st_mtime,
                    "speaker": known_speaker(path),  # EmoDB / RAVDESS names state it
                }
                clip_rows.add_clip(s, **facts, **_facts(info))
            added.append(key)
        job.progress(len(files), len(files), "done")
        return ClipScan(tuple(added), tuple(moved), tuple(changed), (), tuple(unchanged), tuple(failed))

    def _touch(self, path: str, stat: os.stat_result) -> None:
        with unit_of_work(self.db, write=True) as s:
            clip = clip_rows.clip_by_path(s, path)
            clip.size_bytes, clip.mtime, clip.status = stat.st_size, stat.st_mtime, "ok"

    def _update_facts(self, path: str, digest: str, stat: os.stat_result, info: object) -> None:
        with unit_of_work(self.db, write=True) as s:
            clip = clip_rows.clip_by_path(s, path)
            for field, value in _facts(info).items():
                setattr(clip, field, value)
            clip.content_hash, clip.size_bytes, clip.mtime = digest, stat.st_size, stat.st_mtime
            clip.status, clip.updated_at = "changed", utcnow()

    def _moved_from(self, digest: str) -> str | None:
        """The old path of a clip with this content whose file is gone (the same clip, moved)."""
        with unit_of_work(self.db) as s:
            for path in clip_rows.paths_with_hash(s, digest):
                if not Path(path).exists():
                    return path
        return None

    def _move(self, old: str, new: str, stat: os.stat_result) -> None:
        with unit_of_work(self.db, write=True) as s:
            clip = clip_rows.clip_by_path(s, old)
            clip.path, clip.size_bytes, clip.mtime, clip.status = new, stat.st_size, stat.st_mtime, "ok"
            clip.updated_at = utcnow()

    def _mark_missing(self, root: Path, seen: set[str]) -> list[str]:
        missing = []
        with unit_of_work(self.db, write=True) as s:
            for clip in clip_rows.paths_under(s, str(root)):
                if clip.path not in seen and not Path(clip.path).exists():
                    clip.status = "missing"
                    missing.append(clip.path)
        return missing


def _facts(info: object) -> dict:
    return {
        "duration": float(info.duration),
        "fps": float(info.fps),
        "width": int(info.width),
        "height": int(info.height),
        "n_frames": int(info.n_frames),
        "has_audio": bool(info.has_audio),
    }


def _read_meta(folder: Path) -> dict:
    """The project file, checked: an object whose ``format`` is a whole number and ``db_url`` text."""
    path = folder / PROJECT_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read {path}: {exc}; restore it from a backup") from None
    except RecursionError:
        raise StorageError(
            f"{path} is nested too deeply to be a project file; restore it from a backup"
        ) from None
    if not isinstance(meta, dict):
        raise StorageError(
            f"{path} is not an Affectscope project file (not a JSON object); restore it from a backup"
        )
    fmt = meta.get("format", FORMAT)
    if isinstance(fmt, bool) or not isinstance(fmt, int):
        raise StorageError(
            f'{path}: "format" must be a whole number, not {fmt!r:.40}; restore it from a backup'
        )
    if not isinstance(meta.get("db_url") or "", str):
        raise StorageError(f'{path}: "db_url" must be a database URL; restore it from a backup')
    return meta


__all__ = ["BUILTIN_LABEL_SETS", "DB_FILE", "PROJECT_FILE", "Project", "default_annotator"]
