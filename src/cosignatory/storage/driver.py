"""The driver's own cursor, for the few statements every write transaction runs.

An event append costs four to six statements; through SQLAlchemy's `execute` each one
pays for its execution context, result object and type processing, several times what
the database takes to run it. `DriverCursor` hands the statement to the DBAPI cursor of
the same connection, inside the caller's transaction, and wraps driver errors in
SQLAlchemy's `DBAPIError` tree so `Store.write` sees (and retries) them as before.

Only for fixed, hand-written SQL in the dialect's own parameter style (`:name` for
pysqlite, `%(name)s` for psycopg): no compilation, no type processors, so callers bind
driver-ready values (SQLite timestamps through `types.sqlite_timestamp`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, cast

from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import DBAPIError, StatementError

__all__ = ["DriverCursor"]


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
        self._cursor.close()

    def execute(self, sql: str, params: Mapping[str, Any]) -> DBAPICursor:
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

    def one(self, sql: str, params: Mapping[str, Any]) -> Sequence[Any]:
        """Run a statement that returns exactly one row; that row."""
        row = self.execute(sql, params).fetchone()
        if row is None:
            raise RuntimeError(f"no row from `{' '.join(sql.split())}`")
        return cast(Sequence[Any], row)

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
