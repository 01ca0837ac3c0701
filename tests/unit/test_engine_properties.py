"""Property tests of the engine against brute-force oracles and invariants."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from cosignatory.core.policy import (
    DecisionStatus,
    OrderInput,
    Policy,
    Requirement,
    ReviewDecision,
    ReviewInput,
    evaluate,
    load_policy,
)
from cosignatory.core.seats import fill_seats, max_filled

from .engine_helpers import NOW

ROLES = ["r0", "r1", "r2"]
PEOPLE = [f"p{i}" for i in range(6)]


def brute_force_full(reqs: dict[str, int], people: dict[str, frozenset[str]]) -> bool:
    names = sorted(people)
    choices = [[None, *sorted(people[n] & set(reqs))] for n in names]
    for pick in itertools.product(*choices):
        counts = {r: 0 for r in reqs}
        for role in pick:
            if role is not None:
                counts[role] += 1
        if all(counts[r] >= reqs[r] for r in reqs):
            return True
    return False


def brute_force_max(reqs: dict[str, int], people: dict[str, frozenset[str]]) -> int:
    names = sorted(people)
    choices = [[None, *sorted(people[n] & set(reqs))] for n in names]
    best = 0
    for pick in itertools.product(*choices):
        counts = {r: 0 for r in reqs}
        for role in pick:
            if role is not None:
                counts[role] += 1
        best = max(best, sum(min(counts[r], reqs[r]) for r in reqs))
    return best


requirements_st = st.dictionaries(st.sampled_from(ROLES), st.integers(1, 3), min_size=1)
roster_st = st.dictionaries(
    st.sampled_from(PEOPLE), st.frozensets(st.sampled_from(ROLES), max_size=3), min_size=0
)


@settings(max_examples=300, deadline=None)
@given(requirements_st, roster_st, st.randoms(use_true_random=False))
def test_matching_equals_brute_force(reqs, people, rnd):
    requirements = [Requirement(role=r, count=c) for r, c in reqs.items()]
    order = list(people.items())
    rnd.shuffle(order)
    assignment = fill_seats(requirements, order)
    filled = sum(len(v) for v in assignment.values())
    assert filled == brute_force_max(reqs, people)
    assert (filled == sum(reqs.values())) == brute_force_full(reqs, people)
    # The assignment itself is valid: distinct people, each holding the seat's role.
    seated = [p for ps in assignment.values() for p in ps]
    assert len(seated) == len(set(seated))
    for role, ps in assignment.items():
        assert len(ps) <= reqs[role]
        assert all(role in people[p] for p in ps)
    assert max_filled(requirements, people) == filled


def _policy(
    reqs: dict[str, int],
    people: dict[str, frozenset[str]],
    veto: str | None,
    proposer_may_approve: bool = False,
) -> Policy | None:
    roster = dict(people)
    roster["prop"] = roster.get("prop", frozenset()) | {"proposer"}
    held = {r for roles in roster.values() for r in roles}
    counts = {r: c for r, c in reqs.items() if r in held}
    holders = {r: sum(1 for roles in roster.values() if r in roles) for r in counts}
    if any(c > holders[r] for r, c in counts.items()):
        return None
    lines = [
        "cosignatory: 1",
        "name: prop",
        f"settings: {{proposer_may_approve: {str(proposer_may_approve).lower()}}}",
        "people:",
    ]
    for pid, roles in sorted(roster.items()):
        lines.append(f"  {pid}: {{roles: [{', '.join(sorted(roles))}]}}")
    lines += [
        "actions: {go: {}}",
        "rules:",
        "  - id: r",
        "    applies_to: go",
        "    require: [" + ", ".join(f"{{role: {r}, count: {c}}}" for r, c in counts.items()) + "]",
    ]
    if veto and veto in held:
        lines.append(f"    veto: [{veto}]")
    return load_policy("\n".join(lines) + "\n")


reviews_st = st.lists(
    st.tuples(st.sampled_from([*PEOPLE, "prop", "ghost"]), st.sampled_from(["approve", "deny"])),
    max_size=10,
)


def _decide(pol: Policy, reviews) -> DecisionStatus:
    revs = [ReviewInput(reviewer=r, decision=ReviewDecision(d)) for r, d in reviews]
    return evaluate(pol, OrderInput(action="go", proposer="prop"), revs, NOW).status


@settings(max_examples=200, deadline=None)
@given(
    requirements_st,
    roster_st,
    st.sampled_from([None, *ROLES]),
    reviews_st,
    st.randoms(use_true_random=False),
)
def test_outcome_does_not_depend_on_review_order(reqs, people, veto, reviews, rnd):
    pol = _policy(reqs, people, veto)
    if pol is None:
        return
    shuffled = list(reviews)
    rnd.shuffle(shuffled)
    d1 = evaluate(
        pol,
        OrderInput(action="go", proposer="prop"),
        [ReviewInput(reviewer=r, decision=ReviewDecision(d)) for r, d in reviews],
        NOW,
    )
    d2 = evaluate(
        pol,
        OrderInput(action="go", proposer="prop"),
        [ReviewInput(reviewer=r, decision=ReviewDecision(d)) for r, d in shuffled],
        NOW,
    )
    assert d1.status is d2.status
    assert d1.seats == d2.seats


@settings(max_examples=200, deadline=None)
@given(requirements_st, roster_st, reviews_st, st.sampled_from(PEOPLE))
def test_adding_an_approval_never_unapproves(reqs, people, reviews, extra):
    pol = _policy(reqs, people, None)
    if pol is None:
        return
    before = _decide(pol, reviews)
    after = _decide(pol, [*reviews, (extra, "approve")])
    if before is DecisionStatus.APPROVED:
        assert after is DecisionStatus.APPROVED


@settings(max_examples=200, deadline=None)
@given(requirements_st, roster_st, st.sampled_from(ROLES), reviews_st)
def test_a_vetoers_deny_always_rejects(reqs, people, veto, reviews):
    pol = _policy(reqs, people, veto)
    if pol is None or veto not in pol.roles:
        return
    vetoers = sorted(p for p in pol.holders(veto) if p != "prop")
    if not vetoers:
        return
    # The vetoer's deny is their first review; approvals by everyone else cannot save it.
    reviews = [(vetoers[0], "deny")] + [(r, d) for r, d in reviews if r != vetoers[0]]
    assert _decide(pol, reviews) is DecisionStatus.REJECTED


@settings(max_examples=200, deadline=None)
@given(
    requirements_st,
    roster_st,
    reviews_st,
    st.lists(st.sampled_from(["approve", "deny"]), max_size=2),
)
def test_proposer_reviews_change_nothing_unless_allowed(reqs, people, reviews, own):
    pol = _policy(reqs, people, "r0")
    if pol is None:
        return
    without = [(r, d) for r, d in reviews if r != "prop"]
    with_own = [*without, *(("prop", d) for d in own)]
    assert _decide(pol, without) is _decide(pol, with_own)


def test_random_big_rosters_match_brute_force():
    rnd = random.Random(7)
    for _ in range(200):
        reqs = {r: rnd.randint(1, 2) for r in rnd.sample(ROLES, rnd.randint(1, 3))}
        people = {p: frozenset(rnd.sample(ROLES, rnd.randint(0, 3))) for p in PEOPLE}
        requirements = [Requirement(role=r, count=c) for r, c in reqs.items()]
        assert max_filled(requirements, people) == brute_force_max(reqs, people)
