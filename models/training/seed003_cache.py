"""Seed 003's training data as one compact file, so it can train on a lent accelerator (issue 19).

An accelerator machine receives only a working tree of at most 64 MiB and has neither the shared
data nor PyAV, soundfile, openSMILE or dlib. ``pack`` therefore decodes here what seed 003 reads —
16 kHz speech and 48×48 grey faces with the mini-Xception's probabilities — into one compressed
npz: speech as 8-bit mu-law per file (peak-scaled, the scale kept; about 38 dB SNR, and every
file is levelled to −20 dBFS speech by the model afterwards anyway), faces as uint8. ``load``
turns it back into the ``ClipSignals`` the model's own ``batch_from_signals`` cuts windows from,
so the accelerator builds exactly the inputs inference builds.

Groups (the development protocol of docs/models.md): EmoDB speakers other than 03, 08, 09 train;
EmoDB 09 and RAVDESS actors 1–12 (repetition 1: the tree's size limit) validate; FER-2013's sharp
train images, ``per_class`` per sentiment class, 85/15 train/validation. Nothing of the test sets
(EmoDB 03 + 08, RAVDESS 13–20, FER-2013 test_sample) is packed: they are scored here afterwards.
Every item carries its content hash and speaker for the card's ``data_records``.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectscope import strict_json
from affectscope.models.signals import ClipSignals, Track

AUDIO_RATE = 16000
MU = 255.0
#: speech groups and face groups, in the order ``pack`` writes them
SPEECH_GROUPS = ("emodb_train", "emodb_val", "ravdess_dev")
FACE_GROUPS = ("fer_train", "fer_val")
EMODB_TEST = ("emodb:03", "emodb:08")
EMODB_VAL = ("emodb:09",)
RAVDESS_DEV = tuple(range(1, 13))


def content_hash(path: str | Path) -> str:
    """sha256 of the file's bytes, first 16 hex digits (the card's ``data_records`` hash)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def mulaw_encode(wave: np.ndarray) -> tuple[np.ndarray, float]:
    """8-bit mu-law codes of ``wave`` scaled to its peak, and that peak."""
    scale = float(np.max(np.abs(wave))) if len(wave) else 0.0
    x = wave / scale if scale > 0 else np.zeros_like(wave)
    y = np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)
    return np.round((y + 1.0) * 127.5).astype(np.uint8), scale


def mulaw_decode(codes: np.ndarray, scale: float) -> np.ndarray:
    y = codes.astype(np.float32) / 127.5 - 1.0
    return (np.sign(y) * np.expm1(np.abs(y) * np.log1p(MU)) / MU * scale).astype(np.float32)


def pack(
    data: Path, out: Path, per_class: int = 1500, seed: int = 0, limit: int | None = None
) -> dict[str, Any]:
    """Decode the training and validation data of seed 003 into ``out`` (one .npz); return its summary.

    ``limit``: at most that many files of each speech group (quick runs and tests)."""
    from affectscope.models.training import datasets as ds
    from affectscope.models.training import system_data as sd
    from affectscope.models.training.splits import by_speakers, random_split

    emodb = ds.emodb(data / "emodb")
    rest, _test = by_speakers(emodb, EMODB_TEST)
    sp_train, sp_val = by_speakers(rest, EMODB_VAL)
    rav = [
        s
        for s in ds.ravdess(data / "ravdess_speech", actors=set(RAVDESS_DEV))
        if s.path.stem.split("-")[5] == "01"
    ]
    if limit:
        sp_train, sp_val, rav = sp_train[::-1][:limit], sp_val[:limit], rav[::7][:limit]
    speech = [(s, 0) for s in sp_train] + [(s, 1) for s in sp_val] + [(s, 2) for s in rav]
    codes, offsets, scales = [], [0], []
    for s, _g in speech:
        c, k = mulaw_encode(sd.speech_arrays(s.path, laughter=False)["wave"])
        codes.append(c)
        offsets.append(offsets[-1] + len(c))
        scales.append(k)
    faces = ds.fer(data / "fer2013" / "train", per_class=per_class, seed=seed)
    f_train, f_val = random_split(faces, 0.15, seed)
    face_items = [(s, 0) for s in f_train] + [(s, 1) for s in f_val]
    arrays = sd.face_arrays([s.path for s, _ in face_items])
    arrays_out = {
        "wave_codes": np.concatenate(codes),
        "wave_offsets": np.asarray(offsets, np.int64),
        "wave_scales": np.asarray(scales, np.float32),
        "speech_label": np.asarray([s.label for s, _ in speech], np.int64),
        "speech_group": np.asarray([g for _, g in speech], np.int64),
        "face_grey": np.stack([a["grey"] for a in arrays]).astype(np.uint8),
        "face_probs": np.stack([a["probs"] for a in arrays]).astype(np.float32),
        "face_label": np.asarray([s.label for s, _ in face_items], np.int64),
        "face_group": np.asarray([g for _, g in face_items], np.int64),
    }
    meta = {
        "speech": [
            {"hash": content_hash(s.path), "speaker": s.speaker, "name": s.path.name} for s, _ in speech
        ],
        "faces": [
            {"hash": content_hash(s.path), "name": f"{s.emotion}/{s.path.name}"} for s, _ in face_items
        ],
        "per_class": per_class,
        "seed": seed,
    }
    arrays_out["meta_json"] = np.frombuffer(strict_json.dumps(meta).encode(), np.uint8)
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays_out)
    out.write_bytes(buf.getvalue())
    return {
        "bytes": out.stat().st_size,
        "speech": {g: int(np.sum(arrays_out["speech_group"] == i)) for i, g in enumerate(SPEECH_GROUPS)},
        "faces": {g: int(np.sum(arrays_out["face_group"] == i)) for i, g in enumerate(FACE_GROUPS)},
    }


