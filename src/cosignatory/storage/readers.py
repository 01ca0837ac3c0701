"""`ReadConnections`: SQLite read connections kept between reads, off the pool's books.

Checking a connection out of SQLAlchemy's pool and back in (a `Connection` built, pool
events, the reset rollback) costs ~50 µs, more than the token lookup that every
authenticated request reads. `Store.read` on a SQLite file takes an idle connection
from here instead (or a new one from the pool), runs its snapshot on it and puts it
back. At most `keep` stay idle, no more than the pool itself keeps open, so the pool's
overflow stays free for writers. A connection whose read failed goes back to the pool,
which resets it (or discards it when SQLAlchemy invalidated it as lost).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from cosignatory.storage.driver import DriverCursor

__all__ = ["ReadConnections"]


class ReadConnections:
    """Idle read connections of one SQLite file engine; safe to share between threads."""

    def __init__(self, engine: Engine, *, keep: int) -> None:
        if keep < 1:
            raise RuntimeError(f"keep at least one idle read connection, not {keep}")
        self._engine = engine
        self._keep = keep
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """One read transaction (SQLite's deferred BEGIN … COMMIT, on the driver's cursor)
        on a kept connection."""
        conn = self._take()
        try:
            with DriverCursor(conn) as cursor:
                cursor.execute("BEGIN", ())  # deferred: one snapshot for every statement
                yield conn
                cursor.execute("COMMIT", ())
            if conn.in_transaction():  # SQLAlchemy's books, opened by an `execute` in there:
                conn.commit()  # pysqlite's commit() outside a transaction does nothing
        except BaseException:
            conn.close()  # back to the pool, which rolls back (or drops a lost connection)
            raise
        self._give(conn)

    def idle(self) -> int:
        """How many connections wait for the next read."""
        with self._lock:
            return len(self._idle)

    def close(self) -> None:
        """Close the idle connections; later reads still work but keep nothing."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _take(self) -> Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._engine.connect()

    def _give(self, conn: Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._keep and not conn.invalidated:
                self._idle.append(conn)
                return
        conn.close()
