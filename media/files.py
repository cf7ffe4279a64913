"""Clip identity and discovery: the content hash the database and feature cache key on, folder scans."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from affectscope.errors import MediaError

# The one list of video extensions: what folder scans and the file dialog's filter offer. What a file
# *is* is decided by probing its content (``media_kind``), so a clip with another extension still opens.
VIDEO_EXTENSIONS = (
    ".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".flv", ".f4v", ".mpg", ".mpeg", ".m2v", ".vob",
    ".ts", ".mts", ".m2ts", ".3gp", ".3g2", ".wmv", ".asf", ".ogv", ".mxf", ".dv", ".nut",
)  # fmt: skip
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus", ".aac", ".wma")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
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


def media_kind(path: str | os.PathLike[str]) -> str:
    """ "video", "audio" or "image": images by extension (a face image), everything else by what
    FFmpeg finds inside (a picture track makes a video whatever the extension: .flv, .ts, .3gp, ...).

    MediaError when FFmpeg reads neither picture nor sound from the file.
    """
    p = Path(path)
    if p.suffix.lower() in IMAGE_EXTENSIONS:
        return "image"
    import av

    from affectscope.media.container import open_container

    with open_container(p) as container:
        video = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
        if video:
            return "video"
        if container.streams.audio:
            return "audio"
    raise MediaError(f"{p} holds neither video nor audio that FFmpeg can read.")


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
