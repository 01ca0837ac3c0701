"""The event log: `append_event` is the single choke point every state change goes through
(`append_event_if` is the same append made conditional on a state move changing its row).

Sequence numbers are gapless from 0: the next one is taken from the one-row
`event_log_head` with a conditional `UPDATE`, whose row lock (PostgreSQL) or the
`BEGIN IMMEDIATE` write lock (SQLite) serializes appends until commit, so `seq` order is
commit order. A transaction should append its events after taking its other row locks,
to keep the head lock short and the lock order the same everywhere (no deadlocks).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from cosignatory.core.audit.entry import is_order_event
from cosignatory.core.canonical import canonical_text
from cosignatory.core.events import EventKind
from cosignatory.storage.audit import (
    AuditHead,
    append_audit_entry,
    plan_guessed_append,
    recent_frontier,
    remember_frontier,
)
from cosignatory.storage.driver import BoundSQL, driver_cursor
from cosignatory.storage.tables import event_log_head, events
from cosignatory.storage.types import sqlite_timestamp

__all__ = [
    "EventRecord",
    "append_event",
    "append_event_if",
    "event_count",
    "list_events",
    "seqs_by_subject",
]


@dataclass(frozen=True, kw_only=True)
class EventRecord:
    seq: int
    kind: EventKind
    actor: str
    subject: str
    at: datetime
    payload: str  # RFC 8785 canonical JSON text, exactly as stored


# All run on the driver's cursor (`DriverCursor`): every write transaction appends.
# The statement that takes the event log head also reads what the audit append needs (the
# audit head and, for an order event, the order's digest), one statement fewer per event.
# On PostgreSQL it is one statement, assembled by `_pg_append_sql` from these parts.
_PG_EVENT = """
    event AS (
        INSERT INTO events (seq, kind, actor, subject, at, payload)
        SELECT head.seq, %(kind)s, %(actor)s, %(subject)s, %(at)s, %(payload)s FROM head
        RETURNING seq
    ), """
# Then read the audit head for the append that follows.
_PG_READ_AUDIT_HEAD = """
    audit AS (
        -- A no-op update, not a read: a read in this statement would see the snapshot
        -- taken before it waited for the event log head, so the previous appender's audit
        -- head (READ COMMITTED); an update locks the latest version and returns it. Its
        -- join on `head` makes it lock only once the event log head is held.
        UPDATE audit_head SET size = audit_head.size FROM head WHERE audit_head.id = 1
        RETURNING audit_head.size, audit_head.frontier
    )
    SELECT event.seq, audit.size, audit.frontier,
        (SELECT digest FROM orders WHERE id = %(order)s)
    FROM event, audit
"""
# Or, on a guessed audit head (`audit.plan_guessed_append`), the whole audit append. Its
# writes hang off `audit`, which updates the head only if its latest version (locked once
# the event log head is held, as above) is exactly the guessed one and the order's digest
# is the one the entry carries; `applied` says whether they happened.
_PG_GUESSED_AUDIT_APPEND = """
    audit AS (
        UPDATE audit_head SET size = %(size)s, frontier = %(frontier)s FROM head
        WHERE audit_head.id = 1 AND head.seq = %(seq)s AND audit_head.size = %(seq)s
            AND audit_head.frontier = %(old_frontier)s
            AND (SELECT digest FROM orders WHERE id = %(order)s)
                IS NOT DISTINCT FROM CAST(%(order_digest)s AS text)
        RETURNING audit_head.size
    ), entry AS (
        INSERT INTO audit_entries (seq, order_digest)
        SELECT %(seq)s, CAST(%(order_digest)s AS text) FROM audit
    ), nodes AS (
        INSERT INTO audit_nodes (id, hash)
        SELECT n.id, substring(CAST(%(hashes)s AS bytea) FROM CAST(n.i AS integer) * 32 - 31
            FOR 32)
        FROM audit,
            unnest(string_to_array(%(ids)s, ',')::bigint[]) WITH ORDINALITY AS n(id, i)
    )
    SELECT event.seq, EXISTS (SELECT 1 FROM audit) AS applied FROM event
"""


@functools.lru_cache(maxsize=64)
def _pg_append_sql(condition: str | None, guessed: bool) -> str:
    """The PostgreSQL append statement; with `condition` (an UPDATE of one row) the event
    log head is taken, and so the event written, only when that row changes: no row
    comes back otherwise. The SQL is ours and the condition's, nothing from input."""
    guard = f"guard AS ({condition} RETURNING 1 AS moved), " if condition else ""
    head = (
        "head AS (UPDATE event_log_head SET next_seq = next_seq + 1"  # noqa: S608 - our SQL
        + (" FROM guard" if condition else "")
        + " WHERE id = 1 RETURNING next_seq - 1 AS seq), "
    )
    audit = _PG_GUESSED_AUDIT_APPEND if guessed else _PG_READ_AUDIT_HEAD
    return "WITH " + guard + head + _PG_EVENT + audit


