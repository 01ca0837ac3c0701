"""The schema, declared once (SQLAlchemy Core). Alembic migrations must produce exactly this.

    policy_versions   every published policy: number, YAML text, digest, publisher, time
    orders            one row per order; `state` only moves along `core.lifecycle.TRANSITIONS`
    reviews           one per (order, reviewer): the unique constraint backs the service check
    events            the append-only event log; `seq` is gapless from 0 (the audit leaf index)
    event_log_head    one row: the next `seq`; its row lock serializes appends on every database
    tokens            bearer tokens, stored as SHA-256 hashes only

JSON columns (`params`, `payload`) hold RFC 8785 canonical JSON text, so the bytes an
auditor hashes are the bytes stored.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from cosignatory.core.lifecycle import OrderState
from cosignatory.storage.types import UTCDateTime

__all__ = ["event_log_head", "events", "metadata", "orders", "policy_versions", "reviews", "tokens"]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

PERSON = 64  # person ids: `[a-z0-9][a-z0-9_.-]*`, bounded
ID = 40  # `ord_` + 26-char ULID, with room to spare
DIGEST = 80  # `sha256:` + 64 hex

SEQ = BigInteger().with_variant(Integer(), "sqlite")

_STATES = ", ".join(f"'{s.value}'" for s in OrderState)
_PENDING = text(f"state = '{OrderState.PENDING.value}'")
_APPROVED = text(f"state = '{OrderState.APPROVED.value}'")

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("digest", String(DIGEST), nullable=False),
    Column("yaml_text", Text, nullable=False),
    Column("published_by", String(PERSON), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("in_flight", String(16), nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("action", String(100), nullable=False),
    Column("params", Text, nullable=False),
    Column("proposer", String(PERSON), nullable=False),
    Column("justification", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("approved_at", UTCDateTime, nullable=True),
    Column("execute_by", UTCDateTime, nullable=True),
    Column(
        "policy_version",
        Integer,
        ForeignKey("policy_versions.version"),
        nullable=False,
    ),
    Column("policy_digest", String(DIGEST), nullable=False),
    Column("digest", String(DIGEST), nullable=False),
    Column("claimed_by", String(PERSON), nullable=True),
    Column("claimed_at", UTCDateTime, nullable=True),
    Column("ticket_hash", String(64), nullable=True),
    Column("executed_at", UTCDateTime, nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("outcome_detail", Text, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("closed_by", String(PERSON), nullable=True),
    Column("close_reason", Text, nullable=True),
    CheckConstraint(f"state IN ({_STATES})", name="state"),
    CheckConstraint("outcome IS NULL OR outcome IN ('succeeded', 'failed')", name="outcome"),
    # The deadlines of the two states that have one, for the expiry sweep and the state
    # filters (whose SQL spells these states as literals, so the planners match them).
    # Partial: an order sits in each only while in that state, so a state move writes at
    # most one entry here, not a delete and an insert in every index led by `state`.
    Index(None, "expires_at", sqlite_where=_PENDING, postgresql_where=_PENDING),
    Index(None, "execute_by", sqlite_where=_APPROVED, postgresql_where=_APPROVED),
    Index(None, "proposer", "id"),
    sqlite_with_rowid=False,  # clustered on the text id: one B-tree fewer per write
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False),
    Column("reviewer", String(PERSON), nullable=False),
    Column("decision", String(8), nullable=False),
    Column("comment", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("order_id", "reviewer"),
    CheckConstraint("decision IN ('approve', 'deny')", name="decision"),
)

events = Table(
    "events",
    metadata,
    # INTEGER on SQLite makes `seq` the rowid itself (no separate key index).
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(PERSON), nullable=False),
    Column("subject", String(ID), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Index(None, "subject", "seq"),
)

event_log_head = Table(
    "event_log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("next_seq", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("person", String(PERSON), nullable=False),
    Column("is_admin", Boolean, nullable=False),
    Column("label", String(200), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(PERSON), nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revoked_by", String(PERSON), nullable=True),
    UniqueConstraint("secret_hash"),
    Index(None, "person"),
)
