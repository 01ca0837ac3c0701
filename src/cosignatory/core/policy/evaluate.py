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
from datetime import datetime
from typing import Any

from cosignatory.core.errors import ErrorCode, RefusedError
from cosignatory.core.policy.conditions import (
    MASK_BITS,
    ConditionEvalError,
    cel_context,
    condition_variables,
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
from cosignatory.core.policy.model import (
    MEMO_LIMIT,
    ConditionScope,
    Person,
    Policy,
    Proposal,
    Requirement,
    Rule,
)
from cosignatory.core.policy.params import check_params
from cosignatory.core.seats import SeatMatcher

__all__ = ["Proposal", "check_proposal", "evaluate", "requirements_of"]

_NO_ROLES: frozenset[str] = frozenset()
_DENY = ReviewDecision.DENY
_APPROVE = ReviewDecision.APPROVE


def requirements_of(rules: Iterable[Rule]) -> tuple[Requirement, ...]:
    """Per role, the largest count any rule asks for (two rules asking one officer need one)."""
    counts: dict[str, int] = {}
    for rule in rules:
        for req in rule.require:
            counts[req.role] = max(counts.get(req.role, 0), req.count)
    return tuple(Requirement(role=role, count=n) for role, n in counts.items())


def _condition_refused(rule: Rule, error: ConditionEvalError) -> RefusedError:
    return RefusedError(
        f"rule `{rule.id}`: condition `{rule.when}` failed: {error.message}; "
        "the order is refused rather than judged without this rule",
        code=ErrorCode.CONDITION_ERROR,
    )


def _rules_matched(scope: ConditionScope, variables: dict[str, Any]) -> tuple[Rule, ...]:
    """The rules whose condition holds, one program each: the reference path, and the
    one that names the rule whose condition failed (fail closed)."""
    if all(program is None for _, program in scope.checks):
        return scope.rules
    ctx = cel_context(variables)
    matched: list[Rule] = []
    for rule, program in scope.checks:
        if program is not None:
            try:
                if not evaluate_condition(program, ctx):
                    continue
            except ConditionEvalError as e:
                raise _condition_refused(rule, e) from e
        matched.append(rule)
    return tuple(matched)


def _matched(policy: Policy, order: OrderInput, proposer: Person, now: datetime) -> Proposal:
    """Semantics 1: what the rules for the action whose condition holds ask of the order
    (their `Proposal`; no rule when its `rules` is empty)."""
    scope = policy.condition_scope(order.action)
    variables = condition_variables(
        scope.names,
        scope.param_keys,
        action=order.action,
        params=order.params,
        proposer_id=proposer.id,
        proposer_roles=proposer.roles,
        justification=order.justification,
        now=now,
    )
    programs = scope.combined
    if programs is not None:
        try:
            mask = shift = 0
            for program in programs:
                mask |= program.execute(variables) << shift  # TypeError unless an int
                shift += MASK_BITS
        except Exception:
            mask = -1  # some rule failed: the reference path finds which, in order
        if mask >= 0:
            proposal = scope.by_mask.get(mask)
            if proposal is None:
                rules = scope.rules
                proposal = policy.combination(
                    tuple([rules[i] for i in range(len(rules)) if mask >> i & 1])
                )
                if len(scope.by_mask) < MEMO_LIMIT:
                    scope.by_mask[mask] = proposal
            return proposal
    return policy.combination(_rules_matched(scope, variables))


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
    if now.tzinfo is None:
        raise RuntimeError("check_proposal() needs a timezone-aware `now`")
    problems = check_params(action, order.params)
    if problems:
        raise RefusedError("; ".join(problems), code=ErrorCode.INVALID_PARAMS)
    proposal = _matched(policy, order, proposer, now)
    if not proposal.rules:
        raise RefusedError(
            f"no rule of policy `{policy.name}` authorizes `{order.action}` with these params",
            code=ErrorCode.NO_RULE,
        )
    for rule in proposal.proposer_rules:
        if rule.proposers is not None and rule.proposers.isdisjoint(proposer.roles):
            need = ", ".join(f"`{r}`" for r in sorted(rule.proposers))
            raise RefusedError(
                f"`{proposer.id}` may not propose `{order.action}`: rule `{rule.id}` "
                f"needs a proposer holding {need}",
                code=ErrorCode.NOT_PROPOSER,
            )
    return proposal


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
    people = policy.people
    proposer = order.proposer
    # The proposer is never an eligible approver unless the policy says so (semantics 4).
    barred = None if settings.proposer_may_approve else proposer
    expires_at = order.created_at + settings.ttl if order.created_at else None
    requirements = proposal.requirements
    required_roles = proposal.required_roles
    veto_roles = proposal.veto_roles
    vetoers = proposal.veto_holders
    if barred in vetoers:
        vetoers = tuple([p for p in vetoers if p != barred])
    matcher = SeatMatcher(
        proposal.capacity,
        settings.one_seat_per_person,
        roles=required_roles,
        slots=proposal.slots,
    )
    place, seat_roles_of, veto_people = matcher.place, proposal.seat_roles, proposal.veto_people
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

    # Reviews in time order (a missing time counts as `now`); at the same instant a deny
    # sorts before an approval, so that with duplicates the engine fails closed.
    ordered = (
        reviews
        if len(reviews) < 2
        else sorted(reviews, key=lambda r: (r.at or now, r.reviewer, r.decision is not _DENY))
    )
    for review in ordered:
        who = review.reviewer
        at = review.at or now
        person = people.get(who)
        note = ""
        if who in seen:
            note = "a person's first review is the one that counts"
        else:
            seen.add(who)
            if person is None:
                note = f"`{who}` is not in the roster of policy `{policy.name}`"
            elif who == barred:
                note = "the proposer may not review their own order"
            elif expires_at is not None and at >= expires_at:
                note = "it arrived after the order expired"
        if person is not None and not note:
            seat_roles = seat_roles_of.get(who, _NO_ROLES)
            is_vetoer = who in veto_people
            deny = review.decision is _DENY
            if not seat_roles and not (is_vetoer and deny):
                note = "they hold no role that could fill a seat of this order" + (
                    " (a vetoer can only deny)" if is_vetoer else ""
                )
            elif deny:
                counted.append(
                    CountedReview.of(review, True, None, "veto" if is_vetoer else "deny")
                )
                if is_vetoer:
                    vetoed_by.append(who)
                    rejected_at = rejected_at or at
                    roles = ", ".join(sorted(person.roles & veto_roles))
                    reasons.append(f"vetoed by `{who}` ({roles}): a veto rejects the order")
                else:
                    denials.append((who, seat_roles))
                continue
            else:
                seat = place(who, seat_roles)
                if seat is not None:
                    counted.append(CountedReview.of(review, True, seat))
                    if approved_at is None and matcher.is_full():
                        approved_at = at
                else:
                    counted.append(
                        CountedReview.of(review, False, None, "not needed: its seats were full")
                    )
                    reasons.append(
                        f"approval by `{who}` not needed: every seat they could fill is taken"
                    )
                continue
        counted.append(CountedReview.of(review, False, None, note))
        reasons.append(f"{review.decision.value} by `{who}` ignored: {note}")

    # Denial thresholds, rule by rule: denies by people eligible for that rule's seats.
    threshold_hit: list[str] = []
    for rule, rule_roles in proposal.denial_rules:
        limit = rule.reject_after_denials or 0
        deniers = [who for who, roles in denials if roles & rule_roles]
        if len(deniers) >= limit:
            threshold_hit.extend(d for d in deniers if d not in threshold_hit)
            reasons.append(
                f"rule `{rule.id}` rejects after {limit} "
                f"denial(s); denied by {', '.join(f'`{d}`' for d in deniers)}"
            )
            if rejected_at is None:
                rejected_at = max(
                    (c.at or now for c in counted if c.reviewer in deniers), default=now
                )

    assignment = matcher.assignment()
    states: list[SeatState] = []
    for req, holders in proposal.seats:
        # A loop, not a comprehension (a function call on Python 3.11), in this hot path.
        could: list[str] = []
        for p in holders:
            if p not in seen and p != barred:
                could.append(p)
        states.append(SeatState.of(req.role, req.count, assignment[req.role], tuple(could)))
    seat_states = tuple(states)

    rejected_by: tuple[str, ...] = ()
    if vetoed_by or threshold_hit:
        rejected_by = tuple(vetoed_by) + tuple(d for d in threshold_hit if d not in vetoed_by)
    if rejected_by:
        status = DecisionStatus.REJECTED
        approved_at = None
    elif matcher.is_full():
        status = DecisionStatus.APPROVED
        if seat_states:
            parts: list[str] = []
            for s in seat_states:  # each filled_by is non-empty: every seat is full
                parts.append(f"{s.role} by `" + "`, `".join(s.filled_by) + "`")
            reasons.append("approved: every seat is filled (" + "; ".join(parts) + ")")
    elif expires_at is not None and now >= expires_at:
        status = DecisionStatus.EXPIRED
        reasons.append(f"expired at {expires_at.isoformat()} with seats still missing")
    else:
        status = DecisionStatus.PENDING
        for s in seat_states:
            if s.missing:
                who_could = "`" + "`, `".join(s.eligible) + "`" if s.eligible else "nobody left"
                reasons.append(f"waiting for {s.missing} more {s.role} (could be: {who_could})")
        # Could the people still able to act complete it? If not, say so plainly. The
        # matcher holds a maximum matching of the approvals; offering it everyone still
        # eligible gives the maximum over both (augmenting paths: any order gives the
        # same size). Approvals it found not needed cannot raise that maximum later (the
        # people a matching can cover form a matroid), so leaving them out changes nothing.
        # `assignment` was taken above: the matcher may be extended now.
        for s in seat_states:
            for pid in s.eligible:
                place(pid, seat_roles_of[pid])
        if not matcher.is_full():
            reasons.append(
                "can no longer be approved: too few eligible people remain to fill every seat"
            )

    return Decision.of(
        status=status,
        matched_rules=proposal.rule_ids,
        requirements=requirements,
        seats=seat_states,
        vetoers=vetoers,
        reasons=tuple(reasons),
        reviews=tuple(counted),
        expires_at=expires_at,
        approved_at=approved_at,
        rejected_at=rejected_at if rejected_by else None,
        rejected_by=rejected_by,
    )
