"""Named cases on the shipped examples: what `policy analyze` must find in them."""

from __future__ import annotations

import json

import pytest

from cosignatory.core.analysis import (
    FindingKind,
    PolicyAnalysis,
    Severity,
    WhatIf,
    analyze_policy,
    apply_whatif,
)
from cosignatory.core.analysis.results import ScenarioAnalysis

from .support import CHANGE, FIELD, NOW, example, policy

FIELD_POLICY = example(FIELD)
CHANGE_POLICY = example(CHANGE)
COMMANDERS = {"kim", "jo"}
POLITICAL_OFFICERS = {"pak", "han"}


def analyze(
    *,
    without: tuple[str, ...] = (),
    grants: tuple[tuple[str, str], ...] = (),
    settings: tuple[tuple[str, str], ...] = (),
) -> PolicyAnalysis:
    edits = WhatIf(without=without, grants=grants, settings=settings)
    pol, changes = apply_whatif(FIELD_POLICY, edits)
    return analyze_policy(pol, now=NOW, changes=changes)


def combination(analysis: PolicyAnalysis, action: str, *rules: str) -> ScenarioAnalysis:
    for sa in analysis.action(action).scenarios:
        if sa.scenario.rule_ids == rules:
            return sa
    raise AssertionError(f"no combination {rules} for {action}")


def kinds(analysis: PolicyAnalysis, severity: Severity) -> set[FindingKind]:
    return {f.kind for f in analysis.findings if f.severity is severity}


FIELD_ANALYSIS = analyze_policy(FIELD_POLICY, now=NOW)
CHANGE_ANALYSIS = analyze_policy(CHANGE_POLICY, now=NOW)


def test_field_command_a_move_needs_a_commander_and_a_political_officer() -> None:
    move = combination(FIELD_ANALYSIS, "move", "political-confirmation")
    assert move.coalitions.size == 2
    assert move.coalitions.total == 4
    assert {frozenset(g) for g in move.coalitions.listed} == {
        frozenset({c, p}) for c in COMMANDERS for p in POLITICAL_OFFICERS
    }
    assert move.blockers.absence == ()  # two of each: nobody is indispensable
    assert set(move.blockers.vetoers) == POLITICAL_OFFICERS


def test_field_command_has_no_solo_power_and_names_its_single_points_of_failure() -> None:
    assert Severity.CRITICAL not in {f.severity for f in FIELD_ANALYSIS.findings}
    spof = {
        (f.people, str(f.places[0]))
        for f in FIELD_ANALYSIS.findings
        if f.kind is FindingKind.SINGLE_POINT_OF_FAILURE
    }
    assert (("ri",), "detain") in spof  # the only military police officer
    assert (("choe",), "transfer") in spof  # the only head of personnel


def test_large_requisitions_need_both_political_officers_because_han_holds_two_seats() -> None:
    # han is the only logistics officer; with one seat per person he cannot also be the
    # political officer, so pak becomes indispensable too: a matching effect, not a count.
    large = combination(
        FIELD_ANALYSIS, "requisition", "political-confirmation", "large-requisitions"
    )
    assert large.coalitions.size == 3
    assert set(large.blockers.absence) == {"han", "pak"}
    conflict = next(c for c in large.conflicts if "han" in c.people)
    assert conflict.guard == "one_seat_per_person: true" and not conflict.weakens


def test_requisition_boundary_is_found_and_the_weakest_is_the_small_one() -> None:
    req = FIELD_ANALYSIS.action("requisition")
    amounts = {sa.scenario.rule_ids: sa.scenario.example.params["amount"] for sa in req.scenarios}
    assert amounts == {
        ("political-confirmation",): 1000,
        ("political-confirmation", "large-requisitions"): 1001,
    }
    weakest = req.weakest
    assert weakest is not None
    assert weakest.scenario.rule_ids == ("political-confirmation",)
    assert weakest.coalitions.size == 2


def test_granting_kim_political_officer_is_held_off_only_by_proposer_may_approve() -> None:
    # field-command sets proposer_may_approve: false, so kim cannot confirm his own
    # order: no solo power, but a warning that one setting is all that prevents it,
    # and a new pair of two commanders (jo proposes, kim confirms).
    granted = analyze(grants=(("kim", "political_officer"),))
    assert Severity.CRITICAL not in {f.severity for f in granted.findings}
    conflict = next(
        f for f in granted.findings if f.kind is FindingKind.DUTY_CONFLICT and f.people == ("kim",)
    )
    assert conflict.severity is Severity.WARNING
    assert "proposer_may_approve: false" in conflict.message
    move = combination(granted, "move", "political-confirmation")
    assert ("jo", "kim") in move.coalitions.listed


def test_granting_kim_political_officer_with_self_approval_creates_solo_power() -> None:
    granted = analyze(
        grants=(("kim", "political_officer"),), settings=(("proposer_may_approve", "true"),)
    )
    solo = [f for f in granted.findings if f.kind is FindingKind.SOLO_POWER]
    assert solo and all(f.severity is Severity.CRITICAL for f in solo)
    assert solo[0].people == ("kim",)
    assert {p.action for f in solo for p in f.places} >= {"move"}
    move = combination(granted, "move", "political-confirmation")
    assert move.coalitions.size == 1 and move.coalitions.listed == (("kim",),)


