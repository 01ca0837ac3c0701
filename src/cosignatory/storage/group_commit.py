"""Group commit: concurrent SQLite writes of one process share one transaction and fsync.

SQLite has one writer at a time, and each commit in WAL mode with `synchronous=FULL`
waits for an fsync. Under concurrent writes (eight reviewers posting at once) the
writers used to queue on the process's writer lock and pay one fsync each, and the
lock sat held while the disk flushed. Here a writer that finds another one running
queues its function instead; when the running batch has committed, the first writer
still queued leads the next batch: it opens one write transaction, runs every queued
function in it, each inside its own `SAVEPOINT`, and commits once. Each caller gets
its own result or exception, and only after that commit: nothing is acknowledged
before it is durable.

What a caller sees is what it saw with a transaction of its own:
- Atomic: a function that raises is rolled back to its savepoint, alone; the others
  of its batch go on and commit.
- Serial: functions run one after another on one connection, in arrival order, so
  each sees the writes of those before it, as it would have after their commits. The
  event log stays gapless: a rolled-back function's events and its `seq`s go with it.
- Durable: the results are handed out after the one commit; if the commit fails,
  every function of the batch gets that error (and `Store.write` retries it if it is
  transient, as before).

A batch of one runs without a savepoint: an uncontended write costs what it did.
A function that writes from inside a write (a nested `Store.write`) is run on its own
as before, so it fails as before instead of waiting for itself.

Other processes still meet SQLite's lock and busy timeout; PostgreSQL and in-memory
stores do not batch (`Store` decides).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection

from cosignatory.storage.driver import DriverCursor, driver_cursor

__all__ = ["MAX_BATCH", "GroupCommit"]

T = TypeVar("T")

MAX_BATCH = 64  # functions per transaction: bounds the latency a batch adds to its first


class _Job(Generic[T]):
    """One caller's function, and what became of it once its batch has committed."""

    __slots__ = ("done", "error", "fn", "result")

    def __init__(self, fn: Callable[[Connection], T]) -> None:
        self.fn = fn
        self.result: T | None = None
        self.error: BaseException | None = None
        self.done = False

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set when the function returned


class GroupCommit:
    """Runs write functions in shared transactions opened by `begin` (thread-safe)."""

    def __init__(
        self,
        begin: Callable[[], AbstractContextManager[Connection]],
        *,
        nested: Callable[[], bool],
    ) -> None:
        self._begin = begin
        self._nested = nested  # whether this thread is inside a `begin` transaction
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[_Job[Any]] = []
        self._leader: int | None = None  # the thread running a batch now, if any
        self.batches = 0  # committed or failed batches, and the functions they ran:
        self.functions = 0  # the mean batch size is what concurrency saved in fsyncs

    def run(self, fn: Callable[[Connection], T]) -> T:
        """`fn(conn)` in a write transaction, possibly shared; its result once committed."""
        if self._nested():  # a write inside a write: on its own, failing as before
            with self._begin() as conn:
                return fn(conn)
        me = threading.get_ident()
        job: _Job[T] = _Job(fn)
        with self._cond:
            self._queue.append(job)
            try:
                while self._leader is not None and not job.done:
                    self._cond.wait()
            except BaseException:  # interrupted while queued (Ctrl-C in the main thread)
                if job in self._queue:  # not taken by a leader yet: it never runs
                    self._queue.remove(job)
                raise
            if job.done:  # an earlier leader ran it
                return job.outcome()
            self._leader = me
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            self._run_batch(batch)
        finally:
            with self._cond:
                self._leader = None
                self.batches += 1
                self.functions += len(batch)
                self._cond.notify_all()
        return job.outcome()

    def _run_batch(self, batch: list[_Job[Any]]) -> None:
        try:
            with self._begin() as conn:
                if len(batch) == 1:
                    batch[0].result = batch[0].fn(conn)  # raising rolls the transaction back
                else:
                    with driver_cursor(conn) as cursor:  # the transaction's own cursor
                        for job in batch:
                            _run_in_savepoint(cursor, conn, job)
        except BaseException as e:  # the commit (or a lone function) failed: nothing is kept
            for job in batch:
                if job.error is None:
                    job.result, job.error = None, e
        finally:
            for job in batch:
                job.done = True


def _run_in_savepoint(cursor: DriverCursor, conn: Connection, job: _Job[Any]) -> None:
    cursor.execute("SAVEPOINT cosignatory_write", ())
    try:
        job.result = job.fn(conn)
    except Exception as e:  # this function's writes go; the batch goes on
        cursor.execute("ROLLBACK TO cosignatory_write", ())
        job.error = e
    cursor.execute("RELEASE cosignatory_write", ())
