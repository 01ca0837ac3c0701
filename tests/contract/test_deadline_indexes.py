"""The deadline indexes are partial (pending orders by `expires_at`, approved ones by
`execute_by`): the sweep and the state filters must still be able to use them, on both
databases, which a planner does only when the query spells the state the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from cosignatory.core.lifecycle import OrderState
from cosignatory.storage import Store
from cosignatory.storage.orders import orders, overdue_clause, state_clause
from tests.conftest import T0

PENDING_INDEX, APPROVED_INDEX = "ix_orders_expires_at", "ix_orders_execute_by"


def _plan(conn: Connection, query: Any) -> str:
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # the table is empty
        rows = conn.exec_driver_sql(f"EXPLAIN {compiled}")
    else:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
    return "\n".join(str(row[-1]) for row in rows)


def test_the_sweep_finds_overdue_orders_through_both_partial_indexes(store: Store) -> None:
    query = select(orders.c.id).where(overdue_clause(T0)).limit(500)
    with store.begin_read() as conn:
        plan = _plan(conn, query)
    assert PENDING_INDEX in plan and APPROVED_INDEX in plan, plan


def test_the_pending_and_approved_filters_use_their_index(store: Store) -> None:
    for state, index in (
        (OrderState.PENDING, PENDING_INDEX),
        (OrderState.APPROVED, APPROVED_INDEX),
    ):
        query = select(orders.c.id).where(state_clause(state, T0))
        with store.begin_read() as conn:
            plan = _plan(conn, query)
        assert index in plan, plan
