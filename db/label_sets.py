"""Canonical label sets. The models package keeps an equal copy (db and models never import each other).

A test asserts ``affectscope.models.registry.LABEL_SETS`` equals ``BUILTIN_LABEL_SETS``. Projects may add
custom sets (stored in the ``label_sets`` table); these built-ins are never stored, so renaming one
here cannot leave a stale copy in old databases.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from affectscope import strict_json
from affectscope.db.schema import LabelSetRow
from affectscope.errors import UserFacingError

BUILTIN_LABEL_SETS: dict[str, tuple[str, ...]] = {
    "sentiment3": ("positive", "neutral", "negative"),
    # FER-2013 order: the mini-Xception checkpoint's output order.
    "emotion7": ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"),
    "plutchik8": ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"),
}
DEFAULT_LABEL_SET = "sentiment3"
MAX_KEYED_LABELS = 9  # keys 1-9 label; a set may be longer but only the first nine get keys


class LabelError(UserFacingError):
    """A label or label set that does not exist, or a span that makes no sense."""


def check_label_set_definition(name: str, labels: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate a custom set: a simple name, 1+ distinct non-empty labels without commas or newlines."""
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise LabelError(f"label set name {name[:80]!r} must be letters, digits, '-' or '_'")
    if len(name) > 64:  # the label_set columns are String(64)
        raise LabelError(f"label set name {name[:40]!r}... is longer than 64 characters")
    if name in BUILTIN_LABEL_SETS:
        raise LabelError(f"{name!r} is a built-in label set; choose another name for a custom set")
    cleaned = tuple(str(label).strip() for label in labels)
    if not cleaned or any(not label for label in cleaned):
        raise LabelError(f"label set {name!r} needs at least one non-empty label")
    if len(set(cleaned)) != len(cleaned):
        raise LabelError(f"label set {name!r} lists a label twice: {', '.join(cleaned)}")
    if any(len(label) > 128 for label in cleaned):  # labels.value is String(128)
        raise LabelError(f"labels in {name!r} may have at most 128 characters")
    if any(ch in label for label in cleaned for ch in ",\n\r\t"):
        raise LabelError(f"labels in {name!r} may not contain commas, tabs or line breaks")
    return cleaned


def _custom_sets(session: Session) -> dict[str, tuple[str, ...]]:
    rows = session.execute(select(LabelSetRow.name, LabelSetRow.labels_json)).all()
    return {name: tuple(json.loads(labels)) for name, labels in rows}


def all_label_sets(session: Session) -> dict[str, tuple[str, ...]]:
    """Built-in sets then the project's custom sets, name -> labels in key order (1, 2, ...)."""
    return {**BUILTIN_LABEL_SETS, **_custom_sets(session)}


def get_label_set(session: Session, name: str) -> tuple[str, ...]:
    if name in BUILTIN_LABEL_SETS:
        return BUILTIN_LABEL_SETS[name]
    row = session.get(LabelSetRow, name)
    if row is None:
        known = ", ".join(all_label_sets(session))
        raise LabelError(f"no label set named {name!r}; known sets: {known}")
    return tuple(json.loads(row.labels_json))


def add_label_set(session: Session, name: str, labels: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Store a custom set; adding the same definition again is a no-op, a different one is an error."""
    cleaned = check_label_set_definition(name, labels)
    row = session.get(LabelSetRow, name)
    if row is not None:
        if tuple(json.loads(row.labels_json)) != cleaned:
            raise LabelError(f"label set {name!r} already exists with other labels; choose another name")
        return cleaned
    session.add(LabelSetRow(name=name, labels_json=strict_json.dumps(list(cleaned)), created_at=utcnow()))
    session.flush()
    return cleaned


def check_label(session: Session, label_set: str, value: str) -> str:
    labels = get_label_set(session, label_set)
    if value not in labels:
        raise LabelError(f"{value!r} is not a label of {label_set!r}; choose one of: {', '.join(labels)}")
    return value


def utcnow() -> datetime:
    """Naive UTC (both backends store it the same way); records mark it UTC again."""
    return datetime.now(UTC).replace(tzinfo=None)
