"""What-if edits and `diff_analyses`: what a policy change does, action by action."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cosignatory.core.analysis import (
    FindingKind,
    Severity,
    WhatIf,
    analyze_policy,
    apply_whatif,
    diff_analyses,
)
from cosignatory.core.analysis.diff import Change
from cosignatory.core.analysis.whatif import grant, parse_assignment, set_setting, without
from cosignatory.core.errors import InputError

from .support import FIELD, NOW, example

FIELD_POLICY = example(FIELD)


def test_edits_return_new_policies_and_leave_the_original_alone() -> None:
    granted, note = grant(FIELD_POLICY, "kim", "political_officer")
    assert "political_officer" in granted.people["kim"].roles
    assert "political_officer" not in FIELD_POLICY.people["kim"].roles
    assert note == "`kim` granted `political_officer`"
    assert "kim" in granted.holders("political_officer")

    gone, note = without(FIELD_POLICY, ["pak", "han"])
    assert set(gone.people) == set(FIELD_POLICY.people) - {"pak", "han"}
    assert note == "without `pak`, `han`"

    relaxed, note = set_setting(FIELD_POLICY, "ttl", "90m")
    assert relaxed.settings.ttl == timedelta(minutes=90) and note == "ttl: 1h30m"

    edited, changes = apply_whatif(
        FIELD_POLICY,
        WhatIf(
            without=("ri",),
            grants=(("choe", "logistics"),),
            settings=(("one_seat_per_person", "false"),),
        ),
    )
    assert changes == ("one_seat_per_person: false", "`choe` granted `logistics`", "without `ri`")
    assert not edited.settings.one_seat_per_person and "ri" not in edited.people


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: grant(FIELD_POLICY, "kimm", "commander"), "did you mean `kim`"),
        (lambda: grant(FIELD_POLICY, "kim", "general"), "unknown role `general`"),
        (lambda: grant(FIELD_POLICY, "kim", "commander"), "already holds"),
        (lambda: without(FIELD_POLICY, ["nobody"]), "unknown person `nobody`"),
        (lambda: set_setting(FIELD_POLICY, "proposer_may_aprove", "true"), "did you mean"),
        (lambda: set_setting(FIELD_POLICY, "one_seat_per_person", "yes"), "`true` or `false`"),
        (lambda: set_setting(FIELD_POLICY, "ttl", "soon"), "not a duration"),
        (lambda: parse_assignment("kim", "--grant"), "NAME=VALUE"),
    ],
)
def test_bad_edits_are_input_errors_that_say_what_to_do(call, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call()


def test_diff_of_a_grant_shows_the_new_solo_power_action_by_action() -> None:
    old = analyze_policy(FIELD_POLICY, now=NOW)
    edited, changes = apply_whatif(
        FIELD_POLICY,
        WhatIf(
            grants=(("kim", "political_officer"),), settings=(("proposer_may_approve", "true"),)
        ),
    )
    new = analyze_policy(edited, now=NOW, changes=changes)
    diff = diff_analyses(old, new)

    move = next(a for a in diff.actions if a.action == "move")
    assert move.change is Change.CHANGED
    assert (move.old_weakest, move.new_weakest) == (2, 1)
    (combo,) = move.combinations
    assert combo.solo_gained == ("kim",) and combo.weaker
    added = diff.added_at_least(Severity.CRITICAL)
    assert added and all(f.kind is FindingKind.SOLO_POWER for f in added)
    assert diff.to_json()["findings"]["added"]


def test_diff_of_a_removal_shows_new_blockers_and_a_deadlock() -> None:
    old = analyze_policy(FIELD_POLICY, now=NOW)
    edited, _ = apply_whatif(FIELD_POLICY, WhatIf(without=("pak",)))
    diff = diff_analyses(old, analyze_policy(edited, now=NOW))
    move = next(a for a in diff.actions if a.action == "move")
    (combo,) = move.combinations
    assert combo.blockers_gained == ("han",)  # the last political officer
    req = next(a for a in diff.actions if a.action == "requisition")
    large = next(c for c in req.combinations if "large-requisitions" in c.rules)
    assert (large.old_size, large.new_size) == (3, None)  # deadlock now
    assert any(f.kind is FindingKind.DEADLOCK for f in diff.findings_added)


def test_diff_of_a_policy_with_itself_is_empty() -> None:
    a = analyze_policy(FIELD_POLICY, now=NOW)
    diff = diff_analyses(a, a)
    assert all(x.change is Change.SAME for x in diff.actions)
    assert not diff.findings_added and not diff.findings_removed
    assert diff.to_json()["actions"] == []