@dataclass
class Cache:
    """The packed data, decoded: speech waveforms and faces with labels, groups and records."""

    waves: list[np.ndarray]
    speech_label: np.ndarray
    speech_group: np.ndarray
    face_grey: np.ndarray
    face_probs: np.ndarray
    face_label: np.ndarray
    face_group: np.ndarray
    meta: dict[str, Any]

    def speech(self, group: str) -> np.ndarray:
        return np.flatnonzero(self.speech_group == SPEECH_GROUPS.index(group))

    def faces(self, group: str) -> np.ndarray:
        return np.flatnonzero(self.face_group == FACE_GROUPS.index(group))

    def speech_signals(self, i: int) -> ClipSignals:
        """Speech file ``i`` as perception gives an audio file (``system_data.speech_signals``)."""
        wave = self.waves[i]
        tracks = {"audio": Track(np.arange(len(wave)) / AUDIO_RATE, wave)}
        return ClipSignals(
            self.meta["speech"][i]["name"], len(wave) / AUDIO_RATE, 0, 0, np.zeros(0), [], tracks
        )

    def face_signals(self, i: int) -> ClipSignals:
        from affectscope.models.training.system_data import face_signals

        return face_signals(self.face_grey[i], self.face_probs[i], self.meta["faces"][i]["name"])

    def records(self) -> dict[str, Any]:
        """The card's ``data_records`` (train / validation; tuning: the same development set)."""
        sp, fa = self.meta["speech"], self.meta["faces"]

        def role(speech_idx: np.ndarray, face_idx: np.ndarray) -> dict[str, Any]:
            items = sorted({sp[i]["hash"] for i in speech_idx} | {fa[i]["hash"] for i in face_idx})
            speakers = sorted({sp[i]["speaker"] for i in speech_idx})
            return {"n": len(items), "items": items, "speakers": speakers}

        val_sp = np.concatenate([self.speech("emodb_val"), self.speech("ravdess_dev")])
        return {
            "format": 1,
            "hash": "sha256 of the file's bytes, first 16 hex digits",
            "reconstructed": False,
            "train": role(self.speech("emodb_train"), self.faces("fer_train")),
            "validation": role(val_sp, self.faces("fer_val")),
            "tuning": role(val_sp, self.faces("fer_val")),
            "notes": {
                "train": "EmoDB speakers other than 03, 08, 09; FER-2013 train (sharp), 85 %",
                "validation": "checkpoint chosen on EmoDB 09 + RAVDESS actors 1-12 (repetition 1) speech "
                "and 15 % of the FER-2013 train faces",
                "tuning": "the development set: nothing else chose the recipe (its settings were fixed "
                "before the run)",
            },
        }


def load(path: Path) -> Cache:
    with np.load(path) as z:
        d = {k: z[k] for k in z.files}
    off = d["wave_offsets"]
    waves = [
        mulaw_decode(d["wave_codes"][off[i] : off[i + 1]], float(d["wave_scales"][i]))
        for i in range(len(off) - 1)
    ]
    return Cache(
        waves,
        d["speech_label"],
        d["speech_group"],
        d["face_grey"],
        d["face_probs"],
        d["face_label"],
        d["face_group"],
        json.loads(bytes(d["meta_json"]).decode()),
    )
