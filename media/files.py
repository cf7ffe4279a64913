"""Clip identity and discovery: the content hash the database and feature cache key on, folder scans."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from affectscope.errors import MediaError

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
_CHUNK = 1 << 20


def content_hash(path: str | os.PathLike[str]) -> str:
    """blake2b (64-byte digest) hex of the whole file, streamed in 1 MiB chunks.

    The clip's identity: a renamed or moved clip keeps its hash; a re-encoded one does not.
    """
    h = hashlib.blake2b()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
    except FileNotFoundError as exc:
        raise MediaError(f"{path}: no such file.") from exc
    except IsADirectoryError as exc:
        raise MediaError(f"{path} is a folder, not a media file.") from exc
    except PermissionError as exc:
        raise MediaError(f"{path}: permission denied.") from exc
    return h.hexdigest()


def scan_folder(path: str | os.PathLike[str]) -> list[Path]:
    """Video files (by extension, any case) under ``path``, recursively, sorted; hidden ones skipped."""
    root = Path(path)
    if not root.is_dir():
        raise MediaError(f"{root} is not a folder.")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Hidden folders (.git, .cache) and macOS "._" resource forks are never clips.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and name.lower().endswith(VIDEO_EXTENSIONS):
                found.append(Path(dirpath) / name)
    return sorted(found)
