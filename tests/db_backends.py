"""Storage-test backends: a fresh SQLite file, or a fresh database on the PostgreSQL server named by
$AFFECTSCOPE_PG_URL (start one with ``eval "$(bash packaging/ci/postgres.sh)"``).

Test modules import ``backend_url`` and use it as a fixture; tests using it run once per backend and
the PostgreSQL run is marked ``postgres`` and skipped, with the reason, when no server is configured,
except under CI (``$CI`` set, as every CI service sets it): there a missing server fails the test, so
a broken PostgreSQL setup can never turn into a quietly green run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("AFFECTSCOPE_PG_URL", "")
PG_SKIP = 'no PostgreSQL server: set AFFECTSCOPE_PG_URL (eval "$(bash packaging/ci/postgres.sh)")'


def require_postgres() -> None:
    """Skip without a server; under CI (``$CI`` set) fail instead: CI must test PostgreSQL."""
    if PG_URL:
        return
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail("CI is set but " + PG_SKIP, pytrace=False)
    pytest.skip(PG_SKIP)


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres]),
]


def _admin(url: str):  # noqa: ANN202
    from sqlalchemy import create_engine

    return create_engine(url, isolation_level="AUTOCOMMIT")


def fresh_pg_database() -> str:
    """Create an empty database on the test server; return its URL."""
    from sqlalchemy.engine import make_url

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = _admin(PG_URL)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    engine = _admin(PG_URL)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def make_backend_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield str(tmp_path / "project.db")
        return
    require_postgres()
    url = fresh_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


def table_rows(url: str) -> dict[str, list[str]]:
    """Every table's rows, sorted: a database's whole content, row for row, on either backend (``url``
    a SQLAlchemy URL), to show that a refused command changed nothing."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: sorted(repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{t}"')))
                for t in sorted(inspect(conn).get_table_names())
            }
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL (or SQLite path) of an empty database, once per backend."""
    yield from make_backend_url(request.param, tmp_path)
