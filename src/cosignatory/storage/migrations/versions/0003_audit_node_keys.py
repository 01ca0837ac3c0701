"""Audit tree nodes keyed in the order appends create them.

`audit_nodes.id` was level · 2**56 + index, so the nodes one append creates (a leaf and
the subtrees it completes) sat in as many places in the B-tree as they have levels, each
a page written on every commit that touched it. It becomes (the leaf that completes the
node) · 64 + level (`storage.audit.node_id`): one append's nodes are neighbours. Only the
keys change; every hash stays as it was.

Each key is rewritten twice, through the negative numbers, so that no intermediate key
can collide with one not yet rewritten (both databases check a key per row).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_INDEX_MASK = (1 << 56) - 1

# old = level · 2**56 + index  →  new = (((index + 1) << level) - 1) << 6 | level
_TO_NEW = f"((((((id & {_INDEX_MASK}) + 1) << CAST((id >> 56) AS INTEGER)) - 1) << 6) | (id >> 56))"
# new = completed_by << 6 | level  →  old = level << 56 | (((completed_by + 1) >> level) - 1)
_TO_OLD = "(((id & 63) << 56) | ((((id >> 6) + 1) >> CAST((id & 63) AS INTEGER)) - 1))"


def _rekey(expression: str) -> None:
    op.execute(f"UPDATE audit_nodes SET id = -1 - {expression}")  # noqa: S608 - our SQL
    op.execute("UPDATE audit_nodes SET id = -1 - id")


def upgrade() -> None:
    _rekey(_TO_NEW)


def downgrade() -> None:
    _rekey(_TO_OLD)
