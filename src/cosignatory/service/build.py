"""Records → views: the stored facts of an order plus its decision, recomputed by the engine.

The decision is never stored: it is a pure function of the pinned policy, the order and
its reviews, so reads and writes can never disagree about it. Being pure, decisions and
whole views are remembered per process between reads, keyed on all they are made of.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cosignatory.core.events import EventKind
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import format_timestamp
from cosignatory.core.policy import (
    Decision,
    OrderInput,
    Policy,
    ReviewInput,
    evaluate,
)
from cosignatory.service.memo import Memo
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
    "decide_and_remember",
    "event_view",
    "order_input",
    "order_view",
    "policy_version",
    "remember_decision",
    "remembered_decision",
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


# Decisions and views are pure functions of what a read loads, so each process remembers
# the latest ones (see `Memo`): re-deciding a pending order on every read was most of the
# cost of showing it. The keys hold what the values are computed from, `now` included
# only as far as it matters (below); `params` is represented by `digest`, which covers
# it (params are never updated). Writes remember the decisions they make (keyed on the
# values they store), reads the decisions and views they build.
_decisions: Memo[tuple[object, ...], Decision] = Memo(4096)
_views: Memo[tuple[object, ...], OrderView] = Memo(2048)
# Every stored fact a view shows; a field added to OrderRecord is keyed automatically.
_VIEWED_FIELDS = tuple(
    f.name for f in dataclasses.fields(OrderRecord) if f.name not in ("params", "ticket_hash")
)


def _decision_key(
    policy: Policy, record: OrderRecord, reviews: Sequence[ReviewRecord], at: datetime
) -> tuple[object, ...]:
    # The engine reads the clock only to ask whether the order's ttl has run out (reviews
    # at or after it are ignored whatever `now` is; stored reviews all carry their time),
    # so a decision holds on either side of that instant. tests/unit/test_order_memo.py
    # pins this against the engine.
    expired = at >= record.created_at + policy.settings.ttl
    reviewed = tuple((r.reviewer, r.decision, r.at) for r in reviews)
    return (record.id, record.digest, record.created_at, policy.digest, reviewed, expired)


def decide_and_remember(
    policy: Policy, record: OrderRecord, reviews: Sequence[ReviewRecord], now: datetime
) -> Decision:
    """`decide(...)` for a write, remembered for the reads and writes that follow: the
    view a claim returns, for one, shows the decision of the review that approved the
    order. Sound whether or not the write commits: a decision is a pure function of its
    key, and the key holds the very values a later read loads
    (tests/contract/test_decision_memo.py)."""
    decision = decide(policy, record, reviews, now)
    remember_decision(policy, record, reviews, now, decision)
    return decision


def remember_decision(
    policy: Policy,
    record: OrderRecord,
    reviews: Sequence[ReviewRecord],
    at: datetime,
    decision: Decision,
) -> None:
    """Remember `decision`, which the caller computed as `decide(policy, record, reviews, at)`."""
    _decisions.put(_decision_key(policy, record, reviews, at), decision)


def remembered_decision(
    policy: Policy, record: OrderRecord, reviews: Sequence[ReviewRecord], at: datetime
) -> Decision:
    """`decide(...)`, from the memo when these exact inputs were decided before."""
    key = _decision_key(policy, record, reviews, at)
    decision = _decisions.get(key)
    if decision is None:
        decision = decide(policy, record, reviews, at)
        _decisions.put(key, decision)
    return decision


def _seat_of(decision: Decision, reviewer: str) -> str | None:
    for seat in decision.seats:
        if reviewer in seat.filled_by:
            return seat.role
    return None


@dataclass(frozen=True, kw_only=True)
class _Shown:
    """What the order is at a moment, where that differs from its stored row."""

    state: OrderState
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None


def _shown(record: OrderRecord, now: datetime) -> _Shown:
    deadline = record.deadline()
    if deadline is not None and now >= deadline:
        # Overdue but not yet swept: it *is* expired; the sweeper will write it down.
        return _Shown(
            state=OrderState.EXPIRED,
            closed_at=deadline,
            closed_by=None,
            close_reason=(
                "the ttl passed before every seat was filled"
                if record.state is OrderState.PENDING
                else "the execution window passed before the order was executed"
            ),
        )
    return _Shown(
        state=record.state,
        closed_at=record.closed_at,
        closed_by=record.closed_by,
        close_reason=record.close_reason,
    )


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
    shown = _shown(record, now)
    if decision is not None and shown.state is record.state:
        return _assemble(record, reviews, shown, decision, now)
    at = min(now, shown.closed_at) if shown.closed_at else now
    if shown.closed_at is None and shown.state is OrderState.EXPIRED:
        # Its reasons would quote `now`: no key short of `now` itself describes the view.
        return _assemble(record, reviews, shown, decide(policy, record, reviews, at), now)
    # Besides the stored facts, the view depends on `now` only through `shown` (is the
    # order past its deadline?) and through the decision (is it past its ttl?).
    key = (
        *(getattr(record, name) for name in _VIEWED_FIELDS),
        tuple((r.reviewer, r.decision, r.at, r.comment) for r in reviews),
        policy.digest,
        shown.state,
        at >= record.created_at + policy.settings.ttl,
    )
    view = _views.get(key)
    if view is None:
        decided = remembered_decision(policy, record, reviews, at)
        view = _assemble(record, reviews, shown, decided, now)
        _views.put(key, view)
    return view


def _assemble(
    record: OrderRecord,
    reviews: Sequence[ReviewRecord],
    shown: _Shown,
    decision: Decision,
    now: datetime,
) -> OrderView:
    state, closed_at = shown.state, shown.closed_at
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
            f"cancelled by `{shown.closed_by}`"
            + (f": {shown.close_reason}" if shown.close_reason else "")
        )
    elif state is OrderState.EXPIRED and shown.close_reason:
        reasons.append(f"expired at {format_timestamp(closed_at or now)}: {shown.close_reason}")
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
        closed_by=shown.closed_by,
        close_reason=shown.close_reason,
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
