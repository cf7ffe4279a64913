"""The project's key/value facts (name, when it was created, the default label set)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from affectscope.db.schema import ProjectMeta


def get_meta(session: Session, key: str) -> str | None:
    row = session.get(ProjectMeta, key)
    return row.value if row is not None else None


def set_meta_default(session: Session, key: str, value: str) -> None:
    """Record ``key`` unless the project already has it (re-initialising keeps the first value)."""
    if session.get(ProjectMeta, key) is None:
        session.add(ProjectMeta(key=key, value=value))
