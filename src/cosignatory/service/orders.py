"""Order use cases, each the body of one write transaction (see `Service`).

Each function runs inside `Store.write`, reads what it needs with row locks, decides
with the pure engine, and changes state only through `transitions`. A function that
notices an overdue order expires it and returns `Refuse(error)`: the expiry commits and
the caller raises the error afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from cosignatory.core.canonical import canonical_text
from cosignatory.core.errors import DomainError, ErrorCode, InputError, RefusedError
from cosignatory.core.events import EventKind
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import format_timestamp, order_digest
from cosignatory.core.policy import OrderInput, Policy, ReviewDecision, evaluate
from cosignatory.ids import new_id
from cosignatory.service import transitions
from cosignatory.service.build import decide_and_remember, order_view, remember_decision
from cosignatory.service.checks import MAX_PARAMS_BYTES
from cosignatory.service.policy_cache import PolicyCache
from cosignatory.service.views import OrderView, Outcome
from cosignatory.storage import orders as order_rows
from cosignatory.storage.driver import pipeline
from cosignatory.storage.events import append_event
from cosignatory.storage.orders import Guard, OrderRecord, ReviewRecord

__all__ = [
    "Refuse",
    "cancel",
    "claim",
    "expire_batch",
    "hash_secret",
    "load_view",
    "propose",
    "record_result",
    "review",
]


@dataclass(frozen=True)
class Refuse:
    """Commit this transaction's writes (an expiry it found), then raise `error`."""

    error: DomainError


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def not_found(order_id: str) -> DomainError:
    return DomainError(f"no order `{order_id}`", code=ErrorCode.NOT_FOUND)


def _locked(conn: Connection, order_id: str) -> tuple[OrderRecord, list[ReviewRecord]]:
    """The order (row-locked until commit) and its reviews, read after the lock."""
    found = order_rows.load_order(conn, order_id, for_update=True)
    if found is None:
        raise not_found(order_id)
    return found


def _expired(conn: Connection, record: OrderRecord, now: datetime, doing: str) -> Refuse:
    transitions.expire(conn, record, now=now)
    deadline = record.deadline()
    when = format_timestamp(deadline) if deadline else "its deadline"
    return Refuse(
        DomainError(
            f"order `{record.id}` expired at {when}; it can no longer be {doing}",
            code=ErrorCode.ORDER_CLOSED,
        )
    )


def _closed(record: OrderRecord, doing: str) -> DomainError:
    return DomainError(
        f"order `{record.id}` is {record.state.value}; it can no longer be {doing}",
        code=ErrorCode.ORDER_CLOSED,
    )


def _view(
    conn: Connection,
    record: OrderRecord,
    reviews: list[ReviewRecord],
    policies: PolicyCache,
    now: datetime,
) -> OrderView:
    policy = policies.get(conn, record.policy_version, record.policy_digest)
    return order_view(record, reviews, policy, now)


def load_view(conn: Connection, order_id: str, policies: PolicyCache, now: datetime) -> OrderView:
    found = order_rows.load_order(conn, order_id)
    if found is None:
        raise not_found(order_id)
    return _view(conn, *found, policies, now)


def propose(
    conn: Connection,
    *,
    policies: PolicyCache,
    now: datetime,
    action: str,
    params: Mapping[str, Any],
    proposer: str,
    justification: str,
) -> OrderView:
    """Decide on the policy head remembered from the last proposal, which the insert
    confirms in the same statement; decide again on the head read afresh if the insert
    wrote nothing or the remembered head refused (nothing is written before the insert)."""
    inputs: dict[str, Any] = {
        "now": now,
        "action": action,
        "params": params,
        "proposer": proposer,
        "justification": justification,
    }
    try:
        version, policy = policies.current(conn, remembered=True)
        view = _propose_on(conn, version=version, policy=policy, confirm=True, **inputs)
        if view is not None:
            return view
    except (RefusedError, InputError):
        pass  # possibly decided on a stale head: answer from the current one
    policies.forget_head()
    version, policy = policies.current(conn)
    view = _propose_on(conn, version=version, policy=policy, confirm=False, **inputs)
    if view is None:  # pragma: no cover - an unconditional insert writes its row
        raise RuntimeError("the order row was not written")
    return view


