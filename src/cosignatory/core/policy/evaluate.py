"""The decision engine: (policy, order, reviews, now) → an explained `Decision`.

Pure and total. It implements ARCHITECTURE.md "Decision semantics" 1–7:

1. matched rules: `applies_to` names the action (or `*`) and `when` holds; a CEL error
   refuses the proposal (fail closed); no matched rule refuses it (`no_rule`).
2. the proposer must hold a `proposers` role of every matched rule that lists some.
3. requirements: per role, the max `count` over matched rules.
4. eligible approvers of a seat: holders of the role, minus the proposer unless
   `proposer_may_approve`.
5. seats are filled by a bipartite matching (`core.seats`), one seat per person by default.
6. a deny by a holder of a veto role of a matched rule rejects; otherwise a rule's
   `reject_after_denials: N` rejects after N denies by people eligible for its seats.
   A veto beats any number of approvals, whatever the order they arrived in.
7. a pending order expires at `created_at + ttl`; reviews after that are ignored.

Bad reviews (unknown people, duplicates, the proposer's own) are ignored with a reason,
never raised: the same input always gives the same decision, in any review order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cosignatory.core.errors import ErrorCode, RefusedError
from cosignatory.core.policy.conditions import (
    ConditionEvalError,
    cel_context,
    condition_context,
    evaluate_condition,
)
from cosignatory.core.policy.decision import (
    CountedReview,
    Decision,
    DecisionStatus,
    OrderInput,
    Refusal,
    ReviewDecision,
    ReviewInput,
    SeatState,
)
from cosignatory.core.policy.model import Policy, Requirement, Rule
from cosignatory.core.policy.params import check_params
from cosignatory.core.seats import SeatMatcher, max_filled

__all__ = ["Proposal", "check_proposal", "evaluate", "requirements_of"]


@dataclass(frozen=True, kw_only=True)
class Proposal:
    """A proposal that passed semantics 1–3: what it needs before it may run."""

    rules: tuple[Rule, ...]
    requirements: tuple[Requirement, ...]
    veto_roles: frozenset[str]

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules)


def requirements_of(rules: Iterable[Rule]) -> tuple[Requirement, ...]:
    """Per role, the largest count any rule asks for (two rules asking one officer need one)."""
    counts: dict[str, int] = {}
    for rule in rules:
        for req in rule.require:
            counts[req.role] = max(counts.get(req.role, 0), req.count)
    return tuple(Requirement(role=role, count=n) for role, n in counts.items())


def check_proposal(policy: Policy, order: OrderInput, now: datetime) -> Proposal:
    """Semantics 1–3 for a new order; raise RefusedError with a stable code otherwise."""
    action = policy.actions.get(order.action)
    if action is None:
        known = ", ".join(f"`{a}`" for a in sorted(policy.actions)) or "none"
        raise RefusedError(
            f"unknown action `{order.action}`; policy `{policy.name}` declares {known}",
            code=ErrorCode.UNKNOWN_ACTION,
        )
    proposer = policy.people.get(order.proposer)
    if proposer is None:
        raise RefusedError(
            f"`{order.proposer}` is not in the roster of policy `{policy.name}` "
            "and may not propose",
            code=ErrorCode.NOT_PROPOSER,
        )
    problems = check_params(action, order.params)
    if problems:
        raise RefusedError("; ".join(problems), code=ErrorCode.INVALID_PARAMS)

    scope = policy.condition_scope(order.action)
    ctx = None
    if scope.names:
        ctx = cel_context(
            condition_context(
                action=order.action,
                params=order.params,
                proposer_id=proposer.id,
                proposer_roles=sorted(proposer.roles),
                justification=order.justification,
                now=now,
            ),
            scope.names,
            scope.param_keys,
        )
    matched: list[Rule] = []
    for rule, program in zip(scope.rules, scope.programs, strict=True):
        if program is not None:
            try:
                if not evaluate_condition(program, ctx):
                    continue
            except ConditionEvalError as e:
                raise RefusedError(
                    f"rule `{rule.id}`: condition `{rule.when}` failed: {e.message}; "
                    "the order is refused rather than judged without this rule",
                    code=ErrorCode.CONDITION_ERROR,
                ) from e
        matched.append(rule)
    if not matched:
        raise RefusedError(
            f"no rule of policy `{policy.name}` authorizes `{order.action}` with these params",
            code=ErrorCode.NO_RULE,
        )
    for rule in matched:
        if rule.proposers is not None and not (rule.proposers & proposer.roles):
            need = ", ".join(f"`{r}`" for r in sorted(rule.proposers))
            raise RefusedError(
                f"`{proposer.id}` may not propose `{order.action}`: rule `{rule.id}` "
                f"needs a proposer holding {need}",
                code=ErrorCode.NOT_PROPOSER,
            )
    rules = tuple(matched)
    requirements, veto_roles = policy.combination(rules)
    return Proposal(rules=rules, requirements=requirements, veto_roles=veto_roles)


def _review_key(review: ReviewInput, now: datetime) -> tuple[datetime, str, int]:
    # Deny sorts before approve at the same instant: with duplicates, fail closed.
    return (review.at or now, review.reviewer, 0 if review.decision is ReviewDecision.DENY else 1)


def evaluate(
    policy: Policy,
    order: OrderInput,
    reviews: Sequence[ReviewInput],
    now: datetime,
) -> Decision:
    """Decide `order` under `policy` given `reviews`, as of `now` (timezone-aware)."""
    if now.tzinfo is None:
        raise RuntimeError("evaluate() needs a timezone-aware `now`")
    decided_at = order.created_at or now
    try:
        proposal = check_proposal(policy, order, decided_at)
    except RefusedError as e:
        return Decision(
            status=DecisionStatus.REFUSED,
            reasons=(e.message,),
            error=Refusal(code=e.code, message=e.message),
        )

    settings = policy.settings
    proposer = order.proposer
    expires_at = order.created_at + settings.ttl if order.created_at else None
    requirements = proposal.requirements
    required_roles = frozenset(r.role for r in requirements)

    def may_approve(person: str) -> bool:
        return person != proposer or settings.proposer_may_approve

    if len(proposal.veto_roles) == 1:
        (veto_role,) = proposal.veto_roles
        vetoers = tuple(p for p in policy.holders_sorted(veto_role) if may_approve(p))
    else:
        vetoers = tuple(
            sorted({p for r in proposal.veto_roles for p in policy.holders(r) if may_approve(p)})
        )
    matcher = SeatMatcher.for_requirements(
        requirements, one_seat_per_person=settings.one_seat_per_person
    )
    reasons: list[str] = []
    counted: list[CountedReview] = []
    seen: set[str] = set()
    approved_at: datetime | None = None
    vetoed_by: list[str] = []
    denials: list[tuple[str, frozenset[str]]] = []
    rejected_at: datetime | None = None
    if not requirements:
        approved_at = decided_at
        reasons.append("no seat to fill: the matched rules require no confirmation")

    ordered = reviews if len(reviews) < 2 else sorted(reviews, key=lambda r: _review_key(r, now))
    for review in ordered:
        who, at = review.reviewer, review.at or now

        def ignore(note: str, review: ReviewInput = review) -> None:
            counted.append(
                CountedReview(
                    reviewer=review.reviewer,
                    decision=review.decision,
                    at=review.at,
                    counted=False,
                    note=note,
                )
            )
            reasons.append(f"{review.decision.value} by `{review.reviewer}` ignored: {note}")

        person = policy.people.get(who)
        if who in seen:
            ignore("a person's first review is the one that counts")
            continue
        seen.add(who)
        if person is None:
            ignore(f"`{who}` is not in the roster of policy `{policy.name}`")
            continue
        if not may_approve(who):
            ignore("the proposer may not review their own order")
            continue
        if expires_at is not None and at >= expires_at:
            ignore("it arrived after the order expired")
            continue
        seat_roles = person.roles & required_roles
        is_vetoer = bool(person.roles & proposal.veto_roles)
        if not seat_roles and not (is_vetoer and review.decision is ReviewDecision.DENY):
            ignore(
                "they hold no role that could fill a seat of this order"
                + (" (a vetoer can only deny)" if is_vetoer else "")
            )
            continue
        if review.decision is ReviewDecision.DENY:
            counted.append(
                CountedReview(
                    reviewer=who,
                    decision=review.decision,
                    at=review.at,
                    counted=True,
                    note="veto" if is_vetoer else "deny",
                )
            )
            if is_vetoer:
                vetoed_by.append(who)
                rejected_at = rejected_at or at
                roles = ", ".join(sorted(person.roles & proposal.veto_roles))
                reasons.append(f"vetoed by `{who}` ({roles}): a veto rejects the order")
            else:
                denials.append((who, seat_roles))
            continue
        grew = matcher.add(who, seat_roles)
        seats = matcher.seat_of(who)
        counted.append(
            CountedReview(
                reviewer=who,
                decision=review.decision,
                at=review.at,
                counted=grew,
                seat=seats[0] if seats else None,
                note="" if grew else "not needed: its seats were full",
            )
        )
        if not grew:
            reasons.append(f"approval by `{who}` not needed: every seat they could fill is taken")
        if grew and approved_at is None and matcher.is_full():
            approved_at = at

    # Denial thresholds, rule by rule: denies by people eligible for that rule's seats.
    threshold_hit: list[str] = []
    for rule in proposal.rules:
        if rule.reject_after_denials is None:
            continue
        rule_roles = frozenset(r.role for r in rule.require)
        deniers = [who for who, roles in denials if roles & rule_roles]
        if len(deniers) >= rule.reject_after_denials:
            threshold_hit.extend(d for d in deniers if d not in threshold_hit)
            reasons.append(
                f"rule `{rule.id}` rejects after {rule.reject_after_denials} "
                f"denial(s); denied by {', '.join(f'`{d}`' for d in deniers)}"
            )
            if rejected_at is None:
                rejected_at = max(
                    (c.at or now for c in counted if c.reviewer in deniers), default=now
                )

    reviewed = {c.reviewer for c in counted}
    assignment = matcher.assignment()
    seat_states = []
    for req in requirements:
        eligible = tuple(
            pid
            for pid in policy.holders_sorted(req.role)
            if pid not in reviewed and may_approve(pid)
        )
        seat_states.append(
            SeatState(
                role=req.role, count=req.count, filled_by=assignment[req.role], eligible=eligible
            )
        )

    rejected_by = tuple(vetoed_by) + tuple(d for d in threshold_hit if d not in vetoed_by)
    if rejected_by:
        status = DecisionStatus.REJECTED
        approved_at = None
    elif matcher.is_full():
        status = DecisionStatus.APPROVED
        filled = "; ".join(
            f"{s.role} by {', '.join(f'`{p}`' for p in s.filled_by)}" for s in seat_states
        )
        if filled:
            reasons.append(f"approved: every seat is filled ({filled})")
    elif expires_at is not None and now >= expires_at:
        status = DecisionStatus.EXPIRED
        reasons.append(f"expired at {expires_at.isoformat()} with seats still missing")
    else:
        status = DecisionStatus.PENDING
        for s in seat_states:
            if s.missing:
                could = ", ".join(f"`{p}`" for p in s.eligible) or "nobody left"
                reasons.append(f"waiting for {s.missing} more {s.role} (could be: {could})")
        # Could the people still able to act complete it? If not, say so plainly.
        pool = {
            c.reviewer: policy.people[c.reviewer].roles & required_roles
            for c in counted
            if c.counted and c.decision is ReviewDecision.APPROVE
        }
        for s in seat_states:
            for pid in s.eligible:
                pool[pid] = policy.people[pid].roles & required_roles
        if (
            max_filled(requirements, pool, one_seat_per_person=settings.one_seat_per_person)
            < matcher.slots
        ):
            reasons.append(
                "can no longer be approved: too few eligible people remain to fill every seat"
            )

    return Decision(
        status=status,
        matched_rules=proposal.rule_ids,
        requirements=requirements,
        seats=tuple(seat_states),
        vetoers=vetoers,
        reasons=tuple(reasons),
        reviews=tuple(counted),
        expires_at=expires_at,
        approved_at=approved_at,
        rejected_at=rejected_at if rejected_by else None,
        rejected_by=rejected_by,
    )
