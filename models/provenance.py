"""What trained, validated and tuned a weights file, and whether a test set overlaps it (issue 19).

A model card's ``data_records`` says, per role, which items and which speakers a model learnt from:

- ``train``: what the weights were fitted on;
- ``validation``: what chose checkpoints or stopped training early;
- ``tuning``: what chose the recipe's rules and hyperparameters (a development set).

Items are content hashes (the first 16 hex digits of the SHA-256 of the file's bytes), so a renamed
or copied file is still recognised and FER-2013's byte-identical images across splits are caught.
Speakers are real identities only (``emodb:09``, ``ravdess:13``, a project's speaker ids): the
stand-ins ``speaker_of`` gives files without one (``image:…``, ``dir:…``) identify nobody.

``contamination`` compares a test set with those records, as ``evaluate`` reports it. The card's
``code`` says which commit trained the weights and whether the work tree held uncommitted changes
(training refuses that unless ``--allow-dirty``, which the card then records).
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from affectscope.errors import UserFacingError

ROLES = ("train", "validation", "tuning")
HASH = "sha256 of the file's bytes, first 16 hex digits"
FORMAT = 1
_STAND_INS = ("image:", "dir:")
_memo: dict[tuple[str, int, int], str] = {}


class DirtyTreeError(UserFacingError):
    """Training from uncommitted code: the card could not say which code trained the weights."""


def item_hash(path: str | Path) -> str:
    """The content hash of one file (memoised by path, size and modification time)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _memo:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _memo[key] = h.hexdigest()[:16]
    return _memo[key]


def identity(speaker: str | None) -> str | None:
    """A speaker id that names a person, or None for ``speaker_of``'s stand-ins."""
    if not speaker or speaker.startswith(_STAND_INS):
        return None
    return speaker


def role_record(paths: Iterable[str | Path], speakers: Iterable[str | None] = ()) -> dict[str, Any]:
    """``{"n", "items", "speakers"}`` for one role: sorted unique hashes and real speaker ids."""
    items = sorted({item_hash(p) for p in paths})
    spk = sorted({s for s in (identity(x) for x in speakers) if s})
    return {"n": len(items), "items": items, "speakers": spk}


def samples_record(samples: Iterable[Any]) -> dict[str, Any]:
    """``role_record`` of ``datasets.Sample``-like objects (``.path`` and ``.speaker``)."""
    samples = list(samples)
    return role_record([s.path for s in samples], [s.speaker for s in samples])


