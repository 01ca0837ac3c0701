"""Audit log storage: the Merkle tree beside the event log, appended in the same transaction.

    audit_entries      one row per event `seq` (= leaf index): the order digest its entry carries
    audit_nodes        complete-subtree hashes by one integer key, in the order appends create
                       them (`node_id`): a leaf's is seq · 64, each append's nodes are adjacent
    audit_head         one row: the tree size and its frontier (O(log n) hashes)
    audit_checkpoints  every checkpoint the log signed: size, root, the signed note

`append_audit_entry` is called by `events.append_event` right after it wrote the event,
under the event log head's lock, so audit appends are serialized exactly like events and
`audit_head.size` always equals the next `seq`. It costs one read (the head and, for an
order event, the order's digest; `append_event` folds it into the statement that takes
the event log head) and three writes (one statement on PostgreSQL), whatever the size of
the log, all on the driver's cursor (`storage.driver`).

An entry's bytes are never stored: `entry_bytes` rebuilds them from the event row and
`audit_entries.order_digest`; the stored leaf hash is what the tree was built from, so
an event row edited behind the log's back no longer matches its leaf.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
)
from sqlalchemy.engine import Connection, Engine

from cosignatory.core.audit import (
    AppendResult,
    Frontier,
    TreeError,
    append_entry,
    subtree_addresses,
)
from cosignatory.core.audit.entry import event_entry_bytes, is_order_event
from cosignatory.core.events import EventKind
from cosignatory.storage.driver import driver_cursor
from cosignatory.storage.tables import DIGEST, SEQ, events, metadata
from cosignatory.storage.types import UTCDateTime

__all__ = [
    "AuditHead",
    "CheckpointRecord",
    "GuessedAppend",
    "StoredEntry",
    "StoredHashReader",
    "append_audit_entry",
    "audit_checkpoints",
    "audit_entries",
    "audit_head",
    "audit_nodes",
    "frontier_at",
    "insert_checkpoint",
    "iter_entries",
    "latest_checkpoint",
    "lock_head",
    "node_id",
    "plan_guessed_append",
    "read_entries",
    "read_head",
    "recent_frontier",
    "remember_frontier",
]

HASH = 32

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("order_digest", String(DIGEST), nullable=True),
)

audit_nodes = Table(
    "audit_nodes",
    metadata,
    # One integer key (the rowid on SQLite): a proof reads its nodes with one `IN`.
    Column("id", SEQ, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(HASH), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", SEQ, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(HASH), nullable=False),
    Column("origin", String(200), nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", UTCDateTime, nullable=False),
)


# --- appending --------------------------------------------------------------------------


_READ_HEAD = select(audit_head.c.size, audit_head.c.frontier).where(audit_head.c.id == 1)
_LOCK_HEAD = _READ_HEAD.with_for_update()
_READ_NODES = select(audit_nodes.c.id, audit_nodes.c.hash).where(
    audit_nodes.c.id.in_(bindparam("b_ids", expanding=True))
)
_LEVEL_BITS = 6  # levels 0..63
_MAX_LEAVES = 1 << 56  # keys stay below 2**62: a signed 64-bit integer everywhere
# The statements of an append run on the driver's cursor (`DriverCursor`): every write
# transaction appends. First the head and, for an order event, the order's digest now.
_READ_FOR_APPEND = {
    "sqlite": (
        "SELECT size, frontier, (SELECT digest FROM orders WHERE id = :order) "
        "FROM audit_head WHERE id = 1"
    ),
    "postgresql": (
        "SELECT size, frontier, (SELECT digest FROM orders WHERE id = %(order)s) "
        "FROM audit_head WHERE id = 1"
    ),
}
# PostgreSQL: every write of an append in one statement (one round trip).
_PG_WRITE = """
    WITH entry AS (
        INSERT INTO audit_entries (seq, order_digest) VALUES (%(seq)s, %(order_digest)s)
    ), nodes AS (
        INSERT INTO audit_nodes (id, hash)
        SELECT n.id, substring(CAST(%(hashes)s AS bytea) FROM CAST(n.i AS integer) * 32 - 31 FOR 32)
        FROM unnest(string_to_array(%(ids)s, ',')::bigint[]) WITH ORDINALITY AS n(id, i)
    )
    UPDATE audit_head SET size = %(size)s, frontier = %(frontier)s WHERE id = 1
