"""Order states and the one table of allowed transitions.

    propose ─► pending ──(all seats filled)──► approved ──(claim)──► executing ─► executed | failed
                 │ └─(veto / deny threshold)─► rejected     │
                 │ └─(ttl passes)────────────► expired      └─(window passes)─► expired
                 └─(proposer or admin)───────► cancelled

States only move forward. Storage turns each move into a conditional write
(`UPDATE ... WHERE state IN (allowed sources)`), so the table below is the single
source of truth for both Python and SQL.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TERMINAL_STATES", "TRANSITIONS", "OrderState", "can_move", "sources_of"]


class OrderState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"


S = OrderState

TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.PENDING: frozenset({S.APPROVED, S.REJECTED, S.EXPIRED, S.CANCELLED}),
    S.APPROVED: frozenset({S.EXECUTING, S.EXPIRED, S.CANCELLED}),
    S.EXECUTING: frozenset({S.EXECUTED, S.FAILED}),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXECUTED: frozenset(),
    S.FAILED: frozenset(),
}

TERMINAL_STATES = frozenset(s for s, targets in TRANSITIONS.items() if not targets)


def can_move(source: OrderState, target: OrderState) -> bool:
    return target in TRANSITIONS[source]


def sources_of(target: OrderState) -> frozenset[OrderState]:
    """The states from which `target` may be reached (the `WHERE state IN (...)` set)."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)
