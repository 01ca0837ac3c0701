"""The driver's own cursor, for the few statements every write transaction runs.

An event append costs four to six statements; through SQLAlchemy's `execute` each one
pays for its execution context, result object and type processing, several times what
the database takes to run it. `DriverCursor` hands the statement to the DBAPI cursor of
the same connection, inside the caller's transaction, and wraps driver errors in
SQLAlchemy's `DBAPIError` tree so `Store.write` sees (and retries) them as before.

`execute` takes fixed, hand-written SQL in the dialect's own parameter style (`:name`
for pysqlite, `%(name)s` for psycopg); `run` takes a SQLAlchemy Core statement, compiled
once per dialect and remembered (the SQL stays declared in one place). Neither applies
type processors, so callers bind driver-ready values (`types.bind_timestamp`) and convert
what they read (`types.read_timestamp`).

A write transaction (`Store.begin_write`) shares one cursor among the helpers it calls:
`driver_cursor(conn)` hands it out (opened on first use, closed at the end). A use case
ran four to five helpers, each opening and closing a cursor of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

__all__ = [
    "BoundSQL",
    "CompiledSQL",
    "DriverCursor",
    "compiled_sql",
    "driver_cursor",
    "pipeline",
    "shared_cursor",
]


@dataclass(frozen=True, kw_only=True)
class CompiledSQL:
    """A Core statement as one dialect's driver takes it."""

    sql: str
    names: tuple[str, ...] | None  # parameter order when the style is positional (`?`)
    literals: Mapping[str, Any]  # values the statement carries itself (`state = 'pending'`)

    def params(self, given: Mapping[str, Any]) -> Mapping[str, Any] | tuple[Any, ...]:
        merged = {**self.literals, **given} if self.literals else given
        if self.names is None:
            return merged
        return tuple(merged[name] for name in self.names)


@dataclass(frozen=True, kw_only=True)
class BoundSQL:
    """A statement in the driver's SQL with its parameters in the driver's style."""

    sql: str
    params: Mapping[str, Any] | tuple[Any, ...]


# Statements are module-level objects built once, so this cache stays small.
_compiled: dict[tuple[str, ClauseElement, tuple[str, ...]], CompiledSQL] = {}
_compiled_lock = threading.Lock()


def compiled_sql(
    dialect: Dialect, statement: ClauseElement, column_keys: Sequence[str] = ()
) -> CompiledSQL:
    """`statement` compiled for `dialect`, remembered. `column_keys` names the SET / VALUES
    columns of an UPDATE or INSERT given at execution time, as SQLAlchemy's own `execute`
    does."""
    key = (dialect.name, statement, tuple(column_keys))
    found = _compiled.get(key)
    if found is None:
        compiled = cast(
            SQLCompiler,  # what every Core statement compiles to
            statement.compile(dialect=dialect, column_keys=list(column_keys) or None),
        )
        literals = {
            name: bind.value
            for name, bind in ((compiled.bind_names[b], b) for b in compiled.binds.values())
            if not bind.required and bind.value is not None and bind.callable is None
        }
        found = CompiledSQL(
            sql=str(compiled),
            names=tuple(compiled.positiontup or ()) if compiled.positional else None,
            literals=literals,
        )
        with _compiled_lock:
            _compiled[key] = found
    return found


@contextmanager
def pipeline(conn: Connection) -> Iterator[None]:
    """PostgreSQL: statements on the driver's cursor inside go out together (psycopg's
    pipeline mode), so a run of them costs one round trip until a result is needed; the
    server still runs them one after another, each with its own READ COMMITTED snapshot.
    Elsewhere a no-op. Only driver statements belong inside: SQLAlchemy's `execute`
    reads a result as soon as it has sent its statement, which a pipeline defers."""
    if conn.dialect.name != "postgresql":
        yield
        return
    error: type[Exception] = conn.dialect.loaded_dbapi.Error
    dbapi_conn = conn.connection.dbapi_connection
    try:
        with dbapi_conn.pipeline():  # type: ignore[union-attr]
            yield
    except error as e:  # the closing sync reports what failed after the last fetch
        lost = conn.dialect.is_disconnect(cast(Any, e), dbapi_conn, None)
        if lost:
            conn.invalidate(e)  # as `DriverCursor` does, so `Store.write` retries it
        raise DBAPIError.instance(
            "<pipeline>", {}, e, error, connection_invalidated=lost, dialect=conn.dialect
        ) from e


