"""Initial schema: policy versions, orders, reviews, the event log and tokens.

Revision ID: 0001
Revises:
Create Date: 2026-05-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_STATES = (
    "'pending', 'approved', 'rejected', 'expired', 'cancelled', 'executing', 'executed', 'failed'"
)
TS = sa.DateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: the rowid itself


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("in_flight", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_policy_versions"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("proposer", sa.String(64), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("approved_at", TS, nullable=True),
        sa.Column("execute_by", TS, nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("policy_digest", sa.String(80), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("ticket_hash", sa.String(64), nullable=True),
        sa.Column("executed_at", TS, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("outcome_detail", sa.Text(), nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(f"state IN ({_STATES})", name=op.f("ck_orders_state")),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('succeeded', 'failed')", name=op.f("ck_orders_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["policy_version"],
            ["policy_versions.version"],
            name="fk_orders_policy_version_policy_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_orders_state_expires_at", "orders", ["state", "expires_at"])
    op.create_index("ix_orders_state_execute_by", "orders", ["state", "execute_by"])
    op.create_index("ix_orders_proposer_id", "orders", ["proposer", "id"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.CheckConstraint("decision IN ('approve', 'deny')", name=op.f("ck_reviews_decision")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_reviews_order_id_orders"),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        sa.UniqueConstraint("order_id", "reviewer", name="uq_reviews_order_id_reviewer"),
    )
    op.create_table(
        "events",
        sa.Column("seq", SEQ, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
    )
    op.create_index("ix_events_subject_seq", "events", ["subject", "seq"])
    head = op.create_table(
        "event_log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("next_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_event_log_head_single_row")),
        sa.PrimaryKeyConstraint("id", name="pk_event_log_head"),
    )
    op.bulk_insert(head, [{"id": 1, "next_seq": 0}])
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoked_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tokens"),
        sa.UniqueConstraint("secret_hash", name="uq_tokens_secret_hash"),
    )
    op.create_index("ix_tokens_person", "tokens", ["person"])


def downgrade() -> None:
    op.drop_index("ix_tokens_person", table_name="tokens")
    op.drop_table("tokens")
    op.drop_table("event_log_head")
    op.drop_index("ix_events_subject_seq", table_name="events")
    op.drop_table("events")
    op.drop_table("reviews")
    op.drop_index("ix_orders_proposer_id", table_name="orders")
    op.drop_index("ix_orders_state_execute_by", table_name="orders")
    op.drop_index("ix_orders_state_expires_at", table_name="orders")
    op.drop_table("orders")
    op.drop_table("policy_versions")
