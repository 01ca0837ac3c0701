"""The engine's fast paths give exactly what the plain paths give.

The hot path builds frozen dataclasses through `of` constructors, checks params with
`_valid` before building messages, evaluates all of an action's conditions in one CEL
program and seats approvals with `SeatMatcher.place`; each is compared here with the
straightforward version it stands for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosignatory.core.errors import ErrorCode
from cosignatory.core.policy import OrderInput, evaluate
from cosignatory.core.policy.decision import (
    CountedReview,
    Decision,
    DecisionStatus,
    ReviewDecision,
    ReviewInput,
    SeatState,
)
from cosignatory.core.policy.model import ParamSpec, ParamType, Requirement
from cosignatory.core.policy.params import _check_one, _valid
from cosignatory.core.seats import SeatMatcher

from .engine_helpers import NOW, decide, policy
from .test_engine_properties import (
    ROLES,
    _policy,
    brute_force_full,
    requirements_st,
    reviews_st,
    roster_st,
)

AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_seat_state_of_equals_the_constructor():
    fast = SeatState.of("risk", 2, ("eve",), ("dan",))
    assert fast == SeatState(role="risk", count=2, filled_by=("eve",), eligible=("dan",))
    assert hash(fast) == hash(
        SeatState(role="risk", count=2, filled_by=("eve",), eligible=("dan",))
    )


@pytest.mark.parametrize(
    ("counted", "seat", "note", "decision"),
    [
        (True, "risk", "", None),
        (False, None, "duplicate", None),
        (True, None, "veto", ReviewDecision.DENY),
    ],
)
def test_counted_review_of_equals_the_constructor(
    counted: bool, seat: str | None, note: str, decision: ReviewDecision | None
):
    review = ReviewInput(reviewer="eve", decision=ReviewDecision.APPROVE, at=AT)
    fast = CountedReview.of(review, counted, seat, note, decision)
    assert fast == CountedReview(
        reviewer="eve",
        decision=decision or ReviewDecision.APPROVE,
        at=AT,
        counted=counted,
        seat=seat,
        note=note,
    )


def test_decision_of_equals_the_constructor():
    fields: dict[str, Any] = {
        "status": DecisionStatus.APPROVED,
        "matched_rules": ("wires",),
        "requirements": (Requirement(role="risk"),),
        "seats": (SeatState.of("risk", 1, ("eve",), ()),),
        "vetoers": ("zed",),
        "reasons": ("approved",),
        "reviews": (),
        "expires_at": AT,
        "approved_at": AT,
        "rejected_at": None,
        "rejected_by": (),
    }
    fast = Decision.of(**fields)
    assert fast == Decision(**fields)
    assert fast.error is None and fast.to_json() == Decision(**fields).to_json()


def test_fast_objects_stay_frozen():
    with pytest.raises(AttributeError):
        SeatState.of("risk", 1, (), ()).count = 2  # type: ignore[misc]


specs = st.builds(
    ParamSpec,
    name=st.just("p"),
    type=st.sampled_from(list(ParamType)),
    required=st.booleans(),
    enum=st.none() | st.lists(st.sampled_from(["a", "b", 1, 2, True]), min_size=1).map(tuple),
    minimum=st.none() | st.integers(-3, 3),
    maximum=st.none() | st.integers(-3, 3),
    pattern=st.none() | st.sampled_from(["a+", "[ab]", ".*"]),
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["", "a", "aa", "b", "c"]),
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
    st.lists(st.integers(0, 2), min_size=1, max_size=2),
)


@given(specs, values)
def test_valid_agrees_with_the_message_builder(spec: ParamSpec, value: Any):
    assert _valid(spec, value) == (not _check_one(spec, value))


def test_combined_conditions_survive_comments_and_report_the_failing_rule():
    pol = policy("""
        cosignatory: 1
        name: t
        people: {a: {roles: [x]}, b: {roles: [x]}}
        actions: {go: {params: {n: {type: integer}, s: {type: string}}}}
        rules:
          - id: commented
            applies_to: go
            when: |
              params.s == "yes" // a trailing comment must not swallow the next rule
            require: [{role: x}]
          - id: plain
            applies_to: go
            require: []
          - id: big
            applies_to: go
            when: params.n > 10
            require: [{role: x, count: 2}]
    """)
    d = decide(pol, "go", "a", [], {"n": 11, "s": "yes"})
    assert d.matched_rules == ("commented", "plain", "big")
    d = decide(pol, "go", "a", [], {"n": 1, "s": "no"})
    assert d.matched_rules == ("plain",)
    # `big` fails on an order without `n`: refused, naming that rule, not `commented`.
    d = decide(pol, "go", "a", [], {"s": "yes"})
    assert d.error is not None and d.error.code is ErrorCode.CONDITION_ERROR
    assert "`big`" in d.error.message


def test_a_condition_that_is_not_boolean_refuses_the_order():
    pol = policy("""
        cosignatory: 1
        name: t
        people: {a: {roles: [x]}, b: {roles: [x]}}
        actions: {go: {params: {n: {type: integer}}}}
        rules:
          - id: ok
            applies_to: go
            when: params.n > 1
            require: []
          - id: numeric
            applies_to: go
            when: 'params.n == 0 ? false : params.n'  # boolean on the load-time sample only
            require: []
    """)
    d = decide(pol, "go", "a", [], {"n": 5})
    assert d.error is not None and d.error.code is ErrorCode.CONDITION_ERROR
    assert "`numeric`" in d.error.message and "not a boolean" in d.error.message


@pytest.mark.parametrize("one_seat", [True, False])
def test_place_returns_the_seat_exactly_when_add_would_grow(one_seat: bool):
    capacity = {"treasurer": 2, "risk": 1}
    offers = [
        ("eve", frozenset({"treasurer", "risk"})),
        ("bob", frozenset({"treasurer"})),
        ("cat", frozenset({"treasurer"})),
        ("dan", frozenset({"risk"})),
        ("eve", frozenset({"risk"})),
    ]
    placing, adding = SeatMatcher(capacity, one_seat), SeatMatcher(capacity, one_seat)
    for person, roles in offers:
        seat = placing.place(person, roles)
        assert (seat is not None) == adding.add(person, roles)
        assert seat == adding.first_seat(person) or seat is None
    assert placing.assignment() == adding.assignment()


def test_more_rules_than_one_mask_holds_match_like_one_by_one():
    # 70 rules: two combined programs (63 + 7 bits); rule i holds when n > i.
    rules = "\n".join(
        f"        - {{id: r{i}, applies_to: go, when: 'params.n > {i}', require: []}}"
        for i in range(70)
    ).lstrip()
    pol = policy(f"""
        cosignatory: 1
        name: t
        people: {{a: {{roles: [x]}}}}
        actions: {{go: {{params: {{n: {{type: integer, required: true}}}}}}}}
        rules:
        {rules}
    """)
    assert pol.condition_scope("go").combined is not None
    assert len(pol.condition_scope("go").combined or ()) == 2
    for n in (0, 1, 62, 63, 64, 69, 70, 500):
        d = decide(pol, "go", "a", [], {"n": n})
        expected = tuple(f"r{i}" for i in range(70) if n > i)
        if expected:
            assert d.matched_rules == expected
        else:
            assert d.error is not None and d.error.code is ErrorCode.NO_RULE


@settings(max_examples=300, deadline=None)
@given(
    requirements_st,
    roster_st,
    st.sampled_from([None, *ROLES]),
    reviews_st,
    st.booleans(),
)
def test_cannot_be_approved_exactly_when_brute_force_says_so(
    reqs, people, veto, reviews, may_approve
):
    """The pending verdict "can no longer be approved" extends the approvals' matching
    with everyone still eligible; the oracle is a brute-force maximum over that pool."""
    pol = _policy(reqs, people, veto, proposer_may_approve=may_approve)
    if pol is None:
        return
    revs = [ReviewInput(reviewer=r, decision=ReviewDecision(x)) for r, x in reviews]
    d = evaluate(pol, OrderInput(action="go", proposer="prop"), revs, NOW)
    if d.status is not DecisionStatus.PENDING:
        return
    required = {r.role: r.count for r in d.requirements}
    pool = {
        c.reviewer: pol.people[c.reviewer].roles
        for c in d.reviews
        if c.counted and c.decision is ReviewDecision.APPROVE
    }
    for seat in d.seats:
        for pid in seat.eligible:
            pool[pid] = pol.people[pid].roles
    stuck = not brute_force_full(required, pool)
    assert stuck == any("can no longer be approved" in r for r in d.reasons)
