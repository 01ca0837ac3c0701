"""`Store.read` is one snapshot: a commit made while it runs is not seen by its later
statements. (SQLite's BEGIN for reads is sent on the driver's cursor; this pins that it
still starts the transaction.)"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from cosignatory.storage.store import Store
from cosignatory.storage.tables import tokens
from cosignatory.storage.tokens import TokenRecord, insert_token


def _count(conn: Connection) -> int:
    return len(conn.execute(select(tokens.c.id)).all())


def test_a_read_sees_one_snapshot(store: Store) -> None:
    def add(conn: Connection, token_id: str) -> None:
        now = datetime(2030, 1, 1, tzinfo=UTC)
        insert_token(
            conn,
            TokenRecord(
                id=token_id,
                person="kim",
                is_admin=False,
                label="",
                secret_hash="0" * 64,
                created_at=now,
                created_by="admin",
            ),
        )

    def read_around_a_commit(conn: Connection) -> tuple[int, int]:
        before = _count(conn)
        store.write(lambda w: add(w, "tok_during"))  # another connection commits
        return before, _count(conn)

    before, after = store.read(read_around_a_commit)
    assert before == after
    assert store.read(_count) == before + 1