"""
_SQLITE_INSERT_ENTRY = "INSERT INTO audit_entries (seq, order_digest) VALUES (:seq, :order_digest)"
_SQLITE_UPDATE_HEAD = "UPDATE audit_head SET size = :size, frontier = :frontier WHERE id = 1"


def read_head(conn: Connection) -> Frontier:
    row = conn.execute(_READ_HEAD).one()
    return Frontier.from_bytes(size=int(row.size), data=bytes(row.frontier))


def lock_head(conn: Connection) -> Frontier:
    """`read_head`, holding the head row until commit (no append meanwhile)."""
    query = _LOCK_HEAD if conn.dialect.name == "postgresql" else _READ_HEAD
    row = conn.execute(query).one()  # SQLite: the write transaction already excludes writers
    return Frontier.from_bytes(size=int(row.size), data=bytes(row.frontier))


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditHead:
    """What an append reads first, under the event log head's lock: the tree's size and
    frontier (`audit_head`) and, for an order event, the order's digest now."""

    size: int
    frontier: bytes
    order_digest: str | None


def append_audit_entry(
    conn: Connection,
    *,
    seq: int,
    kind: EventKind,
    actor: str,
    subject: str,
    at: datetime,
    payload: str,
    head: AuditHead | None = None,
) -> None:
    """Append the entry of the event just written at `seq` to the tree (same transaction).

    `head` is what the caller read in the statement that took the event log head
    (`events.append_event` does); without it the head is read here. The statements run
    on the transaction's shared driver cursor (`driver.driver_cursor`).
    """
    with driver_cursor(conn) as cursor:
        is_order = is_order_event(kind)
        postgres = conn.dialect.name == "postgresql"
        if head is None:
            size, data, digest = cursor.one(
                _READ_FOR_APPEND[conn.dialect.name], {"order": subject if is_order else ""}
            )
            head = AuditHead(size=int(size), frontier=bytes(data), order_digest=digest)
        frontier = _stored_frontier(conn, head)
        digest = head.order_digest
        if frontier.size != seq:
            raise RuntimeError(
                f"audit log holds {frontier.size} entries but event {seq} was written"
            )
        order_digest = digest if is_order else None
        if is_order and order_digest is None:
            raise RuntimeError(f"`{kind}` event for order `{subject}`, which has no row")
        event = _Event(kind=kind, actor=actor, subject=subject, at=at, payload=payload)
        result = _append(frontier, event, order_digest)
        # PostgreSQL's next append guesses the head from it; every next append skips parsing
        # the head when it reads exactly these bytes back (`_stored_frontier`).
        remember_frontier(conn, result.frontier)
        if postgres:
            cursor.execute(_PG_WRITE, _pg_write_params(seq, order_digest, result))
            return
        cursor.execute(_SQLITE_INSERT_ENTRY, {"seq": seq, "order_digest": order_digest})
        nodes: list[Any] = []
        for level, index, h in result.node_rows():
            nodes += (node_id(level, index), h)
        cursor.execute(_sqlite_insert_nodes(len(result.created)), nodes)  # one statement, any count
        cursor.execute(
            _SQLITE_UPDATE_HEAD,
            {"size": result.frontier.size, "frontier": result.frontier.to_bytes()},
        )


def _stored_frontier(conn: Connection, head: AuditHead) -> Frontier:
    """The frontier stored in `head`: the one this process's last append left when the
    stored size and bytes are exactly its own (an append that rolled back, or another
    process's, makes them differ), otherwise parsed and checked from the bytes. Comparing
    the bytes costs a fraction of splitting and checking every hash again."""
    recent = recent_frontier(conn)
    if recent is not None and recent.size == head.size and recent.to_bytes() == head.frontier:
        return recent
    return Frontier.from_bytes(size=head.size, data=head.frontier)


