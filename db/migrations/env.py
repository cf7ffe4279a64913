"""Alembic environment: always run programmatically by ``affectscope.db.engine`` on an open connection."""

from __future__ import annotations

from alembic import context

from affectscope.db import evaluations  # noqa: F401 - its tables join Base.metadata
from affectscope.db import lineage as _lineage  # noqa: F401  (its tables join Base.metadata)
from affectscope.db import studies as _studies  # noqa: F401  (registers the study tables)
from affectscope.db.schema import Base


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through affectscope.db.engine.open_database, not the alembic CLI")
    # render_as_batch: SQLite can only ALTER tables by copying them; batch mode does that for later revisions.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


# Alembic's context exists only inside a migration run; a plain import (tools walking every module) skips.
if getattr(context, "_proxy", None) is not None:
    run_migrations()
