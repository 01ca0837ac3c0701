"""`Store`: one database, and the only way to run a transaction against it.

    store = open_store("sqlite:///cosignatory.db")
    seq = store.write(lambda conn: append_event(conn, ...))   # one transaction, retried
    rows = store.read(lambda conn: ...)                        # one consistent snapshot

`write` retries the whole function when the database reports a transient conflict
(PostgreSQL deadlock or serialization failure, SQLite busy past its timeout, a dropped
connection), so the function must have no effects outside its connection.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from cosignatory.core.errors import InputError
from cosignatory.storage.driver import DriverCursor, driver_cursor, shared_cursor
from cosignatory.storage.engine import is_memory_sqlite, make_engine, normalize_url
from cosignatory.storage.group_commit import GroupCommit
from cosignatory.storage.migrate import ensure_current, upgrade
from cosignatory.storage.readers import ReadConnections

__all__ = ["Store", "memory_store", "open_store"]

T = TypeVar("T")

MAX_ATTEMPTS = 6
_PG_TRANSIENT = frozenset({"40001", "40P01", "55P03"})  # serialization, deadlock, lock n/a
_KEEP_READERS = 5  # SQLAlchemy's pool keeps 5 open (`pool_size`); reads keep no more


class Store:
    """A database plus its transaction discipline; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name  # "sqlite" | "postgresql"
        # An in-memory SQLite database is one shared connection: one transaction at a time.
        self._serial = threading.RLock() if is_memory_sqlite(engine.url) else None
        # SQLite has one writer at a time, and a writer that finds it taken polls in
        # sleeps of up to 100 ms (the busy handler), so the lock sits idle while racing
        # writers doze (p99 near a second under eight writers). This process's writes
        # queue here instead and go the moment it is free; the busy timeout still
        # arbitrates between processes. Reentrant, so a nested write fails as before.
        self._writers = (
            threading.RLock() if self.dialect == "sqlite" and self._serial is None else None
        )
        # SQLite file reads keep their connections between reads (see `readers`).
        self._readers = (
            ReadConnections(engine, keep=_KEEP_READERS) if self._writers is not None else None
        )
        # Which threads are inside a write transaction (`begin_write`), so that a write
        # started from inside one runs (and fails) on its own rather than queueing.
        self._writing = threading.local()
        # Concurrent `write`s to a SQLite file share transactions and fsyncs (see
        # `group_commit`); PostgreSQL runs them side by side under row locks instead.
        self.group_commit = (
            GroupCommit(self.begin_write, nested=self.in_write)
            if self._writers is not None
            else None
        )

    @property
    def url(self) -> URL:
        return self.engine.url

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def local_reads(self) -> bool:
        """Whether a short read is quick enough to run on an event loop: a SQLite file in
        WAL mode, where readers take no lock a writer holds and wait on no network (an
        in-memory database shares one connection with its writers, so it does not)."""
        return self._readers is not None

    def describe(self) -> str:
        """The URL without its password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def begin_write(self) -> Iterator[Connection]:
        """One write transaction (`BEGIN IMMEDIATE` on SQLite), committed on success.

        This process's writer lock (SQLite) covers the transaction only: the connection
        is checked out of the pool before it and checked back in (reset) after it, so
        the next writer starts the moment this one has committed.
        """
        depth = getattr(self._writing, "depth", 0)
        self._writing.depth = depth + 1
        try:
            with (
                self._serial or nullcontext(),
                self.engine.connect() as conn,
                self._writers or nullcontext(),
                conn.begin(),
                shared_cursor(conn),  # one driver cursor for the transaction's statements
            ):
                if self.dialect == "sqlite":
                    # SQLAlchemy's begin is bookkeeping here (pysqlite's implicit
                    # transactions are off); this is the real one, on the driver's cursor
                    # (every write runs it). Its COMMIT is pysqlite's `commit()`.
                    with driver_cursor(conn) as cursor:
                        cursor.execute("BEGIN IMMEDIATE", ())
                yield conn
        finally:
            self._writing.depth = depth

    def in_write(self) -> bool:
        """Whether this thread is inside a write transaction of this store."""
        return bool(getattr(self._writing, "depth", 0))

    @contextmanager
    def begin_read(self) -> Iterator[Connection]:
        """One read-only snapshot (REPEATABLE READ READ ONLY on PostgreSQL)."""
        if self._readers is not None:
            with self._readers.snapshot() as kept:
                yield kept
            return
        with self._serial or nullcontext(), self.engine.connect() as raw:
            conn = raw
            if self.is_postgres:
                conn = raw.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            with conn.begin():
                if self.dialect == "sqlite":
                    # One snapshot for every statement; on the driver's cursor, as in
                    # `begin_write` (every authenticated request runs a read).
                    with DriverCursor(conn) as cursor:
                        cursor.execute("BEGIN", ())
                yield conn

    def write(self, fn: Callable[[Connection], T]) -> T:
        """Run `fn` in one write transaction, retrying it on transient conflicts.

        On a SQLite file, writes that arrive while another runs share the next
        transaction, each in a savepoint of its own (`group_commit`); `fn` returns or
        raises only once that transaction has committed or failed.
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if self.group_commit is not None:
                    return self.group_commit.run(fn)
                with self.begin_write() as conn:
                    return fn(conn)
            except DBAPIError as e:
                if attempt == MAX_ATTEMPTS or not self._transient(e):
                    raise
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter only
        raise RuntimeError("unreachable")  # pragma: no cover

    def read(self, fn: Callable[[Connection], T]) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.begin_read() as conn:
                    return fn(conn)
            except DBAPIError as e:
                if attempt == MAX_ATTEMPTS or not self._transient(e):
                    raise
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter only
        raise RuntimeError("unreachable")  # pragma: no cover

    def _transient(self, error: DBAPIError) -> bool:
        if error.connection_invalidated:
            return True
        if self.is_postgres:
            return getattr(error.orig, "sqlstate", None) in _PG_TRANSIENT
        message = str(error.orig).lower()
        return isinstance(error, OperationalError) and (
            "database is locked" in message or "database is busy" in message
        )

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        if self._readers is not None:
            self._readers.close()
        self.engine.dispose()


def memory_store() -> Store:
    """A migrated, private in-memory SQLite database: for unit tests and demos.

    One shared connection, one transaction at a time (threads queue on a lock); gone
    when closed. Same schema, same SQL and same code paths as a SQLite file, minus WAL
    and durability.
    """
    store = Store(make_engine("sqlite://"))
    upgrade(store)
    return store


def open_store(url: str, *, create: bool = False, check_schema: bool = True) -> Store:
    """Open the database at `url`.

    A SQLite file that does not exist is created only with `create=True` (what
    `cosignatory db upgrade` passes); otherwise a typo in a path would silently start
    an empty database. With `check_schema`, a database whose schema is not at the
    migrations' head is refused with the command that fixes it.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite" and not is_memory_sqlite(parsed):
        path = Path(parsed.database or "")
        if not create and not path.exists():
            raise InputError(
                f"no database at `{path}`; create it with `cosignatory db upgrade --db {url}`"
            )
        if create and not path.parent.exists():
            raise InputError(f"cannot create `{path}`: directory `{path.parent}` does not exist")
    store = Store(make_engine(parsed))
    if check_schema:
        try:
            ensure_current(store)
        except BaseException:
            store.close()
            raise
    return store