def data_records(
    train: Iterable[Any],
    validation: Iterable[Any] = (),
    tuning: Iterable[Any] = (),
    reconstructed: bool = False,
    notes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The card's ``data_records`` from samples (``.path``, ``.speaker``) per role.

    ``reconstructed`` marks records rebuilt afterwards from a recipe (shipped weights trained before
    records existed) rather than written by the training run itself; ``notes`` says per role what
    the items were and, when reconstructed, how they were recovered.
    """
    out: dict[str, Any] = {"format": FORMAT, "hash": HASH, "reconstructed": bool(reconstructed)}
    for role, group in zip(ROLES, (train, validation, tuning), strict=True):
        out[role] = samples_record(group)
    out["notes"] = dict(notes or {})
    return out


def merge_records(*records: Mapping[str, Any] | None) -> dict[str, Any]:
    """One ``data_records`` from several (a recipe's networks trained on different data)."""
    present = [r for r in records if r]
    out: dict[str, Any] = {
        "format": FORMAT,
        "hash": HASH,
        "reconstructed": any(r.get("reconstructed") for r in present),
    }
    for role in ROLES:
        items = sorted({h for r in present for h in r.get(role, {}).get("items", [])})
        spk = sorted({s for r in present for s in r.get(role, {}).get("speakers", [])})
        out[role] = {"n": len(items), "items": items, "speakers": spk}
    notes: dict[str, str] = {}
    for r in present:
        for k, v in r.get("notes", {}).items():
            if k not in notes:
                notes[k] = v
            elif v not in notes[k]:  # a note already said (a retrain of the same network) is kept once
                notes[k] = f"{notes[k]}; {v}"
    out["notes"] = notes
    return out


def records_of(card: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The card's ``data_records``, or None when the weights carry none (older or foreign weights)."""
    rec = (card or {}).get("data_records")
    return rec if isinstance(rec, dict) and all(r in rec for r in ROLES) else None


def contamination(
    records: Mapping[str, Any] | None, paths: Sequence[str | Path], speakers: Sequence[str | None] = ()
) -> dict[str, Any] | None:
    """How many test items each role of ``records`` holds, and which test speakers it heard.

    ``{"train": N, "validation": N, "tuning": N, "speakers": [...], "speaker_roles": {id: [roles]},
    "reconstructed": bool}``; a role counts every test item whose content hash it holds (an item in
    two roles counts in both). None when the weights carry no records: nothing can be said.
    """
    if not records:
        return None
    hashes = [item_hash(p) for p in paths]
    out: dict[str, Any] = {}
    roles_of: dict[str, list[str]] = {}
    test_speakers = {s for s in (identity(x) for x in speakers) if s}
    for role in ROLES:
        held = set(records.get(role, {}).get("items", []))
        out[role] = sum(h in held for h in hashes)
        for s in sorted(test_speakers & set(records.get(role, {}).get("speakers", []))):
            roles_of.setdefault(s, []).append(role)
    out["speakers"] = sorted(roles_of)
    out["speaker_roles"] = roles_of
    out["reconstructed"] = bool(records.get("reconstructed"))
    return out


def is_contaminated(c: Mapping[str, Any] | None) -> bool:
    """True when a test overlaps any role by item or by speaker."""
    return bool(c) and (any(c.get(r) for r in ROLES) or bool(c.get("speakers")))


def describe(c: Mapping[str, Any] | None) -> str:
    """One line for a person: what overlaps, or that nothing does, or that nothing is known."""
    if c is None:
        return "contamination unknown: these weights carry no training records"
    if not is_contaminated(c):
        return "no overlap with the weights' training, validation or tuning data"
    parts = [f"{c[r]} {r}" for r in ROLES if c.get(r)]
    if c.get("speakers"):
        parts.append(f"speakers {', '.join(c['speakers'])}")
    how = " (records reconstructed from the recipe)" if c.get("reconstructed") else ""
    return "CONTAMINATED: test items overlap the weights' " + ", ".join(parts) + how


# ---- code version ---------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, cwd=root)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def code_state(root: str | Path | None = None) -> dict[str, Any]:
    """``{"commit", "dirty", "dirty_paths"}`` of the checkout the code runs from (``root``: another
    checkout); commit and dirty are None when the code is installed, not a checkout (the package
    version then names the code)."""
    where = Path(root) if root is not None else Path(__file__).resolve().parent
    commit = _git(where, "rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None, "dirty_paths": []}
    status = _git(where, "status", "--porcelain", "--untracked-files=normal") or ""
    paths = [line[3:] for line in status.splitlines() if line.strip()]
    return {"commit": commit.strip(), "dirty": bool(paths), "dirty_paths": paths[:20]}


def require_clean(allow_dirty: bool = False, root: str | Path | None = None) -> dict[str, Any]:
    """The code state, or ``DirtyTreeError`` when the checkout has uncommitted changes."""
    state = code_state(root)
    if state["dirty"] and not allow_dirty:
        shown = ", ".join(state["dirty_paths"][:5])
        raise DirtyTreeError(
            f"the work tree has uncommitted changes ({shown}): the model card could not say which code "
            "trained the weights. Commit them, or pass --allow-dirty (the card then records it)."
        )
    return {**state, "allow_dirty": bool(allow_dirty and state["dirty"])}
