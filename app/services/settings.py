"""One typed, versioned settings object (STYLE.md §7), stored as JSON in the user's config folder.

``load_settings()`` reads it (defaults when absent, unreadable or from a newer version: never
fatal), ``save_settings(settings)`` writes it atomically. The folder is ``$AFFECTSCOPE_CONFIG_DIR``
when set (tests always set it), else the platform's config dir (platformdirs). Nothing is written on
import, nor by ``load_settings``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
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

    def add_recent(self, path: str | os.PathLike[str]) -> None:
        p = str(Path(path).resolve())
        self.recent_paths = [p] + [r for r in self.recent_paths if r != p][: MAX_RECENT - 1]


def config_dir() -> Path:
    env = os.environ.get("AFFECTSCOPE_CONFIG_DIR")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("affectscope", appauthor=False))


def settings_path() -> Path:
    return config_dir() / FILE_NAME


def _migrate(data: dict) -> dict:
    """Bring an older file up to SCHEMA_VERSION (only version 1 exists so far)."""
    return data


def load_settings() -> Settings:
    path = settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        log.warning("settings at %s unreadable (%s); using defaults", path, exc)
        return Settings()
    if not isinstance(data, dict) or int(data.get("version", 0)) > SCHEMA_VERSION:
        log.warning("settings at %s are from a newer Affectscope; using defaults (the file is kept)", path)
        return Settings()
    data = _migrate(data)
    known = {f.name for f in fields(Settings)}
    try:
        return Settings(**{k: v for k, v in data.items() if k in known} | {"version": SCHEMA_VERSION})
    except TypeError:
        return Settings()


def save_settings(settings: Settings) -> Path:
    """Write atomically (a crash mid-write leaves the old file)."""
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(strict_json.dumps(asdict(settings), indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path
