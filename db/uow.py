"""The unit of work: one session per user action, which owns commit and rollback (STYLE.md §5).

``with unit_of_work(db, write=True) as session:`` commits when the block ends normally, rolls back on
any exception, and turns driver errors (locked, read-only, server gone) into ``StorageError``. When it
returns, the change is durable: callers may tell the user it was saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session

from affectscope.db.engine import Database, _explain, damaged


@contextmanager
def unit_of_work(db: Database, write: bool = False) -> Iterator[Session]:
    """A session for one action. ``write=True`` takes SQLite's write lock at the start (BEGIN IMMEDIATE)."""
    factory = db.write_sessions if write else db.read_sessions
    session = factory()
    try:
        yield session
        if write:
            session.commit()
        else:
            session.rollback()  # reads end their snapshot; nothing to commit
    except OperationalError as exc:
        session.rollback()
        raise _explain(exc, db) from None
    except DatabaseError as exc:
        session.rollback()
        damage = damaged(exc, db)
        if damage is None:
            raise
        raise damage from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
