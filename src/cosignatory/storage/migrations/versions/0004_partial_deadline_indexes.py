"""Order deadlines indexed only for the state they belong to.

`(state, expires_at)` and `(state, execute_by)` held every order, so each state move
deleted and inserted an entry in both (four index pages written per move). The sweep and
the state filters only ever look up pending orders by `expires_at` and approved ones by
`execute_by`: two partial indexes hold just those, and a move touches at most one entry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_PENDING = "state = 'pending'"
_APPROVED = "state = 'approved'"


def upgrade() -> None:
    op.drop_index("ix_orders_state_expires_at", table_name="orders")
    op.drop_index("ix_orders_state_execute_by", table_name="orders")
    op.create_index(
        "ix_orders_expires_at",
        "orders",
        ["expires_at"],
        sqlite_where=sa.text(_PENDING),
        postgresql_where=sa.text(_PENDING),
    )
    op.create_index(
        "ix_orders_execute_by",
        "orders",
        ["execute_by"],
        sqlite_where=sa.text(_APPROVED),
        postgresql_where=sa.text(_APPROVED),
    )


def downgrade() -> None:
    op.drop_index("ix_orders_execute_by", table_name="orders")
    op.drop_index("ix_orders_expires_at", table_name="orders")
    op.create_index("ix_orders_state_expires_at", "orders", ["state", "expires_at"])
    op.create_index("ix_orders_state_execute_by", "orders", ["state", "execute_by"])