@functools.cache
def _sqlite_insert_nodes(count: int) -> str:
    """`INSERT … VALUES (?, ?), …` for `count` nodes (at most 64: one per level)."""
    rows = ", ".join(["(?, ?)"] * count)
    return f"INSERT INTO audit_nodes (id, hash) VALUES {rows}"  # noqa: S608 - our SQL only


@dataclass(frozen=True, kw_only=True, slots=True)
class _Event:
    """The fields of an event row that its audit entry carries (besides `seq`)."""

    kind: EventKind
    actor: str
    subject: str
    at: datetime
    payload: str  # canonical JSON text, as stored


def _append(frontier: Frontier, event: _Event, order_digest: str | None) -> AppendResult:
    """The event's entry (at `seq = frontier.size`) appended to the tree `frontier`."""
    entry = event_entry_bytes(
        seq=frontier.size,
        at=event.at,
        kind=event.kind,
        actor=event.actor,
        subject=event.subject,
        payload_json=event.payload,
        order_digest=order_digest,
    )
    return append_entry(frontier, entry)


def _pg_write_params(seq: int, order_digest: str | None, result: AppendResult) -> dict[str, Any]:
    return {
        "seq": seq,
        "order_digest": order_digest,
        # The nodes as one text and one bytea: the driver dumps those far faster than lists.
        "ids": ",".join(str(node_id(level, index)) for level, index, _ in result.node_rows()),
        "hashes": b"".join(result.created),
        "size": result.frontier.size,
        "frontier": result.frontier.to_bytes(),
    }


# --- appending on a guessed head (PostgreSQL) -------------------------------------------

# The frontier each engine's last append in this process left, committed or not. On
# PostgreSQL `events.append_event` builds the next entry on it and sends the event and
# the whole audit append as one statement, whose writes to the audit tables apply only if
# the head still holds exactly that frontier (checked on the locked, latest row version);
# otherwise (another process appended, a transaction rolled back) it appends as usual.
# On either database an append that reads back exactly these bytes uses this frontier
# rather than parsing them again (`_stored_frontier`).
_recent: weakref.WeakKeyDictionary[Engine, Frontier] = weakref.WeakKeyDictionary()
_recent_lock = threading.Lock()


def recent_frontier(conn: Connection) -> Frontier | None:
    with _recent_lock:
        return _recent.get(conn.engine)


def remember_frontier(conn: Connection, frontier: Frontier) -> None:
    with _recent_lock:
        _recent[conn.engine] = frontier


@dataclass(frozen=True, kw_only=True, slots=True)
class GuessedAppend:
    """An audit append planned on a guessed head: the statement parameters that write it
    (`_PG_WRITE`'s, plus the head it assumes) and the frontier it leaves."""

    params: dict[str, Any]
    frontier: Frontier


def plan_guessed_append(
    guess: Frontier,
    *,
    kind: EventKind,
    actor: str,
    subject: str,
    at: datetime,
    payload: str,
    order_digest: str | None,
) -> GuessedAppend:
    """The append of the event that would take `seq = guess.size`, if `guess` is the head."""
    if is_order_event(kind) != (order_digest is not None):
        raise RuntimeError(f"`{kind}` event with order digest `{order_digest!r}`")
    event = _Event(kind=kind, actor=actor, subject=subject, at=at, payload=payload)
    result = _append(guess, event, order_digest)
    params = _pg_write_params(guess.size, order_digest, result)
    params["old_frontier"] = guess.to_bytes()
    return GuessedAppend(params=params, frontier=result.frontier)


# --- reading ----------------------------------------------------------------------------


def node_id(level: int, index: int) -> int:
    """The `audit_nodes` key of node (`level`, `index`): (the leaf that completes it) · 64
    + level. Keys grow in the order appends create nodes, so one append's nodes (a leaf
    and the subtrees it completes) sit side by side at the right edge of one B-tree page;
    keyed by level first, each level was a page of its own, written on every commit that
    touched it. A leaf's key is seq · 64. Distinct nodes get distinct keys (a key gives
    back its level, hence its index)."""
    if not 0 <= level < 1 << _LEVEL_BITS or index < 0:
        raise TreeError(f"node `{level}/{index}` is outside the storable tree")
    completed_by = ((index + 1) << level) - 1
    if completed_by >= _MAX_LEAVES:
        raise TreeError(f"node `{level}/{index}` is outside the storable tree")
    return completed_by << _LEVEL_BITS | level


