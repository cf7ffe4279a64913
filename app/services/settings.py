"""One typed, versioned settings object (STYLE.md §7), stored as JSON in the user's config folder.

``load_settings()`` reads it (defaults when absent, unreadable or from a newer version: never
fatal), ``save_settings(settings)`` writes it atomically. The folder is ``$AFFECTSCOPE_CONFIG_DIR``
when set (tests always set it); else ``$AFFECTSCOPE_DATA_DIR/config`` when a data folder is set, so
an instance given its own data folder also keeps its own settings; else the platform's config dir
(platformdirs). Nothing is written on import, nor by ``load_settings``.

Several instances may share one file: a save writes only what this instance changed since it last
read or wrote the file, merged under a lock into what is there now (recent paths and annotators
entry by entry), so one window never clobbers another's Open recent or annotators.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path

from affectscope import strict_json

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
FILE_NAME = "settings.json"
MAX_RECENT = 10


@dataclass
class Settings:
    """Everything the application remembers between sessions."""

    version: int = SCHEMA_VERSION
    window_geometry: str = ""  # base64 of QMainWindow.saveGeometry()
    window_state: str = ""  # base64 of QMainWindow.saveState() (docks, toolbars)
    recent_paths: list[str] = field(default_factory=list)
    playback_rate: float = 1.0
    device: str = "cpu"  # for inference: "cpu" or "cuda"
    annotators: dict[str, str] = field(default_factory=dict)  # project folder -> who labels there
    analysis_rate_hz: float = 10.0  # frames per second Analyse clip looks at (Perception tab)
    more_faces: bool = False  # Perception tab: the second face detector for group shots

    # What the file held when this instance last read or wrote it: a save merges only the changes.
    baseline: dict | None = field(default=None, repr=False, compare=False)

    def add_recent(self, path: str | os.PathLike[str]) -> None:
        p = str(Path(path).resolve())
        self.recent_paths = [p] + [r for r in self.recent_paths if r != p][: MAX_RECENT - 1]

    def values(self) -> dict:
        """The stored fields (what goes into the file)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "baseline"}


def readable_recent(paths: list[str]) -> list[str]:
    """The recent paths that can still be opened (moved, deleted or unreadable ones are left out)."""
    return [p for p in paths if Path(p).exists() and os.access(p, os.R_OK)]


def config_dir() -> Path:
    env = os.environ.get("AFFECTSCOPE_CONFIG_DIR")
    if env:
        return Path(env)
    data = os.environ.get("AFFECTSCOPE_DATA_DIR")
    if data:
        return Path(data) / "config"
    from platformdirs import user_config_dir

    return Path(user_config_dir("affectscope", appauthor=False))


def settings_path() -> Path:
    return config_dir() / FILE_NAME


def _migrate(data: dict) -> dict:
    """Bring an older file up to SCHEMA_VERSION (only version 1 exists so far)."""
    return data


def _read(path: Path) -> dict | None:
    """The file's fields, or None when absent, unreadable or from a newer version (logged)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("settings at %s unreadable (%s); using defaults", path, exc)
        return None
    if not isinstance(data, dict) or int(data.get("version", 0)) > SCHEMA_VERSION:
        log.warning("settings at %s are from a newer Affectscope; using defaults (the file is kept)", path)
        return None
    data = _migrate(data)
    known = {f.name for f in fields(Settings)} - {"baseline"}
    try:
        return Settings(
            **{k: v for k, v in data.items() if k in known} | {"version": SCHEMA_VERSION}
        ).values()
    except TypeError:
        return None


def load_settings() -> Settings:
    data = _read(settings_path())
    if data is None:
        return Settings()
    return Settings(**data, baseline=json.loads(strict_json.dumps(data)))


def _merged(mine: dict, base: dict, disk: dict) -> dict:
    """``disk`` with this instance's changes since ``base`` applied, entry by entry for lists/dicts."""
    out = dict(disk)
    for key, value in mine.items():
        if value == base.get(key):
            continue  # unchanged here: whatever another instance wrote stays
        if key == "recent_paths":
            # add_recent puts a path first: what stands before the old head is what was opened here.
            old = base.get(key, [])
            front = value[: value.index(old[0])] if old and old[0] in value else list(value)
            removed = set(old) - set(value)
            rest = [p for p in disk.get(key, []) if p not in front and p not in removed]
            out[key] = (front + rest)[:MAX_RECENT]
        elif key == "annotators":
            old = base.get(key, {})
            theirs = {k: v for k, v in disk.get(key, {}).items() if k in value or k not in old}
            out[key] = theirs | {k: v for k, v in value.items() if old.get(k) != v}
        else:
            out[key] = value
    return out


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<file>.lock`` (POSIX; elsewhere the atomic replace alone)."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def save_settings(settings: Settings) -> Path:
    """Merge this instance's changes into the file under a lock and write it atomically (a crash
    mid-write leaves the old file); ``settings`` then holds the merged values."""
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        disk = _read(path) or Settings().values()
        base = settings.baseline if settings.baseline is not None else Settings().values()
        merged = _merged(settings.values(), base, disk)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(strict_json.dumps(merged, indent=2))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    for key, value in merged.items():
        setattr(settings, key, value)
    settings.baseline = json.loads(strict_json.dumps(merged))
    return path