def _propose_on(
    conn: Connection,
    *,
    version: int,
    policy: Policy,
    now: datetime,
    action: str,
    params: Mapping[str, Any],
    proposer: str,
    justification: str,
    confirm: bool,
) -> OrderView | None:
    """The proposal under policy `version`; None (nothing written) when `confirm` and a
    newer version exists or this one is not stored."""
    order = OrderInput(
        action=action, params=params, proposer=proposer, justification=justification, created_at=now
    )
    decision = evaluate(policy, order, [], now)
    if decision.error is not None:
        raise RefusedError(decision.error.message, code=decision.error.code)
    try:
        params_json = canonical_text(dict(params))
    except (ValueError, TypeError) as e:  # e.g. an integer beyond the JSON safe range
        raise InputError(f"params must be JSON values: {e}") from e
    params_size = len(params_json.encode())
    if params_size > MAX_PARAMS_BYTES:
        raise InputError(f"params are {params_size} bytes as JSON; the limit is {MAX_PARAMS_BYTES}")
    order_id = new_id("ord")
    expires_at = now + policy.settings.ttl
    digest = order_digest(
        id=order_id,
        action=action,
        params=params,
        proposer=proposer,
        justification=justification,
        created_at=now,
        expires_at=expires_at,
        policy_digest=policy.digest,
    )
    record = OrderRecord(
        id=order_id,
        action=action,
        params=dict(params),
        proposer=proposer,
        justification=justification,
        state=OrderState.PENDING,
        created_at=now,
        expires_at=expires_at,
        policy_version=version,
        policy_digest=policy.digest,
        digest=digest,
    )
    if not order_rows.insert_order(
        conn, record, params_json=params_json, if_policy_current=confirm
    ):
        return None
    remember_decision(policy, record, [], now, decision)  # `decide` on the record gives it
    seq = append_event(
        conn,
        kind=EventKind.ORDER_PROPOSED,
        actor=proposer,
        subject=order_id,
        payload={
            "id": order_id,
            "action": action,
            "params": dict(params),
            "proposer": proposer,
            "justification": justification,
            "created_at": format_timestamp(now),
            "expires_at": format_timestamp(expires_at),
            "policy_version": version,
            "policy_digest": policy.digest,
            "digest": digest,
            "matched_rules": list(decision.matched_rules),
            "requirements": [{"role": r.role, "count": r.count} for r in decision.requirements],
        },
        at=now,
        order_digest=digest,
    )
    record = transitions.settle(
        conn,
        record.evolve(event_seqs=(seq,)),
        decision,
        window=policy.settings.execution_window,
        now=now,
        actor=proposer,
    )
    return order_view(record, [], policy, now, decision=decision)


def review(
    conn: Connection,
    *,
    policies: PolicyCache,
    now: datetime,
    order_id: str,
    reviewer: str,
    decision: ReviewDecision,
    comment: str,
) -> OrderView | Refuse:
    record, existing = _locked(conn, order_id)  # racing reviewers of one order queue here
    if record.state is OrderState.PENDING and record.overdue(now):
        return _expired(conn, record, now, "reviewed")
    if record.state is not OrderState.PENDING:
        raise _closed(record, "reviewed")
    policy = policies.get(conn, record.policy_version, record.policy_digest)
    if reviewer == record.proposer and not policy.settings.proposer_may_approve:
        raise DomainError(
            f"`{reviewer}` proposed order `{order_id}` and may not review it "
            f"(policy `{policy.name}` sets proposer_may_approve: false); cancel it instead",
            code=ErrorCode.SELF_APPROVAL,
        )
    person = policy.people.get(reviewer)
    if person is None:
        raise DomainError(
            f"`{reviewer}` is not in the roster of policy `{policy.name}` "
            f"(version {record.policy_version}), which governs order `{order_id}`",
            code=ErrorCode.NOT_ELIGIBLE,
        )
    for previous in existing:
        if previous.reviewer == reviewer:
            raise DomainError(
                f"`{reviewer}` already reviewed order `{order_id}` "
                f"({previous.decision.value} at {format_timestamp(previous.at)}); "
                "a review cannot be changed",
                code=ErrorCode.ALREADY_REVIEWED,
            )
    new = ReviewRecord(
        order_id=order_id, reviewer=reviewer, decision=decision, comment=comment, at=now
    )
    after = decide_and_remember(policy, record, [*existing, new], now)
    if after.error is not None:  # the pinned policy accepted this order once; it must again
        raise RuntimeError(f"order `{order_id}` no longer evaluates: {after.error.message}")
    needed = {r.role for r in after.requirements}
    seat_roles = person.roles & needed
    if not seat_roles:
        if reviewer not in after.vetoers:
            roles = ", ".join(f"`{r}`" for r in sorted(needed)) or "none"
            raise DomainError(
                f"`{reviewer}` holds no role that fills a seat of order `{order_id}` "
                f"(seats: {roles}) and no veto role",
                code=ErrorCode.NOT_ELIGIBLE,
            )
        if decision is ReviewDecision.APPROVE:
            raise DomainError(
                f"`{reviewer}` may veto order `{order_id}` but fills none of its seats, "
                "so an approval would not count; deny to veto, or leave it",
                code=ErrorCode.NOT_ELIGIBLE,
            )
    seat = next((s.role for s in after.seats if reviewer in s.filled_by), None)
    counted = next((c.counted for c in after.reviews if c.reviewer == reviewer), False)
    with pipeline(conn):  # PostgreSQL: the review row goes out with its event's append
        order_rows.insert_review(conn, new)
        seq = append_event(
            conn,
            kind=EventKind.ORDER_REVIEWED,
            actor=reviewer,
            subject=order_id,
            payload={
                "order_id": order_id,
                "reviewer": reviewer,
                "decision": decision.value,
                "comment": comment,
                "at": format_timestamp(now),
                "seat": seat,
                "counted": counted,
            },
            at=now,
            order_digest=record.digest,
        )
    record = transitions.settle(
        conn,
        record.evolve(event_seqs=(*record.event_seqs, seq)),
        after,
        window=policy.settings.execution_window,
        now=now,
        actor=reviewer,
    )
    return order_view(record, [*existing, new], policy, now, decision=after)


