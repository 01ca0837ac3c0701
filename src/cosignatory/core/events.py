"""Event kinds: the closed vocabulary of everything that changes state.

Every state change is written as one event row in the same transaction as the change;
the tamper-evident audit log is built over these events. `ORDER_EVENT_STATE` says which
order state each order event moves the order into, so a log can be replayed offline
(`replay_order_states`) and checked against the stored orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from cosignatory.core.lifecycle import OrderState, can_move

__all__ = [
    "ORDER_EVENT_STATE",
    "EventKind",
    "event_for_state",
    "replay_order_states",
]


class EventKind(StrEnum):
    POLICY_PUBLISHED = "policy:published"
    POLICY_IN_FLIGHT = "policy:in_flight"
    ORDER_PROPOSED = "order:proposed"
    ORDER_REVIEWED = "order:reviewed"
    ORDER_APPROVED = "order:approved"
    ORDER_REJECTED = "order:rejected"
    ORDER_EXPIRED = "order:expired"
    ORDER_CANCELLED = "order:cancelled"
    ORDER_CLAIMED = "order:claimed"
    ORDER_EXECUTED = "order:executed"
    ORDER_FAILED = "order:failed"
    TOKEN_CREATED = "token:created"  # noqa: S105 - an event name, not a secret
    TOKEN_REVOKED = "token:revoked"  # noqa: S105 - an event name, not a secret


ORDER_EVENT_STATE: Mapping[EventKind, OrderState] = {
    EventKind.ORDER_PROPOSED: OrderState.PENDING,
    EventKind.ORDER_APPROVED: OrderState.APPROVED,
    EventKind.ORDER_REJECTED: OrderState.REJECTED,
    EventKind.ORDER_EXPIRED: OrderState.EXPIRED,
    EventKind.ORDER_CANCELLED: OrderState.CANCELLED,
    EventKind.ORDER_CLAIMED: OrderState.EXECUTING,
    EventKind.ORDER_EXECUTED: OrderState.EXECUTED,
    EventKind.ORDER_FAILED: OrderState.FAILED,
}

_KIND_OF_STATE: Mapping[OrderState, EventKind] = {
    state: kind for kind, state in ORDER_EVENT_STATE.items() if kind is not EventKind.ORDER_PROPOSED
}


def event_for_state(target: OrderState) -> EventKind:
    """The event kind that records a move into `target` (never `pending`)."""
    try:
        return _KIND_OF_STATE[target]
    except KeyError:
        raise RuntimeError(f"no event records a move into `{target}`") from None


def replay_order_states(
    events: Iterable[tuple[EventKind, str, Mapping[str, Any]]],
) -> dict[str, OrderState]:
    """Fold `(kind, subject, payload)` events into each order's state.

    Raises ValueError on a log that breaks the lifecycle: an order event before the
    order was proposed, a second proposal, or a move the transition table forbids.
    """
    states: dict[str, OrderState] = {}
    for kind, subject, _payload in events:
        target = ORDER_EVENT_STATE.get(kind)
        if target is None:
            continue
        current = states.get(subject)
        if kind is EventKind.ORDER_PROPOSED:
            if current is not None:
                raise ValueError(f"order `{subject}` proposed twice")
        elif current is None:
            raise ValueError(f"`{kind}` for order `{subject}` before it was proposed")
        elif not can_move(current, target):
            raise ValueError(f"`{kind}` moves order `{subject}` from `{current}` to `{target}`")
        states[subject] = target
    return states
