"""`Store.read` is one snapshot; on a SQLite file its connections are kept between reads
(`storage.readers`), and a kept connection never carries a transaction into the next read."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from cosignatory.storage.readers import ReadConnections
from cosignatory.storage.store import Store, open_store
from cosignatory.storage.tables import tokens
from cosignatory.storage.tokens import TokenRecord, insert_token


def _count(conn: Connection) -> int:
    return len(conn.execute(select(tokens.c.id)).all())


def _add(conn: Connection, token_id: str) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    insert_token(
        conn,
        TokenRecord(
            id=token_id,
            person="kim",
            is_admin=False,
            label="",
            secret_hash=token_id.ljust(64, "0"),
            created_at=now,
            created_by="admin",
        ),
    )


def _readers(store: Store) -> ReadConnections:
    readers = store._readers  # the kept connections are what is tested
    assert readers is not None
    return readers


@pytest.fixture
def sqlite_store(tmp_path: Path, sqlite_template: Path) -> Iterator[Store]:
    path = tmp_path / "reads.db"
    shutil.copyfile(sqlite_template, path)
    opened = open_store(f"sqlite:///{path}")
    yield opened
    opened.close()


def test_a_read_sees_one_snapshot(store: Store) -> None:
    def read_around_a_commit(conn: Connection) -> tuple[int, int]:
        before = _count(conn)
        store.write(lambda w: _add(w, "tok_during"))  # another connection commits
        return before, _count(conn)

    before, after = store.read(read_around_a_commit)
    assert before == after
    assert store.read(_count) == before + 1


def test_reads_reuse_one_connection_and_see_every_commit(sqlite_store: Store) -> None:
    seen: list[object] = []

    def read(conn: Connection) -> int:
        seen.append(conn.connection.dbapi_connection)
        return _count(conn)

    assert sqlite_store.read(read) == 0
    sqlite_store.write(lambda w: _add(w, "tok_a"))
    assert sqlite_store.read(read) == 1  # no snapshot carried over from the last read
    assert seen[0] is seen[1]
    assert _readers(sqlite_store).idle() == 1


def test_a_kept_connection_leaves_no_transaction_open(sqlite_store: Store) -> None:
    def read(conn: Connection) -> Connection:
        _count(conn)  # SQLAlchemy's `execute` opens its own books on the connection
        return conn

    conn = sqlite_store.read(read)
    assert not conn.in_transaction()
    assert conn.connection.dbapi_connection.in_transaction is False  # type: ignore[union-attr]


def test_a_failed_read_gives_its_connection_back_to_the_pool(sqlite_store: Store) -> None:
    def fail(conn: Connection) -> None:
        _count(conn)
        raise RuntimeError("boom")

    sqlite_store.read(_count)
    with pytest.raises(RuntimeError, match="boom"):
        sqlite_store.read(fail)
    assert _readers(sqlite_store).idle() == 0  # not kept: the pool reset it
    sqlite_store.write(lambda w: _add(w, "tok_after"))
    assert sqlite_store.read(_count) == 1


def test_concurrent_reads_keep_at_most_the_pools_own_size(sqlite_store: Store) -> None:
    start = threading.Barrier(12)
    results: list[int] = []

    def read(conn: Connection) -> int:
        start.wait(timeout=10)  # twelve reads open at once
        return _count(conn)

    threads = [
        threading.Thread(target=lambda: results.append(sqlite_store.read(read))) for _ in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert results == [0] * 12
    assert _readers(sqlite_store).idle() == 5


def test_closing_the_store_closes_kept_connections(sqlite_store: Store) -> None:
    conn = sqlite_store.read(lambda c: c)
    sqlite_store.close()
    assert conn.closed
    assert sqlite_store.read(_count) == 0  # still answers, keeping nothing
    assert _readers(sqlite_store).idle() == 0