_SQLITE_BUMP_HEAD = """
    UPDATE event_log_head SET next_seq = next_seq + 1 WHERE id = 1
    RETURNING next_seq - 1,
        (SELECT size FROM audit_head WHERE id = 1),
        (SELECT frontier FROM audit_head WHERE id = 1),
        (SELECT digest FROM orders WHERE id = :order)
"""
_SQLITE_INSERT_EVENT = (
    "INSERT INTO events (seq, kind, actor, subject, at, payload) "
    "VALUES (:seq, :kind, :actor, :subject, :at, :payload)"
)


def append_event(
    conn: Connection,
    *,
    kind: EventKind,
    actor: str,
    subject: str,
    payload: Mapping[str, Any],
    at: datetime,
    order_digest: str | None = None,
) -> int:
    """Write one event in the caller's transaction; returns its gapless `seq`.

    `order_digest` is, for an order event, the digest of the order as the caller holds it
    (row-locked, or inserted in this transaction): on PostgreSQL it lets the event and
    its audit append go in one statement (the database checks it; a wrong one only costs
    the usual two).
    """
    seq = append_event_if(
        conn,
        None,
        kind=kind,
        actor=actor,
        subject=subject,
        payload=payload,
        at=at,
        order_digest=order_digest,
    )
    if seq is None:  # pragma: no cover - only a condition can stop an append
        raise RuntimeError("the event log head did not move")
    return seq


def append_event_if(
    conn: Connection,
    condition: BoundSQL | None,
    *,
    kind: EventKind,
    actor: str,
    subject: str,
    payload: Mapping[str, Any],
    at: datetime,
    order_digest: str | None = None,
) -> int | None:
    """`append_event`, made conditional: run `condition`, an UPDATE of at most one row (a
    state move, `orders.move_statement`), and append the event only if it changed its
    row; the event's `seq`, or None when the row did not change (nothing written). On
    PostgreSQL both go in one statement."""
    if at.tzinfo is None:
        raise TypeError("naive datetime given to a UTC column; pass an aware datetime")
    payload_json = canonical_text(dict(payload))
    values: dict[str, Any] = {
        "kind": kind.value,
        "actor": actor,
        "subject": subject,
        "payload": payload_json,
    }
    # An order event's audit entry carries the order's digest; other subjects read none.
    is_order = is_order_event(kind)
    order = subject if is_order else ""
    postgres = conn.dialect.name == "postgresql"
    guess = recent_frontier(conn) if postgres and (order_digest is not None) == is_order else None
    with driver_cursor(conn) as cursor:
        if postgres:
            values["at"], values["order"] = at, order
            if guess is not None:
                planned = plan_guessed_append(
                    guess,
                    kind=kind,
                    actor=actor,
                    subject=subject,
                    at=at,
                    payload=payload_json,
                    order_digest=order_digest,
                )
                values.update(planned.params)
            if condition is not None:
                if not isinstance(condition.params, Mapping) or values.keys() & condition.params:
                    raise RuntimeError("a condition's parameters must be named apart")
                values.update(condition.params)
            sql = _pg_append_sql(condition.sql if condition else None, guess is not None)
            row = cursor.first(sql, values)  # one round trip
            if row is None:
                if condition is None:
                    raise RuntimeError("the event log head did not move")
                return None  # the condition's row did not change: nothing was written
            if guess is not None:
                seq, applied = row
                if applied:
                    remember_frontier(conn, planned.frontier)
                    return int(seq)
                head = None  # a stale guess wrote the event only: append its entry as usual
            else:
                seq, size, frontier, digest = row
                head = AuditHead(size=int(size), frontier=bytes(frontier), order_digest=digest)
        else:
            changed = condition is None or (
                cursor.execute(condition.sql, condition.params).rowcount == 1
            )
            if not changed:
                return None
            values["at"] = sqlite_timestamp(at)
            seq, size, frontier, digest = cursor.one(_SQLITE_BUMP_HEAD, {"order": order})
            cursor.execute(_SQLITE_INSERT_EVENT, {"seq": seq, **values})
            head = AuditHead(size=int(size), frontier=bytes(frontier), order_digest=digest)
        # The audit log's Merkle tree grows in this transaction, under the same head lock.
        append_audit_entry(
            conn,
            seq=int(seq),
            kind=kind,
            actor=actor,
            subject=subject,
            at=at,
            payload=payload_json,
            head=head,
        )
    return int(seq)


def _record(row: Any) -> EventRecord:
    return EventRecord(
        seq=row.seq,
        kind=EventKind(row.kind),
        actor=row.actor,
        subject=row.subject,
        at=row.at,
        payload=row.payload,
    )


def list_events(
    conn: Connection, *, subject: str | None = None, start: int = 0, limit: int = 1000
) -> list[EventRecord]:
    query = select(events).where(events.c.seq >= start).order_by(events.c.seq).limit(limit)
    if subject is not None:
        query = query.where(events.c.subject == subject)
    return [_record(row) for row in conn.execute(query)]


def seqs_by_subject(conn: Connection, subjects: list[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {s: [] for s in subjects}
    if not subjects:
        return out
    query = (
        select(events.c.subject, events.c.seq)
        .where(events.c.subject.in_(subjects))
        .order_by(events.c.seq)
    )
    for subject, seq in conn.execute(query):
        out[subject].append(int(seq))
    return out


def event_count(conn: Connection) -> int:
    return int(conn.execute(select(event_log_head.c.next_seq)).scalar_one())
