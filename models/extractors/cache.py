"""On-disk cache of extraction results, keyed by clip content, extractor versions and settings.

One folder per key under the cache root: ``tracks.npz`` (every array, loaded with
``allow_pickle=False``) and ``signals.json`` (face observations, track metadata, settings). Tracks
sampled on a regular clock (the audio waveform) store their clock instead of a times array.
The root is the project's folder when the caller has one, else ``$AFFECTSCOPE_CACHE_DIR``, else
the user cache dir. Writes go to a temporary folder renamed into place, so a crash or two
processes extracting the same clip never leave a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from affectscope import strict_json
from affectscope.models.signals import ClipSignals, FaceObservation, Track

FORMAT = 1


def cache_root(project_dir: str | Path | None = None) -> Path:
    """Where extraction results live: ``<project>/cache/extract``, $AFFECTSCOPE_CACHE_DIR, or the user's."""
    if project_dir is not None:
        return Path(project_dir) / "cache" / "extract"
    env = os.environ.get("AFFECTSCOPE_CACHE_DIR")
    if env:
        return Path(env) / "extract"
    import platformdirs

    return Path(platformdirs.user_cache_dir("affectscope")) / "extract"


def cache_key(clip_hash: str, versions: dict[str, str], settings: dict) -> str:
    blob = strict_json.dumps({"format": FORMAT, "versions": versions, "settings": settings}, sort_keys=True)
    return f"{clip_hash[:32]}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def _regular_clock(times: np.ndarray) -> tuple[float, float] | None:
    if len(times) < 3:
        return None
    step = (times[-1] - times[0]) / (len(times) - 1)
    if step > 0 and np.allclose(times, times[0] + step * np.arange(len(times)), rtol=0, atol=1e-9):
        return float(times[0]), float(step)
    return None


def save(signals: ClipSignals, root: Path, key: str) -> Path:
    """Write ``signals`` under ``root/key`` atomically; returns the entry folder."""
    root.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {"frame_times": signals.frame_times}
    meta_tracks = {}
    for name, tr in signals.tracks.items():
        clock = _regular_clock(tr.times)
        if clock is None:
            arrays[f"t/{name}"] = tr.times
        arrays[f"v/{name}"] = tr.values
        meta_tracks[name] = {"names": list(tr.names), "reason": tr.reason, "clock": clock, "n": len(tr)}
    # Landmarks and skeletons are stacked into one array each: thousands of tiny zip members are slow.
    landmarks: list[np.ndarray] = []
    faces = []
    for frame in signals.faces:
        row = []
        for f in frame:
            lm_index = None
            if f.landmarks is not None:
                lm_index = len(landmarks)
                landmarks.append(np.asarray(f.landmarks, np.float32))
            row.append(
                {
                    "track_id": f.track_id,
                    "box": list(f.box),
                    "expression": None if f.expression is None else [float(x) for x in f.expression],
                    "mouth_open": f.mouth_open,
                    "landmarks": lm_index,
                }
            )
        faces.append(row)
    arrays["landmarks"] = np.stack(landmarks) if landmarks else np.zeros((0, 68, 2), np.float32)
    skeletons = [np.asarray(kp, np.float32) for people in signals.people for kp in people]
    arrays["people"] = np.stack(skeletons) if skeletons else np.zeros((0, 33, 4), np.float32)
    meta = {
        "format": FORMAT,
        "clip_hash": signals.clip_hash,
        "duration": signals.duration,
        "width": signals.width,
        "height": signals.height,
        "audio_rate": signals.audio_rate,
        "extractor_versions": signals.extractor_versions,
        "settings": signals.settings,
        "tracks": meta_tracks,
        "faces": faces,
        "people": [len(p) for p in signals.people],
        "undecodable_times": list(signals.undecodable_times),
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    try:
        np.savez_compressed(tmp / "tracks.npz", **arrays)
        (tmp / "signals.json").write_text(strict_json.dumps(meta))
        final = root / key
        try:
            tmp.rename(final)
        except OSError:  # another process wrote the same entry first: theirs is as good
            shutil.rmtree(tmp, ignore_errors=True)
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load(root: Path, key: str) -> ClipSignals | None:
    """The cached entry, or None when absent or unreadable (a damaged entry is removed)."""
    entry = root / key
    if not (entry / "signals.json").is_file():
        return None
    try:
        meta = json.loads((entry / "signals.json").read_text())
        with np.load(entry / "tracks.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return _from_parts(meta, arrays)
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        shutil.rmtree(entry, ignore_errors=True)
        return None


def _from_parts(meta: dict, arrays: dict[str, np.ndarray]) -> ClipSignals:
    if meta.get("format") != FORMAT:
        raise ValueError("old cache format")
    tracks = {}
    for name, tm in meta["tracks"].items():
        values = arrays[f"v/{name}"]
        if tm["clock"] is not None:
            t0, step = tm["clock"]
            times = t0 + step * np.arange(tm["n"])
        else:
            times = arrays[f"t/{name}"]
        tracks[name] = Track(times, values, names=tuple(tm["names"]), reason=tm["reason"])
    faces = [
        [
            FaceObservation(
                track_id=f["track_id"],
                box=tuple(f["box"]),
                landmarks=None if f["landmarks"] is None else arrays["landmarks"][f["landmarks"]],
                expression=None if f["expression"] is None else np.asarray(f["expression"], np.float32),
                mouth_open=f["mouth_open"],
            )
            for f in row
        ]
        for row in meta["faces"]
    ]
    offsets = np.concatenate([[0], np.cumsum(meta["people"], dtype=int)])
    people = [list(arrays["people"][a:b]) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    return ClipSignals(
        clip_hash=meta["clip_hash"],
        duration=meta["duration"],
        width=meta["width"],
        height=meta["height"],
        frame_times=arrays["frame_times"],
        faces=faces,
        tracks=tracks,
        audio_rate=meta["audio_rate"],
        extractor_versions=meta["extractor_versions"],
        people=people,
        settings=meta["settings"],
        from_cache=True,
        undecodable_times=list(meta.get("undecodable_times", [])),
    )
