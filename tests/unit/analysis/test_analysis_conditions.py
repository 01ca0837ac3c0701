"""Conditions: literals read from CEL, candidate values, and the rule combinations found."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cosignatory.core.analysis import FindingKind, analyze_policy, explore_action
from cosignatory.core.analysis.candidates import ABSENT, param_candidates
from cosignatory.core.analysis.literals import scan_condition
from cosignatory.core.analysis.sampling import components, cover
from cosignatory.core.policy import OrderInput, ParamSpec, ParamType, check_proposal
from cosignatory.core.policy.model import Action

from .support import NOW, policy


@pytest.mark.parametrize(
    ("expression", "params", "ints", "strings", "methods"),
    [
        ("params.amount > 1000", {"amount"}, {1000}, set(), set()),
        ('params["env"] == "prod"', {"env"}, set(), {"prod"}, set()),
        ('params.service.startsWith("auth")', {"service"}, set(), {"auth"}, {"startsWith"}),
        ("-5 < params.t && params.t - 3 > 0", {"t"}, {-5, 3, 0}, set(), set()),
        ("0x10 == params.mask", {"mask"}, {16}, set(), set()),
        ("r'a\\d' == params.x || 'it\\'s' == params.y", {"x", "y"}, set(), {"a\\d", "it's"}, set()),
        ('"urgent" in params.tags && size(params.tags) >= 3', {"tags"}, {3}, {"urgent"}, set()),
    ],
)
def test_scan_condition(
    expression: str, params: set[str], ints: set[int], strings: set[str], methods: set[str]
) -> None:
    lit = scan_condition(expression)
    assert lit.params == params
    assert lit.ints == ints
    assert lit.strings == strings
    assert lit.string_methods == methods


def test_scan_condition_variables_timestamps_and_whole_params() -> None:
    lit = scan_condition(
        'now > timestamp("2026-01-01T00:00:00Z") && "lead" in proposer.roles '
        '&& justification.contains("emergency") && size(params) > 1'
    )
    assert lit.variables == {"now", "proposer", "justification", "params"}
    assert lit.timestamps == {datetime(2026, 1, 1, tzinfo=UTC)}
    assert "2026-01-01T00:00:00Z" not in lit.strings  # a timestamp, not a string value
    assert lit.whole_params and lit.uses_size
    assert not scan_condition("params.a == 1").whole_params


ACTION = Action(
    name="pay",
    params={
        "amount": ParamSpec(name="amount", type=ParamType.INTEGER, required=True, minimum=1),
        "currency": ParamSpec(
            name="currency", type=ParamType.STRING, required=True, enum=("usd", "eur")
        ),
        "service": ParamSpec(name="service", type=ParamType.STRING, pattern="[a-z][a-z0-9-]*"),
        "flag": ParamSpec(name="flag", type=ParamType.BOOLEAN),
    },
)


def test_integer_candidates_straddle_every_boundary_and_respect_the_schema() -> None:
    lits = [scan_condition("params.amount > 1000"), scan_condition("params.amount <= 5")]
    values = param_candidates(ACTION, ACTION.params["amount"], lits, read=True)
    assert {1000, 1001, 5, 6} <= set(values)
    assert all(isinstance(v, int) and v >= 1 for v in values)  # minimum: 1


def test_string_candidates_match_and_miss_each_literal_and_fit_the_pattern() -> None:
    lits = [scan_condition('params.service.startsWith("auth") || params.service == "-db"')]
    values = param_candidates(ACTION, ACTION.params["service"], lits, read=True)
    assert "auth" in values and "auth-x" in values and "x-auth" in values
    assert "-db" not in values  # the pattern refuses it: no order could carry it
    assert ABSENT in values  # optional: leaving it out is an order too


def test_enums_booleans_and_unread_params() -> None:
    currency = param_candidates(ACTION, ACTION.params["currency"], [], read=True)
    assert set(currency) == {"usd", "eur"}
    assert param_candidates(ACTION, ACTION.params["flag"], [], read=True) == (False, True, ABSENT)
    assert len(param_candidates(ACTION, ACTION.params["amount"], [], read=False)) == 1


def test_components_and_covers() -> None:
    assert components(4, [frozenset({0, 1}), frozenset({1, 2})]) == [(0, 1, 2), (3,)]
    full, exhaustive = cover([2, 3], [], 10)
    assert exhaustive and len(full) == 6
    partial, exhaustive = cover([5, 5, 5], [frozenset({0, 1})], 30)
    assert not exhaustive and len(partial) == 30
    assert {(a, b) for a, b, _ in partial} == {(a, b) for a in range(5) for b in range(5)}


PAYMENTS = """
cosignatory: 1
name: payments
people:
  ann: {roles: [clerk]}
  bob: {roles: [clerk, lead]}
  cy: {roles: [treasurer]}
  dee: {roles: [treasurer, risk]}
  eve: {roles: [risk]}
