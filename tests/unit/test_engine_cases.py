"""Named cases for every rule of the decision semantics (ARCHITECTURE.md 1–7)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cosignatory.core.errors import ErrorCode
from cosignatory.core.policy import DecisionStatus

from .engine_helpers import NOW, TREASURY, decide, policy

P, A, R, X, E = (
    DecisionStatus.PENDING,
    DecisionStatus.APPROVED,
    DecisionStatus.REJECTED,
    DecisionStatus.REFUSED,
    DecisionStatus.EXPIRED,
)
WIRE = {"amount": 10, "to": "acme"}

FIELD = """
cosignatory: 1
name: field
people:
  kim: {roles: [commander]}
  pak: {roles: [political_officer]}
  han: {roles: [logistics, political_officer]}
  ri: {roles: [military_police]}
  boss: {roles: [commander, political_officer]}
actions:
  move: {params: {unit: {type: string, required: true}}}
  requisition: {params: {amount: {type: integer, required: true}}}
  detain: {params: {}}
rules:
  - id: political
    applies_to: "*"
    proposers: [commander]
    require: [{role: political_officer}]
    veto: [political_officer]
  - id: big
    applies_to: requisition
    when: params.amount > 1000
    require: [{role: logistics}]
  - id: mp
    applies_to: detain
    require: [{role: military_police}]
    veto: [military_police]
