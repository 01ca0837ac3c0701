"""Every order state move: one conditional write plus its event, in the caller's transaction.

`move` is the only function here that changes `orders.state`, and it appends the event
for the move (kind from `core.events.event_for_state`) only when the row actually moved.
Nothing else in the service writes a state, so no state changes without an event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from cosignatory.core.events import event_for_state
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import format_timestamp
from cosignatory.core.policy import Decision, DecisionStatus
from cosignatory.storage import orders as order_rows
from cosignatory.storage.events import append_event_if
from cosignatory.storage.orders import Guard, OrderRecord

__all__ = ["SYSTEM_EXPIRY", "cancel", "expire", "move", "settle"]

SYSTEM_EXPIRY = "system:expiry"  # the actor of expiries (no person id contains a colon)


def move(
    conn: Connection,
    record: OrderRecord,
    target: OrderState,
    *,
    actor: str,
    now: datetime,
    payload: Mapping[str, Any],
    values: Mapping[str, Any] | None = None,
    guard: Guard = Guard.NONE,
    ticket_hash: str | None = None,
) -> OrderRecord | None:
    """Move `record` to `target` if its row is still in a source state (and passes `guard`),
    and log the move; returns the record as moved, or None when the row did not move."""
    changes = dict(values or {})
    move = order_rows.move_statement(
        conn, record.id, target, values=changes, guard=guard, now=now, ticket_hash=ticket_hash
    )
    # The conditional write and its event, together (one statement on PostgreSQL): the
    # event is appended only if the row moved.
    seq = append_event_if(
        conn,
        move,
        kind=event_for_state(target),
        actor=actor,
        subject=record.id,
        payload={"order_id": record.id, "from_state": record.state.value, **payload},
        at=now,
        order_digest=record.digest,  # we hold its row: lets PostgreSQL append in one trip
    )
    if seq is None:
        return None
    return record.evolve(state=target, **changes, event_seqs=(*record.event_seqs, seq))


def expire(conn: Connection, record: OrderRecord, *, now: datetime) -> OrderRecord | None:
    """Expire an order whose deadline has passed (None if it moved meanwhile)."""
    deadline = record.deadline()
    if deadline is None or now < deadline:
        return None
    reason = (
        "the ttl passed before every seat was filled"
        if record.state is OrderState.PENDING
        else "the execution window passed before the order was executed"
    )
    return move(
        conn,
        record,
        OrderState.EXPIRED,
        actor=SYSTEM_EXPIRY,
        now=now,
        payload={"deadline": format_timestamp(deadline), "reason": reason},
        values={"closed_at": deadline, "closed_by": SYSTEM_EXPIRY, "close_reason": reason},
        guard=Guard.OVERDUE,
    )


def cancel(
    conn: Connection,
    record: OrderRecord,
    *,
    now: datetime,
    by: str,
    reason: str,
    as_admin: bool,
) -> OrderRecord | None:
    return move(
        conn,
        record,
        OrderState.CANCELLED,
        actor=by,
        now=now,
        payload={"by": by, "reason": reason, "as_admin": as_admin},
        values={"closed_at": now, "closed_by": by, "close_reason": reason},
    )


def settle(
    conn: Connection,
    record: OrderRecord,
    decision: Decision,
    *,
    window: timedelta,
    now: datetime,
    actor: str,
) -> OrderRecord:
    """Apply the engine's verdict to a pending order we hold; returns it as it now is."""
    if decision.status is DecisionStatus.APPROVED:
        execute_by = now + window
        moved = move(
            conn,
            record,
            OrderState.APPROVED,
            actor=actor,
            now=now,
            payload={
                "approved_at": format_timestamp(now),
                "execute_by": format_timestamp(execute_by),
                "seats": [{"role": s.role, "filled_by": list(s.filled_by)} for s in decision.seats],
            },
            values={"approved_at": now, "execute_by": execute_by},
            guard=Guard.BEFORE_TTL,
        )
    elif decision.status is DecisionStatus.REJECTED:
        by = decision.rejected_by
        moved = move(
            conn,
            record,
            OrderState.REJECTED,
            actor=actor,
            now=now,
            payload={"rejected_by": list(by), "reasons": list(decision.reasons)},
            values={
                "closed_at": now,
                "closed_by": by[0] if by else actor,
                "close_reason": "rejected by " + ", ".join(f"`{p}`" for p in by),
            },
        )
    elif decision.status is DecisionStatus.EXPIRED:
        moved = expire(conn, record, now=now)
    else:
        return record
    if moved is None:
        raise RuntimeError(f"order `{record.id}` left `{record.state}` while locked")
    return moved