def test_without_pak_large_requisitions_deadlock_and_say_why() -> None:
    gone = analyze(without=("pak",))
    large = combination(gone, "requisition", "political-confirmation", "large-requisitions")
    assert large.coalitions.size is None
    assert large.deadlock is not None and "han" in large.deadlock
    deadlocks = [f for f in gone.findings if f.kind is FindingKind.DEADLOCK]
    assert [f.severity for f in deadlocks] == [Severity.WARNING]  # small ones still work
    assert combination(gone, "requisition", "political-confirmation").feasible


def test_without_both_political_officers_every_action_deadlocks_critically() -> None:
    gone = analyze(without=("pak", "han"))
    deadlocks = [f for f in gone.findings if f.kind is FindingKind.DEADLOCK]
    assert deadlocks and all(f.severity is Severity.CRITICAL for f in deadlocks)
    assert {p.action for f in deadlocks for p in f.places} == set(FIELD_POLICY.actions)


def test_change_control_combinations_and_counts() -> None:
    deploy = CHANGE_ANALYSIS.action("deploy")
    sizes = {
        sa.scenario.rule_ids: (sa.coalitions.size, sa.coalitions.total) for sa in deploy.scenarios
    }
    assert sizes == {
        ("staging-free",): (1, 3),
        ("prod-two-release-managers",): (3, 7),
        ("prod-two-release-managers", "auth-needs-security"): (4, 11),
    }
    weakest = deploy.weakest
    assert weakest is not None and weakest.scenario.example.params["environment"] == "staging"
    auth = combination(
        CHANGE_ANALYSIS, "deploy", "prod-two-release-managers", "auth-needs-security"
    )
    assert str(auth.scenario.example.params["service"]).startswith("auth")
    assert set(auth.blockers.vetoers) == {"eli", "fay"}
    (threshold,) = auth.blockers.thresholds
    assert threshold.denials == 2 and set(threshold.eligible) == {"ben", "cho", "dev"}


def test_change_control_findings() -> None:
    found = {(f.severity, f.kind, f.people) for f in CHANGE_ANALYSIS.findings}
    assert (Severity.WARNING, FindingKind.NO_CONFIRMATION, ("ana", "ben", "fay")) in found
    assert (Severity.WARNING, FindingKind.DUTY_CONFLICT, ("ben",)) in found
    assert (Severity.WARNING, FindingKind.DUTY_CONFLICT, ("fay",)) in found
    assert not kinds(CHANGE_ANALYSIS, Severity.CRITICAL)


def test_a_two_seat_rule_one_person_can_fill_is_a_pair_warning() -> None:
    # The seats ask for three distinct people (proposer + 2); with several seats per
    # person and self-approval, two suffice: the policy seems to intend more.
    pol = policy(
        """
        cosignatory: 1
        name: loose
        settings: {proposer_may_approve: true, one_seat_per_person: false}
        people:
          ann: {roles: [dev, lead]}
          bob: {roles: [dev, ops]}
          cy: {roles: [ops]}
        actions: {ship: {}}
        rules:
          - id: ship
            applies_to: ship
            proposers: [dev]
            require: [{role: lead}, {role: ops}]
        """
    )
    analysis = analyze_policy(pol, now=NOW)
    (pair,) = [f for f in analysis.findings if f.kind is FindingKind.PAIR]
    assert pair.severity is Severity.WARNING
    assert "3 distinct people" in pair.message
    assert "proposer_may_approve: true" in pair.message


def test_an_action_no_rule_covers_is_reported() -> None:
    pol = policy(
        """
        cosignatory: 1
        name: gap
        people: {ann: {roles: [dev]}, bob: {roles: [ops]}}
        actions: {ship: {}, nuke: {}}
        rules:
          - {id: ship, applies_to: ship, require: [{role: ops}]}
        """
    )
    analysis = analyze_policy(pol, now=NOW)
    (gap,) = [f for f in analysis.findings if f.kind is FindingKind.UNAUTHORIZED]
    assert gap.places[0].action == "nuke"
    assert "default deny" in gap.message


@pytest.mark.parametrize("analysis", [FIELD_ANALYSIS, CHANGE_ANALYSIS], ids=["field", "change"])
def test_json_is_stable_and_serializable(analysis: PolicyAnalysis) -> None:
    data = analysis.to_json()
    assert json.loads(json.dumps(data)) == data
    again = analyze_policy(
        FIELD_POLICY if analysis.policy == "field-command" else CHANGE_POLICY, now=NOW
    ).to_json()
    assert again == data  # the same policy, the same report
    assert set(data) == {"policy", "digest", "changes", "method", "summary", "findings", "actions"}
    assert "sampled, not proven" in data["method"]
    for action in data["actions"]:
        for combo in action["combinations"]:
            assert combo["min_coalition"]["size"] is None or combo["min_coalition"]["listed"]
