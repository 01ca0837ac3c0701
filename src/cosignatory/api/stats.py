"""Read-only aggregates for `/metrics` and `/healthz` that the service does not offer."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from cosignatory.storage.store import Store
from cosignatory.storage.tables import orders

__all__ = ["count_orders_by_state"]


def count_orders_by_state(store: Store) -> dict[str, int]:
    """Stored state → number of orders (an overdue order counts once the sweep expired it)."""

    def fn(conn: Connection) -> dict[str, int]:
        rows = conn.execute(select(orders.c.state, func.count()).group_by(orders.c.state))
        return {str(state): int(n) for state, n in rows}

    return store.read(fn)
