"""What the offline replay remembers between entries: policies and orders as logged so far.

Mutable on purpose (the replay folds millions of entries); nothing outside `replay.py`
sees these objects. `Violation` is how a check says an entry breaks a rule; the replay
turns the first one into a `ReplayProblem`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from cosignatory.core.errors import PolicyError
from cosignatory.core.events import EventKind
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import format_timestamp
from cosignatory.core.policy import (
    Decision,
    DecisionStatus,
    OrderInput,
    Policy,
    ReviewInput,
    load_policy,
)

__all__ = [
    "RESULT_OF_STATUS",
    "SETTLES",
    "LoggedOrder",
    "LoggedPolicy",
    "Owed",
    "Violation",
    "field_of",
    "field_or_none",
    "load_logged_policy",
    "settlement",
    "ts",
]

T = TypeVar("T")

Owed = tuple[str, EventKind, str]
"""An event the current transaction still owes: (subject, kind, why it is owed)."""

SETTLES: Mapping[DecisionStatus, EventKind] = {
    DecisionStatus.APPROVED: EventKind.ORDER_APPROVED,
    DecisionStatus.REJECTED: EventKind.ORDER_REJECTED,
    DecisionStatus.EXPIRED: EventKind.ORDER_EXPIRED,
}
RESULT_OF_STATUS: Mapping[DecisionStatus, str] = {
    DecisionStatus.APPROVED: "approved",
    DecisionStatus.REJECTED: "rejected",
    DecisionStatus.EXPIRED: "expired",
    DecisionStatus.PENDING: "pending",
}


def settlement(order_id: str, decision: Decision, why: str) -> list[Owed]:
    """The move the service makes at once when the engine decides (none while pending)."""
    kind = SETTLES.get(decision.status)
    return [] if kind is None else [(order_id, kind, why)]


class Violation(Exception):
    """An entry breaks a rule; the message says which, naming the values in backticks."""


def field_of(payload: Mapping[str, Any], key: str, kind: type[T]) -> T:
    """`payload[key]`, which must be a `kind`."""
    if key not in payload:
        raise Violation(f"payload lacks `{key}`")
    value = payload[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Violation(f"payload `{key}` must be a {kind.__name__}, got `{value!r}`")
    return value


def field_or_none(payload: Mapping[str, Any], key: str, kind: type[T]) -> T | None:
    """`payload[key]`, which must be a `kind` or null."""
    if payload.get(key, 0) is None:
        return None
    return field_of(payload, key, kind)


def ts(value: datetime | None) -> str | None:
    return format_timestamp(value) if value is not None else None


@lru_cache(maxsize=32)
def load_logged_policy(yaml_text: str) -> Policy:
    """Parse a logged policy text (cached: verifying many logs re-reads the same texts)."""
    try:
        return load_policy(yaml_text, filename="<logged policy>")
    except PolicyError as e:
        first = e.issues[0]
        raise Violation(
            f"the logged policy text is invalid: {first.message} (line {first.line})"
        ) from e


@dataclass(frozen=True, kw_only=True)
class LoggedPolicy:
    version: int
    digest: str
    policy: Policy


@dataclass(kw_only=True, slots=True)
class LoggedOrder:
    """An order as its entries so far describe it."""

    id: str
    proposed_at: int  # entry index of the proposal
    state: OrderState
    action: str
    params: Mapping[str, Any]
    proposer: str
    justification: str
    created_at: datetime
    expires_at: datetime
    policy: LoggedPolicy
    digest: str
    reviews: list[ReviewInput] = field(default_factory=list)
    approved_at: datetime | None = None
    execute_by: datetime | None = None
    claimed_by: str | None = None

    def order_input(self) -> OrderInput:
        return OrderInput(
            action=self.action,
            params=self.params,
            proposer=self.proposer,
            justification=self.justification,
            created_at=self.created_at,
        )

    def deadline(self) -> datetime | None:
        if self.state is OrderState.PENDING:
            return self.expires_at
        if self.state is OrderState.APPROVED:
            return self.execute_by
        return None

    def overdue(self, now: datetime) -> bool:
        deadline = self.deadline()
        return deadline is not None and now >= deadline