class StoredHashReader:
    """`HashReader` over `audit_nodes`: one cached, indexed query per `get_nodes` call."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get_nodes(self, addresses: Sequence[tuple[int, int]], /) -> list[bytes]:
        if not addresses:
            return []
        wanted = list(dict.fromkeys(node_id(level, index) for level, index in addresses))
        found: dict[int, bytes] = {}
        for first in range(0, len(wanted), 500):
            chunk = wanted[first : first + 500]
            for key, h in self._conn.execute(_READ_NODES, {"b_ids": chunk}):
                found[int(key)] = bytes(h)
        out = []
        for level, index in addresses:
            h = found.get(node_id(level, index))
            if h is None:
                raise TreeError(f"node `{level}/{index}` is not stored")
            out.append(h)
        return out


def frontier_at(conn: Connection, size: int) -> Frontier:
    """The frontier of the tree of the first `size` entries, from stored nodes."""
    if size == 0:
        return Frontier.empty()
    hashes = StoredHashReader(conn).get_nodes(subtree_addresses(0, size))
    return Frontier(size=size, hashes=tuple(hashes))


@dataclass(frozen=True, kw_only=True)
class StoredEntry:
    """One entry as the log holds it: canonical bytes and the leaf hash the tree used."""

    index: int
    entry: bytes = field(repr=False)
    leaf_hash: bytes


def read_entries(conn: Connection, start: int, end: int) -> list[StoredEntry]:
    """Entries `start` ≤ index < `end`, rebuilt from the event rows."""
    leaf = audit_nodes.alias("leaf")
    query = (
        select(
            events.c.seq,
            events.c.kind,
            events.c.actor,
            events.c.subject,
            events.c.at,
            events.c.payload,
            audit_entries.c.order_digest,
            leaf.c.hash,
        )
        .join(audit_entries, audit_entries.c.seq == events.c.seq)
        .join(leaf, leaf.c.id == events.c.seq * (1 << _LEVEL_BITS))  # a leaf: seq · 64
        .where(events.c.seq >= start, events.c.seq < end)
        .order_by(events.c.seq)
    )
    out = []
    for row in conn.execute(query):
        raw = event_entry_bytes(
            seq=int(row.seq),
            at=row.at,
            kind=EventKind(row.kind),
            actor=row.actor,
            subject=row.subject,
            payload_json=row.payload,
            order_digest=row.order_digest,
        )
        out.append(StoredEntry(index=int(row.seq), entry=raw, leaf_hash=bytes(row.hash)))
    if len(out) != max(0, end - start):
        raise TreeError(f"entries `[{start}, {end})` are not all stored")
    return out


def iter_entries(
    conn: Connection, start: int, end: int, *, batch: int = 2000
) -> Iterator[StoredEntry]:
    for first in range(start, end, batch):
        yield from read_entries(conn, first, min(end, first + batch))


@dataclass(frozen=True, kw_only=True)
class CheckpointRecord:
    size: int
    root_hash: bytes
    origin: str
    note: str = field(repr=False)
    signed_at: datetime


def _checkpoint(row: Any) -> CheckpointRecord:
    return CheckpointRecord(
        size=int(row.size),
        root_hash=bytes(row.root_hash),
        origin=row.origin,
        note=row.note,
        signed_at=row.signed_at,
    )


def latest_checkpoint(conn: Connection) -> CheckpointRecord | None:
    row = conn.execute(
        select(audit_checkpoints).order_by(audit_checkpoints.c.size.desc()).limit(1)
    ).one_or_none()
    return _checkpoint(row) if row is not None else None


def insert_checkpoint(conn: Connection, record: CheckpointRecord) -> None:
    conn.execute(
        insert(audit_checkpoints).values(
            size=record.size,
            root_hash=record.root_hash,
            origin=record.origin,
            note=record.note,
            signed_at=record.signed_at,
        )
    )