actions:
  pay:
    params:
      amount: {type: integer, required: true, minimum: 1}
      currency: {type: string, required: true, enum: [usd, eur]}
      memo: {type: string}
      tags: {type: list}
rules:
  - {id: base, applies_to: pay, proposers: [clerk], require: [{role: treasurer}]}
  - id: large
    applies_to: pay
    when: params.amount > 10000 && params.currency == "usd"
    require: [{role: treasurer, count: 2}]
  - id: euro
    applies_to: pay
    when: params.currency == "eur"
    require: [{role: risk}]
  - id: urgent
    applies_to: pay
    when: '"urgent" in params.tags'
    require: [{role: risk}]
  - id: lead-override
    applies_to: pay
    when: '"lead" in proposer.roles && justification.contains("emergency")'
    require: []
  - id: memo
    applies_to: pay
    when: params.memo.startsWith("payroll")
    require: [{role: risk}]
"""


def test_every_combination_is_found_with_an_order_the_engine_agrees_on() -> None:
    pol = policy(PAYMENTS)
    found = explore_action(pol, "pay", NOW)
    combos = {s.rule_ids for s in found.scenarios}
    assert ("base", "large") in combos
    assert ("base", "euro") in combos
    assert ("base", "large", "urgent") in combos
    assert ("base", "lead-override") in combos  # only bob, with the right words
    assert ("base", "euro", "urgent", "memo") in combos
    for s in found.scenarios:
        ex = s.example
        if ex.proposer is None:
            continue
        order = OrderInput(
            action="pay", params=ex.params, proposer=ex.proposer, justification=ex.justification
        )
        assert check_proposal(pol, order, ex.at).rule_ids == s.rule_ids
    override = next(s for s in found.scenarios if "lead-override" in s.rule_ids)
    assert override.proposers == {"bob"}  # the condition reads the proposer's roles
    assert "emergency" in override.example.justification


def test_conditions_that_fail_on_absent_params_are_reported_as_fail_closed() -> None:
    analysis = analyze_policy(policy(PAYMENTS), now=NOW)
    pay = analysis.action("pay")
    assert pay.exploration.refusals.get("condition_error", 0) > 0
    errors = [f for f in analysis.findings if f.kind is FindingKind.CONDITION_ERROR]
    assert errors and all(f.severity.value == "info" for f in errors)
    text = " ".join(f.message for f in errors)
    assert "`memo`" in text and "`tags`" in text  # optional params a condition reads bare


def test_the_weakest_combination_an_insider_can_craft() -> None:
    analysis = analyze_policy(policy(PAYMENTS), now=NOW)
    weakest = analysis.action("pay").weakest
    assert weakest is not None
    # base alone: a clerk and one treasurer; the lead-override needs a treasurer too
    assert weakest.coalitions.size == 2


def test_time_conditions_are_sampled_across_the_literal() -> None:
    pol = policy(
        """
        cosignatory: 1
        name: freeze
        people: {ann: {roles: [dev]}, bob: {roles: [ops]}, cy: {roles: [ops]}}
        actions: {ship: {}}
        rules:
          - {id: ship, applies_to: ship, require: [{role: ops}]}
          - id: freeze
            applies_to: ship
            when: now >= timestamp("2026-12-20T00:00:00Z")
            require: [{role: ops, count: 2}]
        """
    )
    found = explore_action(pol, "ship", NOW)
    assert {s.rule_ids for s in found.scenarios} == {("ship",), ("ship", "freeze")}


def test_a_required_param_no_value_can_satisfy_is_a_sampling_gap() -> None:
    pol = policy(
        """
        cosignatory: 1
        name: odd
        people: {ann: {roles: [dev]}, bob: {roles: [ops]}}
        actions:
          ship: {params: {ticket: {type: string, required: true, pattern: "ZZ-[0-9]{7}"}}}
        rules:
          - {id: ship, applies_to: ship, when: 'params.ticket != ""', require: [{role: ops}]}
        """
    )
    analysis = analyze_policy(pol, now=NOW)
    (gap,) = [f for f in analysis.findings if f.kind is FindingKind.SAMPLING_GAP]
    assert "ticket" in gap.message