"""


@pytest.mark.parametrize(
    ("name", "action", "proposer", "reviews", "params", "status"),
    [
        (
            "greedy would fail: eve must take the risk seat",
            "wire",
            "ann",
            [("eve", "approve"), ("bob", "approve"), ("cat", "approve")],
            WIRE,
            A,
        ),
        (
            "two treasurers, no risk yet",
            "wire",
            "ann",
            [("bob", "approve"), ("cat", "approve")],
            WIRE,
            P,
        ),
        ("eve alone cannot fill two seats", "wire", "ann", [("eve", "approve")], WIRE, P),
        (
            "eve and dan: one treasurer short",
            "wire",
            "ann",
            [("eve", "approve"), ("dan", "approve")],
            WIRE,
            P,
        ),
        (
            "eve, dan, bob: eve as treasurer",
            "wire",
            "ann",
            [("eve", "approve"), ("dan", "approve"), ("bob", "approve")],
            WIRE,
            A,
        ),
        (
            "unknown reviewer ignored",
            "wire",
            "ann",
            [("mallory", "approve"), ("bob", "approve"), ("cat", "approve")],
            WIRE,
            P,
        ),
        (
            "ineligible reviewer ignored",
            "wire",
            "ann",
            [("zed", "approve"), ("bob", "approve"), ("dan", "approve")],
            WIRE,
            P,
        ),
        (
            "duplicate approvals count once",
            "wire",
            "ann",
            [("bob", "approve"), ("bob", "approve"), ("dan", "approve")],
            WIRE,
            P,
        ),
        (
            "non-vetoer deny has no effect without a threshold",
            "wire",
            "ann",
            [("bob", "deny"), ("cat", "approve"), ("eve", "approve"), ("dan", "approve")],
            WIRE,
            A,
        ),
    ],
)
def test_treasury(name, action, proposer, reviews, params, status):
    decision = decide(policy(TREASURY), action, proposer, reviews, params)
    assert decision.status is status, (name, decision.reasons)


def test_matching_explains_who_fills_which_seat():
    d = decide(
        policy(TREASURY),
        "wire",
        "ann",
        [("eve", "approve"), ("bob", "approve"), ("cat", "approve")],
        WIRE,
    )
    seats = {s.role: s for s in d.seats}
    assert seats["risk"].filled_by == ("eve",)
    assert sorted(seats["treasurer"].filled_by) == ["bob", "cat"]
    assert d.missing == ()


def test_pending_explains_who_could_still_fill():
    d = decide(policy(TREASURY), "wire", "ann", [("bob", "approve")], WIRE)
    seats = {s.role: s for s in d.seats}
    assert seats["treasurer"].filled_by == ("bob",)
    assert seats["treasurer"].eligible == ("cat", "eve")
    assert seats["risk"].eligible == ("dan", "eve")
    assert {(m.role, m.count) for m in d.missing} == {("treasurer", 1), ("risk", 1)}
    assert any("waiting for 1 more risk" in r for r in d.reasons)


@pytest.mark.parametrize(
    ("name", "action", "proposer", "reviews", "params", "status"),
    [
        (
            "political officer confirms a move",
            "move",
            "kim",
            [("pak", "approve")],
            {"unit": "a"},
            A,
        ),
        (
            "veto after approval still rejects",
            "move",
            "kim",
            [("pak", "approve"), ("han", "deny")],
            {"unit": "a"},
            R,
        ),
        ("veto alone rejects", "move", "kim", [("pak", "deny")], {"unit": "a"}, R),
        (
            "small requisition: political officer only",
            "requisition",
            "kim",
            [("pak", "approve")],
            {"amount": 1000},
            A,
        ),
        (
            "boundary: 1001 needs logistics too",
            "requisition",
            "kim",
            [("pak", "approve")],
            {"amount": 1001},
            P,
        ),
        (
            "han holds two roles; pak frees him for logistics",
            "requisition",
            "kim",
            [("han", "approve"), ("pak", "approve")],
            {"amount": 5000},
            A,
        ),
        (
            "han alone cannot fill both seats",
            "requisition",
            "kim",
            [("han", "approve")],
            {"amount": 5000},
            P,
        ),
        (
            "veto only from matched rules: MP deny on a move is ignored",
            "move",
            "kim",
            [("ri", "deny"), ("pak", "approve")],
            {"unit": "a"},
            A,
        ),
        ("MP veto on a detention", "detain", "kim", [("pak", "approve"), ("ri", "deny")], {}, R),
        (
            "proposer holding the approver role cannot approve",
            "move",
            "boss",
            [("boss", "approve")],
            {"unit": "a"},
            P,
        ),
        (
            "proposer's own deny is ignored",
            "move",
            "boss",
            [("boss", "deny"), ("pak", "approve")],
            {"unit": "a"},
            A,
        ),
    ],
)
def test_field_command(name, action, proposer, reviews, params, status):
    decision = decide(policy(FIELD), action, proposer, reviews, params)
    assert decision.status is status, (name, decision.reasons)


@pytest.mark.parametrize(
    ("name", "action", "proposer", "params", "code"),
    [
        ("unknown action", "launch", "kim", {}, ErrorCode.UNKNOWN_ACTION),
        ("missing required param", "move", "kim", {}, ErrorCode.INVALID_PARAMS),
        ("wrong param type", "move", "kim", {"unit": 7}, ErrorCode.INVALID_PARAMS),
        ("undeclared param", "move", "kim", {"unit": "a", "speed": 3}, ErrorCode.INVALID_PARAMS),
        (
            "bool is not an integer",
            "requisition",
            "kim",
            {"amount": True},
            ErrorCode.INVALID_PARAMS,
        ),
        ("proposer lacks the proposer role", "move", "pak", {"unit": "a"}, ErrorCode.NOT_PROPOSER),
        ("proposer not in roster", "move", "nobody", {"unit": "a"}, ErrorCode.NOT_PROPOSER),
    ],
)
def test_refusals(name, action, proposer, params, code):
    decision = decide(policy(FIELD), action, proposer, [], params)
    assert decision.status is X, name
    assert decision.error is not None and decision.error.code is code, decision.error


def test_no_rule_refusal():
    pol = policy("""
        cosignatory: 1
        name: t
        people: {a: {roles: [x]}}
        actions: {go: {params: {n: {type: integer, required: true}}}}
        rules:
          - id: only-big
            applies_to: go
            when: params.n > 10
            require: []
    """)
    d = decide(pol, "go", "a", [], {"n": 3})
    assert d.error is not None and d.error.code is ErrorCode.NO_RULE
    assert decide(pol, "go", "a", [], {"n": 11}).status is A


def test_condition_error_fails_closed():
    # `params.n` is optional: an order without it makes the condition fail -> refused.
    pol = policy("""
        cosignatory: 1
        name: t
        people: {a: {roles: [x]}, b: {roles: [x]}}
        actions: {go: {params: {n: {type: integer}}}}
        rules:
          - id: lenient
            applies_to: go
            require: []
          - id: strict-when-big
            applies_to: go
            when: params.n > 10
            require: [{role: x}]
    """)
    d = decide(pol, "go", "a", [], {})
    assert d.status is X
    assert d.error is not None and d.error.code is ErrorCode.CONDITION_ERROR
    assert "strict-when-big" in d.error.message


def test_requirements_take_the_max_count_per_role():
    pol = policy("""
        cosignatory: 1
        name: t
        people: {p: {roles: [prop]}, a: {roles: [x]}, b: {roles: [x]}, c: {roles: [x]}}
        actions: {go: {}}
        rules:
          - {id: one, applies_to: go, require: [{role: x, count: 1}]}
          - {id: two, applies_to: go, require: [{role: x, count: 2}]}
    """)
    d = decide(pol, "go", "p", [("a", "approve")])
    assert [(s.role, s.count) for s in d.seats] == [("x", 2)]
    assert decide(pol, "go", "p", [("a", "approve"), ("b", "approve")]).status is A


def test_reject_after_denials():
    pol = policy("""
        cosignatory: 1
        name: t
        people: {p: {roles: [eng]}, a: {roles: [rm]}, b: {roles: [rm]}, c: {roles: [rm]}, z: {roles: [eng]}}
        actions: {deploy: {}}
        rules:
          - {id: prod, applies_to: deploy, require: [{role: rm, count: 2}], reject_after_denials: 2}
    """)
    assert decide(pol, "deploy", "p", [("a", "deny")]).status is P
    # z is not eligible for the rule's seats: the deny is ignored.
    assert decide(pol, "deploy", "p", [("a", "deny"), ("z", "deny")]).status is P
    d = decide(pol, "deploy", "p", [("a", "deny"), ("b", "deny"), ("c", "approve")])
    assert d.status is R and set(d.rejected_by) == {"a", "b"}


def test_one_seat_per_person_false_lets_a_person_fill_two_roles():
    text = TREASURY.replace(
        "name: treasury", "name: treasury\nsettings: {one_seat_per_person: false}"
    )
    d = decide(policy(text), "wire", "ann", [("eve", "approve"), ("bob", "approve")], WIRE)
    assert d.status is A
    seats = {s.role: s.filled_by for s in d.seats}
    assert seats["risk"] == ("eve",) and sorted(seats["treasurer"]) == ["bob", "eve"]
    # Still two *distinct* treasurers.
    assert decide(policy(text), "wire", "ann", [("eve", "approve")], WIRE).status is P


def test_proposer_may_approve_when_allowed():
    text = FIELD.replace("name: field", "name: field\nsettings: {proposer_may_approve: true}")
    assert decide(policy(text), "move", "boss", [("boss", "approve")], {"unit": "a"}).status is A


def test_empty_require_is_approved_immediately():
    pol = policy("""
        cosignatory: 1
        name: t
        people: {a: {roles: [eng]}}
        actions: {deploy: {}}
        rules: [{id: free, applies_to: deploy, require: []}]
    """)
    assert decide(pol, "deploy", "a").status is A


def test_expiry_and_late_reviews():
    pol = policy(FIELD)
    created = NOW - timedelta(hours=25)
    d = decide(pol, "move", "kim", [], {"unit": "a"}, created_at=created)
    assert d.status is E and d.expires_at == created + timedelta(hours=24)
    # A review stamped after the deadline is ignored.
    from cosignatory.core.policy import OrderInput, ReviewDecision, ReviewInput, evaluate

    late = ReviewInput(
        reviewer="pak", decision=ReviewDecision.APPROVE, at=created + timedelta(hours=24)
    )
    d = evaluate(
        pol,
        OrderInput(action="move", params={"unit": "a"}, proposer="kim", created_at=created),
        [late],
        NOW,
    )
    assert d.status is E and any("after the order expired" in r for r in d.reasons)
    ontime = ReviewInput(
        reviewer="pak", decision=ReviewDecision.APPROVE, at=created + timedelta(hours=1)
    )
    d = evaluate(
        pol,
        OrderInput(action="move", params={"unit": "a"}, proposer="kim", created_at=created),
        [ontime],
        NOW,
    )
    assert d.status is A and d.approved_at == ontime.at


def test_vetoers_listed_without_the_proposer():
    d = decide(policy(FIELD), "move", "boss", [], {"unit": "a"})
    assert d.vetoers == ("han", "pak")


def test_deadlock_is_explained():
    pol = policy("""
        cosignatory: 1
        name: t
        people: {p: {roles: [eng]}, a: {roles: [rm]}, b: {roles: [rm]}}
        actions: {deploy: {}}
        rules: [{id: prod, applies_to: deploy, require: [{role: rm, count: 2}]}]
    """)
    d = decide(pol, "deploy", "p", [("a", "deny")])
    assert d.status is P
    assert any("can no longer be approved" in r for r in d.reasons)


def test_to_json_contract():
    d = decide(policy(TREASURY), "wire", "ann", [("bob", "approve")], WIRE)
    out = d.to_json()
    assert set(out) >= {"status", "matched_rules", "seats", "missing", "vetoers", "reasons"}
    assert "error" not in out
    assert out["seats"][0] == {
        "role": "treasurer",
        "count": 2,
        "filled_by": ["bob"],
        "eligible": ["cat", "eve"],
    }
    refused = decide(policy(TREASURY), "wire", "bob", [], WIRE).to_json()
    assert refused["status"] == "refused" and refused["error"]["code"] == "not_proposer"