class DriverCursor:
    """A DBAPI cursor on `conn`'s connection; use as a context manager."""

    __slots__ = ("_conn", "_cursor", "_error")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._cursor = conn.connection.cursor()
        self._error: type[Exception] = conn.dialect.loaded_dbapi.Error

    def __enter__(self) -> DriverCursor:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._cursor.close()

    def run(
        self,
        statement: ClauseElement,
        params: Mapping[str, Any],
        *,
        column_keys: Sequence[str] = (),
    ) -> DBAPICursor:
        """Execute a Core `statement` (compiled once per dialect) with driver-ready `params`."""
        compiled = compiled_sql(self._conn.dialect, statement, column_keys)
        return self.execute(compiled.sql, compiled.params(params))

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Any]) -> DBAPICursor:
        try:
            self._cursor.execute(sql, params)
        except self._error as e:
            raise self._wrap(sql, params, e) from e
        return self._cursor

    def executemany(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None:
        try:
            self._cursor.executemany(sql, params)
        except self._error as e:
            raise self._wrap(sql, params, e) from e

    def first(self, sql: str, params: Mapping[str, Any]) -> Sequence[Any] | None:
        """Run a statement; its first row, or None when it returns none."""
        cursor = self.execute(sql, params)
        try:  # in a pipeline, the statement's (and earlier ones') errors arrive here
            return cast(Sequence[Any] | None, cursor.fetchone())
        except self._error as e:
            raise self._wrap(sql, params, e) from e

    def one(self, sql: str, params: Mapping[str, Any]) -> Sequence[Any]:
        """Run a statement that returns exactly one row; that row."""
        row = self.first(sql, params)
        if row is None:
            raise RuntimeError(f"no row from `{' '.join(sql.split())}`")
        return row

    def all(self, statement: ClauseElement, params: Mapping[str, Any]) -> Sequence[Any]:
        """`run` a Core query; all its rows."""
        cursor = self.run(statement, params)
        try:
            return cursor.fetchall()
        except self._error as e:
            raise self._wrap(str(statement), params, e) from e

    def _wrap(self, sql: str, params: Any, error: Exception) -> StatementError:
        dialect = self._conn.dialect
        lost = dialect.is_disconnect(
            cast(Any, error), self._conn.connection.dbapi_connection, self._cursor
        )
        if lost:
            self._conn.invalidate(error)  # what SQLAlchemy's own error handling does
        return DBAPIError.instance(
            sql, params, error, self._error, connection_invalidated=lost, dialect=dialect
        )


# The cursor each open write transaction shares (None until first asked for), by its
# connection. A connection is used by one thread at a time, and a dict's get, set and
# pop are atomic, so no lock.
_shared: dict[Connection, DriverCursor | None] = {}


@contextmanager
def shared_cursor(conn: Connection) -> Iterator[None]:
    """Within: `driver_cursor(conn)` gives one cursor, opened when first asked for (a
    transaction that never asks opens none) and closed on the way out."""
    if conn in _shared:
        raise RuntimeError("this connection already shares a cursor")
    _shared[conn] = None
    try:
        yield
    finally:
        cursor = _shared.pop(conn)
        if cursor is not None:
            cursor.close()


def driver_cursor(conn: Connection) -> AbstractContextManager[DriverCursor]:
    """A driver cursor on `conn`, as a context manager: inside `shared_cursor(conn)` (a
    write transaction) the shared one, left open on exit; elsewhere a new one, closed on
    exit. Statements run one after another on it, as they did on separate cursors: each
    caller reads its result before the next statement."""
    if conn not in _shared:
        return DriverCursor(conn)
    cursor = _shared[conn]
    if cursor is None:
        cursor = _shared[conn] = DriverCursor(conn)
    return nullcontext(cursor)
