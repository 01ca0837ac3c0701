"""Records → views: the stored facts of an order plus its decision, recomputed by the engine.

The decision is never stored: it is a pure function of the pinned policy, the order and
its reviews, so reads and writes can never disagree about it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime

from cosignatory.core.events import EventKind
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import format_timestamp
from cosignatory.core.policy import (
    Decision,
    DecisionStatus,
    OrderInput,
    Policy,
    ReviewInput,
    evaluate,
)
from cosignatory.service.views import (
    EventView,
    InFlight,
    OrderView,
    Outcome,
    PolicyVersion,
    ReviewView,
    TokenInfo,
)
from cosignatory.storage.events import EventRecord
from cosignatory.storage.orders import OrderRecord, ReviewRecord
from cosignatory.storage.policies import PolicyRecord
from cosignatory.storage.tokens import TokenRecord

__all__ = [
    "decide",
    "event_view",
    "order_input",
    "order_view",
    "policy_version",
    "review_inputs",
    "token_info",
]


def order_input(record: OrderRecord) -> OrderInput:
    return OrderInput(
        action=record.action,
        params=record.params,
        proposer=record.proposer,
        justification=record.justification,
        created_at=record.created_at,
    )


def review_inputs(reviews: Sequence[ReviewRecord]) -> list[ReviewInput]:
    return [
        ReviewInput(reviewer=r.reviewer, decision=r.decision, at=r.at, comment=r.comment)
        for r in reviews
    ]


def decide(
    policy: Policy, record: OrderRecord, reviews: Sequence[ReviewRecord], now: datetime
) -> Decision:
    return evaluate(policy, order_input(record), review_inputs(reviews), now)


# Once an order is approved no review can be added, and an approving decision does not
# depend on `now` (only pending orders expire), so it is remembered for later reads.
_SETTLED = frozenset({OrderState.APPROVED, OrderState.EXECUTING, OrderState.EXECUTED,
                      OrderState.FAILED})  # fmt: skip
_approved: OrderedDict[tuple[object, ...], Decision] = OrderedDict()
_approved_lock = threading.Lock()
_MAX_APPROVED = 4096


def _settled_key(
    policy: Policy, record: OrderRecord, reviews: Sequence[ReviewRecord]
) -> tuple[object, ...]:
    return (record.id, record.digest, policy.digest,
            tuple((r.reviewer, r.decision, r.at) for r in reviews))  # fmt: skip


def _remember(key: tuple[object, ...], decision: Decision) -> None:
    if decision.status is DecisionStatus.APPROVED:
        with _approved_lock:
            _approved[key] = decision
            if len(_approved) > _MAX_APPROVED:
                _approved.popitem(last=False)


def _settled_decision(
    policy: Policy, record: OrderRecord, reviews: Sequence[ReviewRecord], now: datetime
) -> Decision:
    key = _settled_key(policy, record, reviews)
    with _approved_lock:
        cached = _approved.get(key)
    if cached is not None:
        return cached
    decision = decide(policy, record, reviews, now)
    _remember(key, decision)
    return decision


def _seat_of(decision: Decision, reviewer: str) -> str | None:
    for seat in decision.seats:
        if reviewer in seat.filled_by:
            return seat.role
    return None


def order_view(
    record: OrderRecord,
    reviews: Sequence[ReviewRecord],
    policy: Policy,
    now: datetime,
    *,
    decision: Decision | None = None,
) -> OrderView:
    """The view of `record` at `now`; pass `decision` when it was just computed at `now`
    from exactly these reviews (a write that decided the order), to save re-deciding."""
    state = record.state
    closed_at, closed_by, close_reason = record.closed_at, record.closed_by, record.close_reason
    deadline = record.deadline()
    if deadline is not None and now >= deadline:
        # Overdue but not yet swept: it *is* expired; the sweeper will write it down.
        state, closed_at = OrderState.EXPIRED, deadline
        closed_by = None
        close_reason = (
            "the ttl passed before every seat was filled"
            if record.state is OrderState.PENDING
            else "the execution window passed before the order was executed"
        )
    if decision is None or state is not record.state:
        at = min(now, closed_at) if closed_at else now
        if state in _SETTLED:
            decision = _settled_decision(policy, record, reviews, at)
        else:
            decision = decide(policy, record, reviews, at)
    elif state in _SETTLED:
        _remember(_settled_key(policy, record, reviews), decision)
    counted = {c.reviewer: c for c in decision.reviews}
    review_views = []
    for r in reviews:
        c = counted.get(r.reviewer)
        review_views.append(
            ReviewView(
                reviewer=r.reviewer,
                decision=r.decision,
                comment=r.comment,
                at=r.at,
                seat=_seat_of(decision, r.reviewer),
                counted=bool(c and c.counted),
                note=c.note if c is not None else "",
            )
        )
    reasons = list(decision.reasons)
    if state is OrderState.CANCELLED:
        reasons.append(
            f"cancelled by `{closed_by}`" + (f": {close_reason}" if close_reason else "")
        )
    elif state is OrderState.EXPIRED and close_reason:
        reasons.append(f"expired at {format_timestamp(closed_at or now)}: {close_reason}")
    elif state is OrderState.EXECUTING:
        reasons.append(f"claimed for execution by `{record.claimed_by}`; waiting for its result")
    elif state in (OrderState.EXECUTED, OrderState.FAILED):
        reasons.append(f"executed by `{record.claimed_by}`: {record.outcome}")
    return OrderView(
        id=record.id,
        action=record.action,
        params=record.params,
        proposer=record.proposer,
        justification=record.justification,
        state=state,
        created_at=record.created_at,
        expires_at=record.expires_at,
        approved_at=record.approved_at,
        execute_by=record.execute_by,
        policy_version=record.policy_version,
        policy_digest=record.policy_digest,
        digest=record.digest,
        matched_rules=decision.matched_rules,
        seats=decision.seats,
        missing=decision.missing,
        vetoers=decision.vetoers,
        reviews=tuple(review_views),
        reasons=tuple(reasons),
        claimed_by=record.claimed_by,
        claimed_at=record.claimed_at,
        executed_at=record.executed_at,
        outcome=Outcome(record.outcome) if record.outcome else None,
        outcome_detail=record.outcome_detail,
        closed_at=closed_at,
        closed_by=closed_by,
        close_reason=close_reason,
        event_seqs=record.event_seqs,
    )


def event_view(record: EventRecord) -> EventView:
    return EventView(
        seq=record.seq,
        kind=EventKind(record.kind),
        actor=record.actor,
        subject=record.subject,
        at=record.at,
        payload_json=record.payload,
    )


def policy_version(record: PolicyRecord) -> PolicyVersion:
    return PolicyVersion(
        version=record.version,
        name=record.name,
        digest=record.digest,
        yaml_text=record.yaml_text,
        published_by=record.published_by,
        published_at=record.published_at,
        in_flight=InFlight(record.in_flight),
    )


def token_info(record: TokenRecord) -> TokenInfo:
    return TokenInfo(
        id=record.id,
        person=record.person,
        is_admin=record.is_admin,
        label=record.label,
        created_at=record.created_at,
        created_by=record.created_by,
        expires_at=record.expires_at,
        revoked_at=record.revoked_at,
        revoked_by=record.revoked_by,
    )
