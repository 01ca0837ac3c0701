"""Replay rules for order entries: proposals, reviews and every state move.

    check_proposed   pinned to the version in force, digest recomputed, engine consulted
    check_reviewed   the reviewer is eligible under the pinned version (the service's checks)
    check_moved      the lifecycle allows the move and the engine or the clock justifies it

Each applies the entry to the `LoggedOrder` it judged, and returns the order events the
same transaction owes (an approval the engine now gives, say).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from cosignatory.core.audit.entry import AuditEntry, parse_timestamp
from cosignatory.core.audit.replay_state import (
    LoggedOrder,
    LoggedPolicy,
    Owed,
    Violation,
    field_of,
    field_or_none,
    settlement,
    ts,
)
from cosignatory.core.events import ORDER_EVENT_STATE, EventKind
from cosignatory.core.lifecycle import OrderState, can_move
from cosignatory.core.orders import order_digest_of
from cosignatory.core.policy import Decision, DecisionStatus, ReviewDecision, ReviewInput, evaluate

__all__ = ["check_moved", "check_proposed", "check_reviewed"]


def check_proposed(
    current: LoggedPolicy | None,
    orders: Mapping[str, LoggedOrder],
    index: int,
    entry: AuditEntry,
) -> tuple[LoggedOrder, list[Owed]]:
    """An `order:proposed` entry: pinned to the current version, digest and engine agree."""
    payload, now = entry.payload, entry.at
    order_id = field_of(payload, "id", str)
    if order_id != entry.subject:
        raise Violation(f"payload id `{order_id}` differs from the subject")
    if order_id in orders:
        raise Violation(f"order `{order_id}` proposed twice")
    if current is None:
        raise Violation("order proposed before any policy was published")
    version = field_of(payload, "policy_version", int)
    if (version, field_of(payload, "policy_digest", str)) != (current.version, current.digest):
        raise Violation(
            f"order pinned to policy version `{version}`; the current version is {current.version}"
        )
    proposer = field_of(payload, "proposer", str)
    if proposer != entry.actor:
        raise Violation(f"proposer `{proposer}` differs from the actor `{entry.actor}`")
    try:
        digest = order_digest_of(payload)
    except (ValueError, TypeError) as e:
        raise Violation(f"cannot recompute the order digest: {e}") from e
    if not (field_of(payload, "digest", str) == digest == entry.order_digest):
        raise Violation(f"order digest does not match its fields (recomputed `{digest}`)")
    created_at = parse_timestamp(field_of(payload, "created_at", str), "created_at")
    expires_at = parse_timestamp(field_of(payload, "expires_at", str), "expires_at")
    if created_at != now or expires_at != now + current.policy.settings.ttl:
        raise Violation("created_at / expires_at do not match the entry time and the ttl")
    order = LoggedOrder(
        id=order_id,
        proposed_at=index,
        state=OrderState.PENDING,
        action=field_of(payload, "action", str),
        params=field_of(payload, "params", dict),
        proposer=proposer,
        justification=field_of(payload, "justification", str),
        created_at=created_at,
        expires_at=expires_at,
        policy=current,
        digest=digest,
    )
    decision = evaluate(current.policy, order.order_input(), [], now)
    if decision.error is not None:
        raise Violation(
            f"the engine refuses this proposal ({decision.error.code}): {decision.error.message}"
        )
    if field_of(payload, "matched_rules", list) != list(decision.matched_rules):
        raise Violation(f"matched rules differ from the engine's {list(decision.matched_rules)}")
    why = f"the engine decided it at its proposal, entry {index}"
    return order, settlement(order.id, decision, why)


def check_reviewed(order: LoggedOrder, entry: AuditEntry) -> list[Owed]:
    """An `order:reviewed` entry: an eligible reviewer, as the service checks; records it."""
    payload, now, reviewer = entry.payload, entry.at, entry.actor
    if (
        field_of(payload, "order_id", str) != order.id
        or field_of(payload, "reviewer", str) != reviewer
    ):
        raise Violation("payload order_id / reviewer differ from the subject / actor")
    if field_of(payload, "at", str) != ts(now):
        raise Violation("payload `at` differs from the entry time")
    try:
        decision = ReviewDecision(field_of(payload, "decision", str))
    except ValueError:
        raise Violation(f"unknown review decision `{payload['decision']}`") from None
    if order.state is not OrderState.PENDING:
        raise Violation(f"review of an order that is `{order.state}`, not pending")
    if now >= order.expires_at:
        raise Violation(f"review after the order expired at {ts(order.expires_at)}")
    policy = order.policy.policy
    where = f"policy version {order.policy.version}, which governs this order"
    if reviewer == order.proposer and not policy.settings.proposer_may_approve:
        raise Violation(f"`{reviewer}` reviewed their own order ({where} forbids it)")
    person = policy.people.get(reviewer)
    if person is None:
        raise Violation(f"`{reviewer}` is not in the roster of {where}")
    if any(r.reviewer == reviewer for r in order.reviews):
        raise Violation(f"`{reviewer}` reviewed this order twice")
    review = ReviewInput(
        reviewer=reviewer,
        decision=decision,
        at=now,
        comment=field_of(payload, "comment", str),
    )
    after = evaluate(policy, order.order_input(), [*order.reviews, review], now)
    if after.error is not None:
        raise Violation(f"the pinned policy no longer accepts this order: {after.error.message}")
    seat_roles = person.roles & {r.role for r in after.requirements}
    if not seat_roles:
        if reviewer not in after.vetoers:
            raise Violation(
                f"`{reviewer}` holds no role that fills a seat of this order, "
                f"and no veto role, under {where}"
            )
        if decision is ReviewDecision.APPROVE:
            raise Violation(f"`{reviewer}` may only veto this order, yet approved it")
    seat = next((s.role for s in after.seats if reviewer in s.filled_by), None)
    counted = next((c.counted for c in after.reviews if c.reviewer == reviewer), False)
    if (
        field_or_none(payload, "seat", str),
        field_of(payload, "counted", bool),
    ) != (seat, counted):
        raise Violation(f"seat / counted differ from the engine's `{seat}` / `{counted}`")
    order.reviews.append(review)
    return settlement(order.id, after, f"the review at entry {entry.seq} decided it")


def check_moved(order: LoggedOrder, entry: AuditEntry) -> None:
    """An order state move: allowed by the lifecycle and by the rules; applies it."""
    kind, payload, now = entry.kind, entry.payload, entry.at
    target = ORDER_EVENT_STATE[kind]
    if not can_move(order.state, target):
        raise Violation(f"order `{order.id}` cannot move from `{order.state}` to `{target}`")
    if field_of(payload, "order_id", str) != order.id:
        raise Violation("payload order_id differs from the subject")
    if field_of(payload, "from_state", str) != order.state.value:
        raise Violation(f"from_state `{payload['from_state']}` but the order is `{order.state}`")
    if kind is EventKind.ORDER_APPROVED:
        _approved(order, entry)
    elif kind is EventKind.ORDER_REJECTED:
        decision = _decide(order, now)
        if decision.status is not DecisionStatus.REJECTED:
            raise Violation(f"rejected, but the engine says `{decision.status}`")
        if field_of(payload, "rejected_by", list) != list(decision.rejected_by):
            raise Violation(f"rejected_by differs from the engine's {list(decision.rejected_by)}")
    elif kind is EventKind.ORDER_EXPIRED:
        deadline = order.deadline()
        if deadline is None or now < deadline:
            raise Violation(f"expired before its deadline {ts(deadline)}")
        if field_of(payload, "deadline", str) != ts(deadline):
            raise Violation(f"deadline differs from the order's {ts(deadline)}")
    elif kind is EventKind.ORDER_CANCELLED:
        by = field_of(payload, "by", str)
        if by != entry.actor:
            raise Violation(f"cancelled by `{by}` but the actor is `{entry.actor}`")
        if by != order.proposer and field_of(payload, "as_admin", bool) is not True:
            raise Violation(f"`{by}` cancelled an order proposed by `{order.proposer}`")
        if order.overdue(now):
            raise Violation(f"cancelled after its deadline {ts(order.deadline())}; it had expired")
    elif kind is EventKind.ORDER_CLAIMED:
        if order.execute_by is None or now >= order.execute_by:
            raise Violation(f"claimed outside the execution window (until {ts(order.execute_by)})")
        if field_of(payload, "claimed_by", str) != entry.actor:
            raise Violation("claimed_by differs from the actor")
        order.claimed_by = entry.actor
    else:  # executed | failed
        if entry.actor != order.claimed_by:
            raise Violation(
                f"result reported by `{entry.actor}`, but `{order.claimed_by}` claimed it"
            )
        outcome = "succeeded" if kind is EventKind.ORDER_EXECUTED else "failed"
        if field_of(payload, "outcome", str) != outcome:
            raise Violation(f"outcome `{payload['outcome']}` contradicts `{kind}`")
    order.state = target


def _decide(order: LoggedOrder, now: datetime) -> Decision:
    return evaluate(order.policy.policy, order.order_input(), order.reviews, now)


def _approved(order: LoggedOrder, entry: AuditEntry) -> None:
    payload, now = entry.payload, entry.at
    decision = _decide(order, now)
    if decision.status is not DecisionStatus.APPROVED:
        missing = ", ".join(f"{m.role} x{m.count}" for m in decision.missing) or "none"
        raise Violation(
            f"approved, but the engine says `{decision.status}` under policy version "
            f"{order.policy.version} (seats missing: {missing})"
        )
    if now >= order.expires_at:
        raise Violation(f"approved after the order expired at {ts(order.expires_at)}")
    execute_by = now + order.policy.policy.settings.execution_window
    seats = [{"role": s.role, "filled_by": list(s.filled_by)} for s in decision.seats]
    if (
        field_of(payload, "approved_at", str),
        field_of(payload, "execute_by", str),
        field_of(payload, "seats", list),
    ) != (ts(now), ts(execute_by), seats):
        raise Violation("approved_at / execute_by / seats differ from the engine's")
    order.approved_at, order.execute_by = now, execute_by
