"""Audit histories for the tests, made without a database.

`History` writes the entries the service writes (same kinds, actors, subjects and
payload shapes as `cosignatory.service`), deciding with the real engine, so a replay of
its log must pass. `emit` writes any entry at all, for histories that break the rules.
`random_history` plays a random but lawful regiment's day; `export_bytes` turns entries
into a signed export. The contract tests check the same replay against the real service.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cosignatory.core.audit import (
    Checkpoint,
    CompactRange,
    Frontier,
    key_from_seed,
    sign_checkpoint,
)
from cosignatory.core.audit.entry import ORDER_EVENT_KINDS, AuditEntry
from cosignatory.core.audit.export import export_lines
from cosignatory.core.events import EventKind, event_for_state
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import format_timestamp, order_digest
from cosignatory.core.policy import (
    Decision,
    DecisionStatus,
    OrderInput,
    Policy,
    ReviewDecision,
    ReviewInput,
    evaluate,
    load_policy,
)

load_policy_cached = functools.lru_cache(maxsize=8)(load_policy)

ROOT = Path(__file__).resolve().parents[3]
FIELD_COMMAND = (ROOT / "examples/field-command/policy.yaml").read_text(encoding="utf-8")
CHANGE_CONTROL = (ROOT / "examples/change-control/policy.yaml").read_text(encoding="utf-8")
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ORIGIN = "cosignatory.test/audit"
SIGNER, VERIFIER = key_from_seed(ORIGIN, bytes(range(32)))
OTHER_SIGNER, OTHER_VERIFIER = key_from_seed(ORIGIN, bytes(range(1, 33)))


@dataclass
class Order:
    id: str
    action: str
    params: dict[str, Any]
    proposer: str
    justification: str
    created_at: datetime
    expires_at: datetime
    version: int
    digest: str
    state: OrderState = OrderState.PENDING
    reviews: list[ReviewInput] = field(default_factory=list)
    execute_by: datetime | None = None
    claimed_by: str | None = None

    def deadline(self) -> datetime | None:
        if self.state is OrderState.PENDING:
            return self.expires_at
        if self.state is OrderState.APPROVED:
            return self.execute_by
        return None

    def overdue(self, now: datetime) -> bool:
        d = self.deadline()
        return d is not None and now >= d


class History:
    """A pure stand-in for the service that only logs. Refused calls return None."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now
        self.entries: list[AuditEntry] = []
        self.policies: list[tuple[Policy, str]] = []  # (policy, yaml)
        self.orders: dict[str, Order] = {}
        self._ids = 0

    # --- raw writing ------------------------------------------------------------------

    def emit(
        self,
        kind: EventKind,
        actor: str,
        subject: str,
        payload: Mapping[str, Any],
        *,
        order_digest: str | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        if kind in ORDER_EVENT_KINDS and order_digest is None:
            order_digest = self.orders[subject].digest
        entry = AuditEntry(
            seq=len(self.entries),
            at=at or self.now,
            kind=kind,
            actor=actor,
            subject=subject,
            payload=dict(payload),
            order_digest=order_digest,
        )
        self.entries.append(entry)
        return entry

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def policy(self, version: int | None = None) -> Policy:
        return self.policies[(version or len(self.policies)) - 1][0]

    # --- use cases, as the service writes them ----------------------------------------

    def token(self, person: str, *, by: str = "admin", admin: bool = False) -> str:
        self._ids += 1
        token_id = f"tok_{self._ids:04d}"
        self.emit(
            EventKind.TOKEN_CREATED,
            by,
            token_id,
            {
                "token_id": token_id,
                "person": person,
                "is_admin": admin,
                "label": "",
                "expires_at": None,
            },
        )
        return token_id

    def revoke(self, token_id: str, person: str, *, by: str = "admin") -> None:
        self.emit(EventKind.TOKEN_REVOKED, by, token_id, {"token_id": token_id, "person": person})

    def publish(self, yaml_text: str, *, by: str = "admin", in_flight: str = "keep") -> int:
        policy = load_policy_cached(yaml_text)
        previous = self.policies[-1] if self.policies else None
        version = len(self.policies) + 1
        self.policies.append((policy, yaml_text))
        subject = f"policy/{version}"
        self.emit(
            EventKind.POLICY_PUBLISHED,
            by,
            subject,
            {
                "version": version,
                "name": policy.name,
                "digest": policy.digest,
                "yaml": yaml_text,
                "published_by": by,
                "previous_version": version - 1 if previous else None,
                "previous_digest": previous[0].digest if previous else None,
            },
        )
        now = self.now
        pending = sorted(
            (o for o in self.orders.values() if o.state is OrderState.PENDING),
            key=lambda o: o.id,
        )
        if in_flight == "keep":
            pending = [o for o in pending if not o.overdue(now)]
        plan: list[tuple[Order, Decision | None]] = []
        items: list[dict[str, Any]] = []
        for order in pending:
            item: dict[str, Any] = {"id": order.id, "from_version": order.version}
            if in_flight == "keep":
                item["result"] = "kept"
            elif order.overdue(now):
                item["result"] = "expired"
                plan.append((order, None))
            elif in_flight == "void":
                item["result"] = "cancelled"
                plan.append((order, None))
            else:
                decision = evaluate(policy, self._input(order), order.reviews, now)
                if decision.error is not None:
                    item.update(result="cancelled", refusal=decision.error.code.value)
                else:
                    order.version = version
                    order.expires_at = order.created_at + policy.settings.ttl
                    order.digest = self._digest(order)
                    item.update(
                        result=decision.status.value,
                        to_version=version,
                        policy_digest=policy.digest,
                        expires_at=format_timestamp(order.expires_at),
                        digest=order.digest,
                    )
                plan.append((order, decision))
            items.append(item)
        self.emit(
            EventKind.POLICY_IN_FLIGHT,
            by,
            subject,
            {"version": version, "mode": in_flight, "orders": items},
        )
        for order, decision in plan:
            if decision is None:
                if order.overdue(now):
                    self._expire(order)
                else:
                    self._cancel(order, by, f"voided by policy version {version}", as_admin=True)
            elif decision.error is not None:
                self._cancel(order, by, "refused", as_admin=True)
            else:
                self._settle(order, decision, by)
        return version

    def propose(
        self, action: str, params: dict[str, Any], proposer: str, justification: str = ""
    ) -> str | None:
        version = len(self.policies)
        policy = self.policy()
        now = self.now
        self._ids += 1
        order = Order(
            id=f"ord_{self._ids:06d}",
            action=action,
            params=params,
            proposer=proposer,
            justification=justification,
            created_at=now,
            expires_at=now + policy.settings.ttl,
            version=version,
            digest="",
        )
        decision = evaluate(policy, self._input(order), [], now)
        if decision.error is not None:
            return None
        order.digest = self._digest(order)
        self.orders[order.id] = order
        self.emit(
            EventKind.ORDER_PROPOSED,
            proposer,
            order.id,
            {
                "id": order.id,
                "action": action,
                "params": params,
                "proposer": proposer,
                "justification": justification,
                "created_at": format_timestamp(now),
                "expires_at": format_timestamp(order.expires_at),
                "policy_version": version,
                "policy_digest": policy.digest,
                "digest": order.digest,
                "matched_rules": list(decision.matched_rules),
                "requirements": [{"role": r.role, "count": r.count} for r in decision.requirements],
            },
        )
        self._settle(order, decision, proposer)
        return order.id

    def eligible_reviewers(self, order_id: str) -> list[tuple[str, ReviewDecision]]:
        """Who the service would accept a review from now, and which decisions."""
        order = self.orders[order_id]
        policy = self.policy(order.version)
        out = []
        for person in sorted(policy.people):
            for choice in ReviewDecision:
                if self._review_error(order, person, choice) is None:
                    out.append((person, choice))
        return out

    def _review_error(self, order: Order, reviewer: str, choice: ReviewDecision) -> str | None:
        policy = self.policy(order.version)
        if order.state is not OrderState.PENDING or order.overdue(self.now):
            return "closed"
        if reviewer == order.proposer and not policy.settings.proposer_may_approve:
            return "self"
        person = policy.people.get(reviewer)
        if person is None or any(r.reviewer == reviewer for r in order.reviews):
            return "roster"
        review = ReviewInput(reviewer=reviewer, decision=choice, at=self.now)
        after = evaluate(policy, self._input(order), [*order.reviews, review], self.now)
        may_only_veto = reviewer in after.vetoers and choice is ReviewDecision.DENY
        if not person.roles & {r.role for r in after.requirements} and not may_only_veto:
            return "not eligible"
        return None

    def review(self, order_id: str, reviewer: str, choice: str, comment: str = "") -> bool:
        order = self.orders[order_id]
        decision = ReviewDecision(choice)
        if order.state is OrderState.PENDING and order.overdue(self.now):
            self._expire(order)
            return False
        if self._review_error(order, reviewer, decision) is not None:
            return False
        policy = self.policy(order.version)
        review = ReviewInput(reviewer=reviewer, decision=decision, at=self.now, comment=comment)
        order.reviews.append(review)
        after = evaluate(policy, self._input(order), order.reviews, self.now)
        seat = next((s.role for s in after.seats if reviewer in s.filled_by), None)
        counted = next((c.counted for c in after.reviews if c.reviewer == reviewer), False)
        self.emit(
            EventKind.ORDER_REVIEWED,
            reviewer,
            order_id,
            {
                "order_id": order_id,
                "reviewer": reviewer,
                "decision": decision.value,
                "comment": comment,
                "at": format_timestamp(self.now),
                "seat": seat,
                "counted": counted,
            },
        )
        self._settle(order, after, reviewer)
        return True

    def cancel(self, order_id: str, by: str, *, as_admin: bool = False) -> bool:
        order = self.orders[order_id]
        if not as_admin and by != order.proposer:
            return False
        if order.overdue(self.now):
            self._expire(order)
            return False
        if order.state not in (OrderState.PENDING, OrderState.APPROVED):
            return False
        self._cancel(order, by, "changed my mind", as_admin=as_admin)
        return True

    def claim(self, order_id: str, by: str) -> bool:
        order = self.orders[order_id]
        if order.state is OrderState.APPROVED and order.overdue(self.now):
            self._expire(order)
            return False
        if order.state is not OrderState.APPROVED:
            return False
        now = format_timestamp(self.now)
        self._move(
            order,
            OrderState.EXECUTING,
            by,
            {"claimed_by": by, "claimed_at": now, "ticket_sha256": "ab" * 32},
        )
        order.claimed_by = by
        return True

    def result(self, order_id: str, *, succeeded: bool = True) -> bool:
        order = self.orders[order_id]
        if order.state is not OrderState.EXECUTING or order.claimed_by is None:
            return False
        target = OrderState.EXECUTED if succeeded else OrderState.FAILED
        outcome = "succeeded" if succeeded else "failed"
        self._move(
            order,
            target,
            order.claimed_by,
            {"outcome": outcome, "detail": "", "claimed_by": order.claimed_by},
        )
        return True

    def expire_due(self) -> None:
        for order in sorted(self.orders.values(), key=lambda o: o.id):
            if order.overdue(self.now):
                self._expire(order)

    # --- helpers ----------------------------------------------------------------------

    def _input(self, order: Order) -> OrderInput:
        return OrderInput(
            action=order.action,
            params=order.params,
            proposer=order.proposer,
            justification=order.justification,
            created_at=order.created_at,
        )

    def _digest(self, order: Order) -> str:
        return order_digest(
            id=order.id,
            action=order.action,
            params=order.params,
            proposer=order.proposer,
            justification=order.justification,
            created_at=order.created_at,
            expires_at=order.expires_at,
            policy_digest=self.policy(order.version).digest,
        )

    def _move(self, order: Order, target: OrderState, actor: str, payload: dict[str, Any]) -> None:
        self.emit(
            event_for_state(target),
            actor,
            order.id,
            {"order_id": order.id, "from_state": order.state.value, **payload},
        )
        order.state = target

    def _expire(self, order: Order) -> None:
        deadline = order.deadline()
        assert deadline is not None
        self._move(
            order,
            OrderState.EXPIRED,
            "system:expiry",
            {"deadline": format_timestamp(deadline), "reason": "the deadline passed"},
        )

    def _cancel(self, order: Order, by: str, reason: str, *, as_admin: bool) -> None:
        self._move(
            order, OrderState.CANCELLED, by, {"by": by, "reason": reason, "as_admin": as_admin}
        )

    def _settle(self, order: Order, decision: Decision, actor: str) -> None:
        now = self.now
        if decision.status is DecisionStatus.APPROVED:
            policy = self.policy(order.version)
            execute_by = now + policy.settings.execution_window
            self._move(
                order,
                OrderState.APPROVED,
                actor,
                {
                    "approved_at": format_timestamp(now),
                    "execute_by": format_timestamp(execute_by),
                    "seats": [
                        {"role": s.role, "filled_by": list(s.filled_by)} for s in decision.seats
                    ],
                },
            )
            order.execute_by = execute_by
        elif decision.status is DecisionStatus.REJECTED:
            self._move(
                order,
                OrderState.REJECTED,
                actor,
                {"rejected_by": list(decision.rejected_by), "reasons": list(decision.reasons)},
            )
        elif decision.status is DecisionStatus.EXPIRED:
            self._expire(order)


# --- a random, lawful day -------------------------------------------------------------

_PROPOSALS: Sequence[tuple[str, dict[str, Any]]] = (
    ("move", {"unit": "3rd-battalion", "destination": "hill-412"}),
    ("move", {"unit": "A1", "destination": "river crossing"}),
    ("detain", {"person": "pvt. so", "reason": "desertion"}),
    ("transfer", {"person": "sgt. yun", "to_unit": "2nd-company"}),
    ("requisition", {"item": "fuel", "amount": 500}),
    ("requisition", {"item": "rations", "amount": 5000}),
)


def random_history(rng: random.Random, *, steps: int = 40) -> History:
    """A lawful history on the field-command policy, with every kind of event."""
    h = History()
    h.publish(FIELD_COMMAND)
    h.token("kim")
    h.token("pak", admin=True)
    for _ in range(steps):
        h.advance(timedelta(minutes=rng.choice((1, 5, 30, 90, 600))))
        open_orders = [o for o in h.orders.values() if o.state is OrderState.PENDING]
        approved = [o for o in h.orders.values() if o.state is OrderState.APPROVED]
        executing = [o for o in h.orders.values() if o.state is OrderState.EXECUTING]
        roll = rng.random()
        if roll < 0.30 or not (open_orders or approved or executing):
            action, params = rng.choice(_PROPOSALS)
            h.propose(action, dict(params), rng.choice(("kim", "jo")), "orders from above")
        elif roll < 0.60 and open_orders:
            order = rng.choice(open_orders)
            choices = h.eligible_reviewers(order.id)
            if choices:
                who, decision = rng.choice(choices)
                if decision is ReviewDecision.DENY and rng.random() < 0.6:
                    decision = ReviewDecision.APPROVE
                    if (who, decision) not in choices:
                        decision = ReviewDecision.DENY
                h.review(order.id, who, decision.value, comment=rng.choice(("", "ok", "né — ok")))
        elif roll < 0.75 and approved:
            order = rng.choice(approved)
            h.claim(order.id, rng.choice(("kim", "jo", "han")))
        elif roll < 0.85 and executing:
            h.result(rng.choice(executing).id, succeeded=rng.random() < 0.8)
        elif roll < 0.90 and (open_orders or approved):
            order = rng.choice(open_orders + approved)
            h.cancel(order.id, order.proposer)
        elif roll < 0.94:
            h.expire_due()
        else:
            mode = rng.choice(("keep", "reevaluate", "void"))
            text = (
                FIELD_COMMAND
                if len(h.policies) % 2 == 0
                else FIELD_COMMAND.replace("ttl: 24h", "ttl: 12h")
            )
            h.publish(text, in_flight=mode)
    return h


# --- exports ----------------------------------------------------------------------------


def checkpoint_of(
    entries: Sequence[AuditEntry], size: int | None = None, signer: str = SIGNER
) -> str:
    size = len(entries) if size is None else size
    tree = CompactRange()
    tree.extend_entries([e.to_bytes() for e in entries[:size]])
    return sign_checkpoint(Checkpoint(origin=ORIGIN, size=size, root_hash=tree.root()), signer)


def export_bytes(
    entries: Sequence[AuditEntry], *, start: int = 0, signer: str = SIGNER, note: str | None = None
) -> bytes:
    """The export of `entries[start:]` with a checkpoint over all of them."""
    raw = [e.to_bytes() for e in entries]
    prefix = CompactRange()
    prefix.extend_entries(raw[:start])
    frontier: Frontier = prefix.frontier()
    pairs = [(r, e.leaf_hash()) for r, e in zip(raw[start:], entries[start:], strict=True)]
    note = note if note is not None else checkpoint_of(entries, signer=signer)
    return b"".join(export_lines(frontier, pairs, note))
