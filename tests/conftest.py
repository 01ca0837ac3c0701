"""Shared fixtures: real databases for the contract suite.

`store_url` runs a test on a fresh SQLite file and on PostgreSQL. PostgreSQL comes from
`COSIGNATORY_TEST_PG_URL` (`make test` and `scripts/with-postgres.sh` set it); without
it the PostgreSQL half is skipped and says why. Both start from a schema built by the
Alembic migrations: SQLite copies a migrated template file, PostgreSQL uses one migrated
database of its own per session and empties it before each test.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cosignatory.service import Service
from cosignatory.storage import Store, open_store, upgrade

PG_URL = os.environ.get("COSIGNATORY_TEST_PG_URL", "")
NO_PG = "PostgreSQL not available: set COSIGNATORY_TEST_PG_URL (`make test` does)"
T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
_TABLES = (
    *("events", "reviews", "orders", "policy_versions", "tokens"),
    *("audit_entries", "audit_nodes", "audit_checkpoints"),
)


@dataclass
class Clock:
    """A clock the test moves by hand; starts at `T0`."""

    now: datetime = field(default=T0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    store = open_store(f"sqlite:///{path}", create=True, check_schema=False)
    upgrade(store)
    with store.begin_write() as conn:  # fold the WAL into the main file before copying
        conn.exec_driver_sql("SELECT 1")
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def _admin_exec(statement: str) -> None:
    engine = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A migrated database of our own in the test cluster, dropped at the end."""
    if not PG_URL:
        pytest.skip(NO_PG)
    name = f"cosig_contract_{os.getpid()}_{secrets.token_hex(3)}"
    _admin_exec(f"CREATE DATABASE {name}")
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)
    rendered = url.render_as_string(hide_password=False)
    store = open_store(rendered, check_schema=False)
    upgrade(store)
    store.close()
    yield rendered
    _admin_exec(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def reset_pg(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for table in _TABLES:  # DELETE: cheaper than TRUNCATE for a few rows
                conn.execute(text(f"DELETE FROM {table}"))
            conn.execute(text("UPDATE event_log_head SET next_seq = 0"))
            conn.execute(text("UPDATE audit_head SET size = 0, frontier = ''"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    """Each contract test runs once per real database."""
    kind: str = request.param
    if kind == "postgres" and not PG_URL:
        pytest.skip(NO_PG)
    return kind


@pytest.fixture
def make_store_url(
    db_kind: str, request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Callable[[], str]:
    """Call it for a fresh, migrated, empty database of this test's kind."""
    counter = iter(range(1_000_000))

    def fresh() -> str:
        if db_kind == "sqlite":
            path = tmp_path / f"store-{next(counter)}.db"
            shutil.copyfile(sqlite_template, path)
            return f"sqlite:///{path}"
        url: str = request.getfixturevalue("pg_database")
        reset_pg(url)
        return url

    return fresh


@pytest.fixture
def store_url(make_store_url: Callable[[], str]) -> str:
    """A fresh, migrated, empty database: a SQLite file, or PostgreSQL."""
    return make_store_url()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def service(store: Store, clock: Clock) -> Service:
    return Service(store, clock=clock)