def cancel(
    conn: Connection,
    *,
    policies: PolicyCache,
    now: datetime,
    order_id: str,
    by: str,
    reason: str,
    as_admin: bool,
) -> OrderView | Refuse:
    record, reviews = _locked(conn, order_id)
    if not as_admin and by != record.proposer:
        raise DomainError(
            f"only the proposer `{record.proposer}` or an admin may cancel order `{order_id}`",
            code=ErrorCode.FORBIDDEN,
        )
    if record.overdue(now):
        return _expired(conn, record, now, "cancelled")
    moved = transitions.cancel(conn, record, now=now, by=by, reason=reason, as_admin=as_admin)
    if moved is None:
        raise _closed(record, "cancelled")
    return _view(conn, moved, reviews, policies, now)


def claim(
    conn: Connection, *, policies: PolicyCache, now: datetime, order_id: str, by: str
) -> tuple[OrderView, str] | Refuse:
    record, reviews = _locked(conn, order_id)
    if record.state is OrderState.APPROVED and record.overdue(now):
        return _expired(conn, record, now, "executed")
    ticket = secrets.token_urlsafe(32)  # 256 bits; only its hash is stored
    ticket_hash = hash_secret(ticket)
    moved = transitions.move(
        conn,
        record,
        OrderState.EXECUTING,
        actor=by,
        now=now,
        payload={
            "claimed_by": by,
            "claimed_at": format_timestamp(now),
            "ticket_sha256": ticket_hash,
        },
        values={"claimed_by": by, "claimed_at": now, "ticket_hash": ticket_hash},
        guard=Guard.WINDOW_OPEN,
    )
    if moved is None:
        state = record.state
        if state in (OrderState.EXECUTING, OrderState.EXECUTED, OrderState.FAILED):
            raise DomainError(
                f"order `{order_id}` was already claimed for execution by `{record.claimed_by}`; "
                "an order runs at most once",
                code=ErrorCode.ALREADY_EXECUTED,
            )
        if state is OrderState.PENDING:
            raise DomainError(
                f"order `{order_id}` is not approved yet; it still needs its seats filled",
                code=ErrorCode.NOT_APPROVED,
            )
        raise _closed(record, "executed")
    return _view(conn, moved, reviews, policies, now), ticket


def record_result(
    conn: Connection,
    *,
    policies: PolicyCache,
    now: datetime,
    order_id: str,
    ticket: str,
    outcome: Outcome,
    detail: str,
) -> OrderView:
    record, reviews = _locked(conn, order_id)
    state = record.state
    if state in (OrderState.PENDING, OrderState.APPROVED):
        raise DomainError(
            f"order `{order_id}` is {state.value} and has not been claimed; "
            "claim it for execution first",
            code=ErrorCode.NOT_APPROVED,
        )
    if state not in (OrderState.EXECUTING, OrderState.EXECUTED, OrderState.FAILED):
        raise _closed(record, "executed")
    presented = hash_secret(ticket)
    if record.ticket_hash is None or not hmac.compare_digest(record.ticket_hash, presented):
        raise DomainError(
            f"the ticket does not match the claim on order `{order_id}`",
            code=ErrorCode.INVALID_TICKET,
        )
    if state is not OrderState.EXECUTING:
        if record.outcome == outcome.value and (record.outcome_detail or "") == detail:
            return _view(conn, record, reviews, policies, now)  # a retry of the same report
        raise DomainError(
            f"the result of order `{order_id}` was already recorded ({record.outcome})",
            code=ErrorCode.ALREADY_EXECUTED,
        )
    target = OrderState.EXECUTED if outcome is Outcome.SUCCEEDED else OrderState.FAILED
    actor = record.claimed_by or "unknown"
    moved = transitions.move(
        conn,
        record,
        target,
        actor=actor,
        now=now,
        payload={"outcome": outcome.value, "detail": detail, "claimed_by": actor},
        values={
            "executed_at": now,
            "outcome": outcome.value,
            "outcome_detail": detail,
            "closed_at": now,
            "closed_by": actor,
        },
        guard=Guard.TICKET,
        ticket_hash=presented,
    )
    if moved is None:  # pragma: no cover - we hold the row lock
        raise RuntimeError(f"order `{order_id}` left `executing` while locked")
    return _view(conn, moved, reviews, policies, now)


def expire_batch(conn: Connection, *, now: datetime, limit: int) -> tuple[list[str], int]:
    """Expire up to `limit` overdue orders; returns (expired ids, rows examined)."""
    due = order_rows.due_for_expiry(conn, now, limit=limit)
    return [r.id for r in due if transitions.expire(conn, r, now=now) is not None], len(due)
