"""Publishing a policy version, and what it does to the orders in flight.

    keep        pending orders stay on the version they pinned at proposal
    reevaluate  pending orders move to the new version and are decided again from their
                reviews: they may become approved or rejected at once; an order the new
                version refuses (no rule, proposer no longer allowed) is cancelled
    void        pending orders are cancelled

Events, in order: `policy:published` (with the full YAML), `policy:in_flight` (the
choice and, per pending order, what happens to it), then one order event per state
change. Overdue pending orders are expired rather than re-decided. Lock order: the
publish lock, then the pending orders (in id order), then the event log head.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from cosignatory.core.events import EventKind
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import format_timestamp, order_digest
from cosignatory.core.policy import Decision, Policy
from cosignatory.service import transitions
from cosignatory.service.build import decide
from cosignatory.service.views import InFlight
from cosignatory.storage import orders as order_rows
from cosignatory.storage import policies as policy_rows
from cosignatory.storage.events import append_event
from cosignatory.storage.orders import OrderRecord
from cosignatory.storage.policies import PolicyRecord

__all__ = ["policy_subject", "publish"]


def policy_subject(version: int) -> str:
    return f"policy/{version}"


def publish(
    conn: Connection,
    *,
    policy: Policy,
    yaml_text: str,
    by: str,
    in_flight: InFlight,
    now: datetime,
) -> PolicyRecord:
    """Publish `policy` as the next version; publishing the current text again changes nothing."""
    policy_rows.lock_publishing(conn)
    current = policy_rows.latest_policy(conn)
    if current is not None and current.digest == policy.digest:
        return current
    version = current.version + 1 if current is not None else 1
    if in_flight is InFlight.KEEP:
        pending = order_rows.list_orders(conn, now=now, state=OrderState.PENDING, limit=1_000_000)
    else:
        pending = order_rows.lock_pending(conn)
    record = PolicyRecord(
        version=version,
        name=policy.name,
        digest=policy.digest,
        yaml_text=yaml_text,
        published_by=by,
        published_at=now,
        in_flight=in_flight.value,
    )
    policy_rows.insert_policy(conn, record)
    append_event(
        conn,
        kind=EventKind.POLICY_PUBLISHED,
        actor=by,
        subject=policy_subject(version),
        payload={
            "version": version,
            "name": policy.name,
            "digest": policy.digest,
            "yaml": yaml_text,
            "published_by": by,
            "previous_version": current.version if current is not None else None,
            "previous_digest": current.digest if current is not None else None,
        },
        at=now,
    )
    reviews = order_rows.reviews_of_many(conn, [r.id for r in pending])
    plan: list[tuple[str, OrderRecord, Decision | None]] = []
    entries: list[dict[str, Any]] = []
    for order in pending:
        entry: dict[str, Any] = {"id": order.id, "from_version": order.policy_version}
        if in_flight is InFlight.KEEP:
            entry["result"] = "kept"
        elif order.overdue(now):
            entry["result"] = "expired"
            plan.append(("expire", order, None))
        elif in_flight is InFlight.VOID:
            entry["result"] = "cancelled"
            plan.append(("void", order, None))
        else:
            moved = _repin(order, policy, version)
            decision = decide(policy, moved, reviews[order.id], now)
            if decision.error is not None:
                entry.update(result="cancelled", refusal=decision.error.code.value)
                plan.append(("refused", order, decision))
            else:
                entry.update(_repinned(moved, "expired" if moved.overdue(now) else decision.status))
                plan.append(("repin", moved, decision))
        entries.append(entry)
    append_event(
        conn,
        kind=EventKind.POLICY_IN_FLIGHT,
        actor=by,
        subject=policy_subject(version),
        payload={"version": version, "mode": in_flight.value, "orders": entries},
        at=now,
    )
    window = policy.settings.execution_window
    for what, order, verdict in plan:
        if what == "expire":
            transitions.expire(conn, order, now=now)
        elif what == "void":
            reason = f"voided by policy version {version}"
            transitions.cancel(conn, order, now=now, by=by, reason=reason, as_admin=True)
        elif what == "refused" and verdict is not None and verdict.error is not None:
            reason = f"refused under policy version {version}: {verdict.error.message}"
            transitions.cancel(conn, order, now=now, by=by, reason=reason, as_admin=True)
        elif verdict is not None:
            order_rows.update_order(
                conn,
                order.id,
                state=OrderState.PENDING,
                values={
                    "policy_version": version,
                    "policy_digest": order.policy_digest,
                    "expires_at": order.expires_at,
                    "digest": order.digest,
                },
            )
            if order.overdue(now):
                transitions.expire(conn, order, now=now)
            else:
                transitions.settle(conn, order, verdict, window=window, now=now, actor=by)
    return record


def _repin(order: OrderRecord, policy: Policy, version: int) -> OrderRecord:
    """The order as governed by the new version: new ttl, new policy digest, new digest."""
    expires_at = order.created_at + policy.settings.ttl
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
    return dataclasses.replace(
        order,
        policy_version=version,
        policy_digest=policy.digest,
        expires_at=expires_at,
        digest=digest,
    )


def _repinned(order: OrderRecord, result: str) -> dict[str, Any]:
    return {
        "result": str(result),
        "to_version": order.policy_version,
        "policy_digest": order.policy_digest,
        "expires_at": format_timestamp(order.expires_at),
        "digest": order.digest,
    }
