"""Engines for the two supported databases, configured for durability and racing writers.

SQLite (the embedded default): WAL journal, `synchronous=FULL` (a commit survives power
loss), foreign keys on and a busy timeout. pysqlite's own implicit transactions are
switched off: `Store` issues `BEGIN IMMEDIATE` for write transactions, so that two
writers never both read and then fail to upgrade their lock (they queue on the busy
timeout instead), and a deferred `BEGIN` for reads. (No `begin` event listener: any
engine event makes SQLAlchemy dispatch events on every statement.)

PostgreSQL (psycopg 3): READ COMMITTED writes with explicit row locks, REPEATABLE READ
read-only transactions for consistent multi-statement reads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from cosignatory.core.errors import InputError

__all__ = ["BUSY_TIMEOUT_S", "is_memory_sqlite", "make_engine", "normalize_url"]

BUSY_TIMEOUT_S = 30.0


def normalize_url(url: str) -> URL:
    """Parse a database URL; `postgresql://` and `postgres://` mean psycopg 3."""
    text = url.strip()
    if text.startswith("postgres://"):
        text = "postgresql://" + text.removeprefix("postgres://")
    try:
        parsed = make_url(text)
    except ArgumentError as e:
        raise InputError(
            f"`{url}` is not a database URL; use `sqlite:///path/to.db` or "
            "`postgresql+psycopg://user@host/dbname`"
        ) from e
    if parsed.drivername in ("postgresql", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed
    raise InputError(
        f"unsupported database `{parsed.drivername}` in `{url}`; "
        "use `sqlite:///path/to.db` or `postgresql+psycopg://user@host/dbname`"
    )


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(url: str | URL, **overrides: Any) -> Engine:
    parsed = normalize_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **overrides)
    options: dict[str, Any] = {
        "pool_size": 10,
        "max_overflow": 30,
        "pool_timeout": 60,
        "connect_args": {"application_name": "cosignatory", "connect_timeout": 10},
    }
    options.update(overrides)
    return create_engine(parsed, **options)


def _sqlite_engine(url: URL, **overrides: Any) -> Engine:
    options: dict[str, Any] = {
        "connect_args": {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
    }
    memory = is_memory_sqlite(url)
    if memory:
        # One shared connection: the in-memory database lives and dies with it.
        options["poolclass"] = StaticPool
    options.update(overrides)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # `Store` issues BEGIN itself
        cursor = dbapi_conn.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    return engine
