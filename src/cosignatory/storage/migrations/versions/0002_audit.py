"""The audit log: entries' order digests, Merkle tree nodes, the tree head, checkpoints.

Events logged before this revision are audited here, in `seq` order, exactly as
`storage.audit.append_audit_entry` would have done: an order event carries the digest
the order had at that moment (its proposal's, replaced when a policy publication
re-pinned the order), which the event payloads themselves record.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-12
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from cosignatory.core.audit import CompactRange
from cosignatory.core.audit.entry import event_entry_bytes, is_order_event
from cosignatory.core.events import EventKind

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: the rowid itself
HASH = sa.LargeBinary(32)
_BATCH = 2000


def upgrade() -> None:
    entries = op.create_table(
        "audit_entries",
        sa.Column("seq", SEQ, autoincrement=False, nullable=False),
        sa.Column("order_digest", sa.String(80), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
    )
    nodes = op.create_table(
        "audit_nodes",  # id = level * 2**56 + index (see storage/audit.py)
        sa.Column("id", SEQ, autoincrement=False, nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_nodes"),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", SEQ, autoincrement=False, nullable=False),
        sa.Column("root_hash", HASH, nullable=False),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name="pk_audit_checkpoints"),
    )
    tree = _backfill(entries, nodes)
    frontier = tree.frontier()
    op.bulk_insert(head, [{"id": 1, "size": frontier.size, "frontier": frontier.to_bytes()}])


def _backfill(entries: sa.Table, nodes: sa.Table) -> CompactRange:
    """Audit every event already logged; returns the tree over them."""
    conn = op.get_bind()
    events = sa.table(
        "events",
        sa.column("seq", sa.BigInteger()),
        sa.column("kind", sa.String()),
        sa.column("actor", sa.String()),
        sa.column("subject", sa.String()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("payload", sa.Text()),
    )
    tree = CompactRange()
    digests: dict[str, str] = {}
    query = sa.select(events).order_by(events.c.seq)
    rows: list[dict[str, Any]] = []
    node_rows: list[dict[str, Any]] = []
    for row in conn.execute(query):
        seq, kind = int(row.seq), EventKind(row.kind)
        if seq != tree.size:
            raise RuntimeError(f"event {tree.size} is missing; cannot audit a log with gaps")
        payload = json.loads(row.payload)
        if kind is EventKind.ORDER_PROPOSED:
            digests[row.subject] = payload["digest"]
        elif kind is EventKind.POLICY_IN_FLIGHT:
            for item in payload.get("orders", []):
                if "digest" in item:
                    digests[item["id"]] = item["digest"]
        digest = digests[row.subject] if is_order_event(kind) else None
        raw = event_entry_bytes(
            seq=seq,
            at=_aware(row.at),
            kind=kind,
            actor=row.actor,
            subject=row.subject,
            payload_json=row.payload,
            order_digest=digest,
        )
        created = tree.append_entry(raw)
        rows.append({"seq": seq, "order_digest": digest})
        node_rows.extend(
            {"id": (level << 56) + (seq >> level), "hash": h} for level, h in enumerate(created)
        )
        if len(rows) >= _BATCH:
            _flush(conn, entries, nodes, rows, node_rows)
    _flush(conn, entries, nodes, rows, node_rows)
    return tree


def _aware(value: datetime) -> datetime:
    """SQLite hands timestamps back naive (they are stored in UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _flush(
    conn: sa.Connection,
    entries: sa.Table,
    nodes: sa.Table,
    rows: list[dict[str, Any]],
    node_rows: list[dict[str, Any]],
) -> None:
    if rows:
        conn.execute(sa.insert(entries), rows)
        conn.execute(sa.insert(nodes), node_rows)
    rows.clear()
    node_rows.clear()


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_head")
    op.drop_table("audit_nodes")
    op.drop_table("audit_entries")
