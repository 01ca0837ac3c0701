"""Orders and reviews: rows in, frozen records out; every state move is a conditional write."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, insert, or_, select, update
from sqlalchemy.engine import Connection

from cosignatory.core.canonical import canonical_json
from cosignatory.core.lifecycle import OrderState, sources_of
from cosignatory.core.policy import ReviewDecision
from cosignatory.storage.tables import orders, reviews

__all__ = [
    "OrderRecord",
    "ReviewRecord",
    "due_for_expiry",
    "get_order",
    "insert_order",
    "insert_review",
    "list_orders",
    "lock_pending",
    "move_order",
    "overdue_clause",
    "reviews_of",
    "reviews_of_many",
    "state_clause",
    "update_order",
]


@dataclass(frozen=True, kw_only=True)
class OrderRecord:
    id: str
    action: str
    params: Mapping[str, Any]
    proposer: str
    justification: str
    state: OrderState
    created_at: datetime
    expires_at: datetime
    approved_at: datetime | None = None
    execute_by: datetime | None = None
    policy_version: int
    policy_digest: str
    digest: str
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    ticket_hash: str | None = None
    executed_at: datetime | None = None
    outcome: str | None = None
    outcome_detail: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_reason: str | None = None

    def deadline(self) -> datetime | None:
        """When this order expires if nothing happens: ttl while pending, window once approved."""
        if self.state is OrderState.PENDING:
            return self.expires_at
        if self.state is OrderState.APPROVED:
            return self.execute_by
        return None

    def overdue(self, now: datetime) -> bool:
        deadline = self.deadline()
        return deadline is not None and now >= deadline


@dataclass(frozen=True, kw_only=True)
class ReviewRecord:
    order_id: str
    reviewer: str
    decision: ReviewDecision
    comment: str
    at: datetime


def _order(row: Any) -> OrderRecord:
    values = dict(row._mapping)
    values["params"] = json.loads(values["params"])
    values["state"] = OrderState(values["state"])
    return OrderRecord(**values)


def insert_order(conn: Connection, record: OrderRecord) -> None:
    values = {c.name: getattr(record, c.name) for c in orders.c}
    values["params"] = canonical_json(dict(record.params)).decode("utf-8")
    values["state"] = record.state.value
    conn.execute(insert(orders).values(**values))


def get_order(conn: Connection, order_id: str, *, for_update: bool = False) -> OrderRecord | None:
    """The order, or None; `for_update` takes its row lock (PostgreSQL) until commit."""
    query = select(orders).where(orders.c.id == order_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    return _order(row) if row is not None else None


def move_order(
    conn: Connection,
    order_id: str,
    target: OrderState,
    *,
    values: Mapping[str, Any] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> bool:
    """`UPDATE orders SET state = target … WHERE id = … AND state IN (sources of target)`.

    True when the row moved; False when it was not in a state that may move to `target`
    (or failed an extra `where` condition). The caller turns False into a typed error.
    """
    sources = sorted(s.value for s in sources_of(target))
    result = conn.execute(
        update(orders)
        .where(orders.c.id == order_id, orders.c.state.in_(sources), *where)
        .values(state=target.value, **(values or {}))
    )
    return result.rowcount == 1


def update_order(conn: Connection, order_id: str, *, state: OrderState, values: Mapping[str, Any]) -> bool:
    """Change fields of an order that is still in `state` (no state move)."""
    result = conn.execute(
        update(orders).where(orders.c.id == order_id, orders.c.state == state.value).values(**values)
    )
    return result.rowcount == 1


def insert_review(conn: Connection, review: ReviewRecord) -> None:
    conn.execute(
        insert(reviews).values(
            order_id=review.order_id,
            reviewer=review.reviewer,
            decision=review.decision.value,
            comment=review.comment,
            at=review.at,
        )
    )


def _review(row: Any) -> ReviewRecord:
    return ReviewRecord(
        order_id=row.order_id,
        reviewer=row.reviewer,
        decision=ReviewDecision(row.decision),
        comment=row.comment,
        at=row.at,
    )


def reviews_of(conn: Connection, order_id: str) -> list[ReviewRecord]:
    query = select(reviews).where(reviews.c.order_id == order_id).order_by(reviews.c.id)
    return [_review(row) for row in conn.execute(query)]


def reviews_of_many(conn: Connection, order_ids: Sequence[str]) -> dict[str, list[ReviewRecord]]:
    out: dict[str, list[ReviewRecord]] = {i: [] for i in order_ids}
    if not order_ids:
        return out
    query = select(reviews).where(reviews.c.order_id.in_(list(order_ids))).order_by(reviews.c.id)
    for row in conn.execute(query):
        out[row.order_id].append(_review(row))
    return out


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """Orders whose deadline has passed but whose row still says pending or approved."""
    return or_(
        and_(orders.c.state == OrderState.PENDING.value, orders.c.expires_at <= now),
        and_(orders.c.state == OrderState.APPROVED.value, orders.c.execute_by <= now),
    )


def state_clause(state: OrderState, now: datetime) -> ColumnElement[bool]:
    """Orders that *read* as `state` at `now`: overdue ones read as expired."""
    if state is OrderState.PENDING:
        return and_(orders.c.state == state.value, orders.c.expires_at > now)
    if state is OrderState.APPROVED:
        return and_(orders.c.state == state.value, orders.c.execute_by > now)
    if state is OrderState.EXPIRED:
        return or_(orders.c.state == state.value, overdue_clause(now))
    return orders.c.state == state.value


def list_orders(
    conn: Connection,
    *,
    now: datetime,
    state: OrderState | None = None,
    proposer: str | None = None,
    action: str | None = None,
    not_reviewed_by: str | None = None,
    after_id: str | None = None,
    limit: int = 50,
) -> list[OrderRecord]:
    """Orders sorted by id, after `after_id`, matching every filter given."""
    query = select(orders).order_by(orders.c.id).limit(limit)
    if state is not None:
        query = query.where(state_clause(state, now))
    if proposer is not None:
        query = query.where(orders.c.proposer == proposer)
    if action is not None:
        query = query.where(orders.c.action == action)
    if not_reviewed_by is not None:
        mine = select(reviews.c.id).where(
            reviews.c.order_id == orders.c.id, reviews.c.reviewer == not_reviewed_by
        )
        query = query.where(~mine.exists())
    if after_id is not None:
        query = query.where(orders.c.id > after_id)
    return [_order(row) for row in conn.execute(query)]


def due_for_expiry(conn: Connection, now: datetime, *, limit: int) -> list[OrderRecord]:
    """Overdue orders, locked for this transaction; rows another writer holds are skipped."""
    query = select(orders).where(overdue_clause(now)).order_by(orders.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [_order(row) for row in conn.execute(query)]


def lock_pending(conn: Connection, *, only: Sequence[str] | None = None) -> list[OrderRecord]:
    """Every pending order (or those of `only`), row-locked in id order (no deadlocks)."""
    query = select(orders).where(orders.c.state == OrderState.PENDING.value).order_by(orders.c.id)
    if only is not None:
        query = query.where(orders.c.id.in_(list(only)) if only else false())
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return [_order(row) for row in conn.execute(query)]
