"""Replay rules for policy entries: publications, and what they do to orders in flight.

check_published   versions 1, 2, … with the full YAML, digest and predecessor
check_in_flight   the `keep | reevaluate | void` decision for every pending order,
                  re-deciding re-pinned orders with the engine; returns the order
                  events the same transaction then owes
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cosignatory.core.audit.entry import AuditEntry
from cosignatory.core.audit.replay_state import (
    RESULT_OF_STATUS,
    LoggedOrder,
    LoggedPolicy,
    Owed,
    Violation,
    field_of,
    field_or_none,
    load_logged_policy,
    settlement,
    ts,
)
from cosignatory.core.events import EventKind
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import order_digest
from cosignatory.core.policy import evaluate

__all__ = ["check_in_flight", "check_published"]

_IN_FLIGHT_MODES = ("keep", "reevaluate", "void")


def check_published(
    policies: Sequence[LoggedPolicy], index: int, entry: AuditEntry
) -> tuple[LoggedPolicy, list[Owed]]:
    """A `policy:published` entry: the next version, its text and digest agree."""
    payload = entry.payload
    version = field_of(payload, "version", int)
    expected = len(policies) + 1
    if version != expected:
        raise Violation(f"policy version `{version}` published; the next version is {expected}")
    if entry.subject != f"policy/{version}":
        raise Violation(f"subject must be `policy/{version}`")
    policy = load_logged_policy(field_of(payload, "yaml", str))
    digest = field_of(payload, "digest", str)
    if digest != policy.digest:
        raise Violation(f"digest `{digest}` is not the digest of the logged text `{policy.digest}`")
    if field_of(payload, "name", str) != policy.name:
        raise Violation(f"name differs from the logged text's `{policy.name}`")
    if field_of(payload, "published_by", str) != entry.actor:
        raise Violation(f"published_by differs from the actor `{entry.actor}`")
    previous = policies[-1] if policies else None
    prev_version = field_or_none(payload, "previous_version", int)
    prev_digest = field_or_none(payload, "previous_digest", str)
    if (prev_version, prev_digest) != (
        (previous.version, previous.digest) if previous else (None, None)
    ):
        raise Violation("previous_version / previous_digest do not name the version before it")
    logged = LoggedPolicy(version=version, digest=digest, policy=policy)
    return logged, [
        (entry.subject, EventKind.POLICY_IN_FLIGHT, f"entry {index} published the policy")
    ]


def check_in_flight(
    current: LoggedPolicy | None,
    orders: Mapping[str, LoggedOrder],
    index: int,
    entry: AuditEntry,
) -> list[Owed]:
    """A `policy:in_flight` entry: every pending order listed, each fate by the rules."""
    payload, now = entry.payload, entry.at
    version = field_of(payload, "version", int)
    if current is None or version != current.version or entry.subject != f"policy/{version}":
        raise Violation(f"in-flight decision for `policy/{version}`, which was not just published")
    mode = field_of(payload, "mode", str)
    if mode not in _IN_FLIGHT_MODES:
        raise Violation(f"unknown in-flight mode `{mode}`")
    listed = field_of(payload, "orders", list)
    pending = {
        o.id
        for o in orders.values()
        if o.state is OrderState.PENDING and (mode != "keep" or not o.overdue(now))
    }
    seen: set[str] = set()
    owed: list[Owed] = []
    for item in listed:
        if not isinstance(item, dict):
            raise Violation("each listed order must be an object")
        order_id = field_of(item, "id", str)
        if order_id not in pending or order_id in seen:
            raise Violation(f"order `{order_id}` is listed but is not pending, or twice")
        seen.add(order_id)
        order = orders[order_id]
        if field_of(item, "from_version", int) != order.policy.version:
            raise Violation(f"order `{order_id}` is listed with another pinned version")
        owed += _in_flight_order(order, item=item, mode=mode, policy=current, now=now, index=index)
    if seen != pending:
        missing = ", ".join(f"`{o}`" for o in sorted(pending - seen))
        raise Violation(f"pending orders missing from the list: {missing}")
    return owed


def _in_flight_order(
    order: LoggedOrder,
    *,
    item: Mapping[str, Any],
    mode: str,
    policy: LoggedPolicy,
    now: datetime,
    index: int,
) -> list[Owed]:
    result = field_of(item, "result", str)
    why = f"entry {index} decided `{result}` for it"
    owed: list[Owed] = []
    if mode == "keep":
        expected = "kept"
    elif order.overdue(now):
        expected = "expired"
        owed.append((order.id, EventKind.ORDER_EXPIRED, why))
    elif mode == "void":
        expected = "cancelled"
        owed.append((order.id, EventKind.ORDER_CANCELLED, why))
    else:
        expected = _reevaluate(order, item=item, policy=policy, now=now, why=why, owed=owed)
    if result != expected:
        raise Violation(f"order `{order.id}`: result `{result}`, but the rules give `{expected}`")
    return owed


def _reevaluate(
    order: LoggedOrder,
    *,
    item: Mapping[str, Any],
    policy: LoggedPolicy,
    now: datetime,
    why: str,
    owed: list[Owed],
) -> str:
    """Re-pin `order` to `policy` and decide it again, as publishing with `reevaluate` does."""
    expires_at = order.created_at + policy.policy.settings.ttl
    decision = evaluate(policy.policy, order.order_input(), order.reviews, now)
    if decision.error is not None:
        if item.get("refusal") != decision.error.code.value:
            raise Violation(f"order `{order.id}`: refusal differs from `{decision.error.code}`")
        owed.append((order.id, EventKind.ORDER_CANCELLED, why))
        return "cancelled"
    digest = order_digest(
        id=order.id,
        action=order.action,
        params=order.params,
        proposer=order.proposer,
        justification=order.justification,
        created_at=order.created_at,
        expires_at=expires_at,
        policy_digest=policy.digest,
    )
    claimed = (
        field_of(item, "to_version", int),
        field_of(item, "policy_digest", str),
        field_of(item, "expires_at", str),
        field_of(item, "digest", str),
    )
    if claimed != (policy.version, policy.digest, ts(expires_at), digest):
        raise Violation(f"order `{order.id}` is re-pinned with the wrong version, ttl or digest")
    order.policy, order.expires_at, order.digest = policy, expires_at, digest
    owed += settlement(order.id, decision, why)
    return RESULT_OF_STATUS[decision.status]
