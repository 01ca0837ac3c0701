"""Minimum coalitions and blockers equal exhaustive search through the engine (hypothesis).

Random small policies: up to 6 people, 3 roles, 1–3 rules with proposers, seats, vetoes
and denial thresholds, both settings flipped. The oracle tries every subset of the
roster with `evaluate()`, so agreement means the analysis has the engine's semantics.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from cosignatory.core.analysis import analyze_policy, explore_action, minimum_coalitions
from cosignatory.core.analysis.blockers import blockers_of
from cosignatory.core.analysis.coalitions import is_coalition
from cosignatory.core.policy import OrderInput, Policy

from .support import (
    NOW,
    brute_absence_blockers,
    brute_minimum,
    brute_single_deny,
    small_policies,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_policies())
def test_minimum_coalitions_and_blockers_equal_exhaustive_search(pol: Policy) -> None:
    exploration = explore_action(pol, "act", NOW)
    assert len(exploration.scenarios) == 1  # no conditions: every rule matches
    scenario = exploration.scenarios[0]
    template = OrderInput(action="act", params={}, proposer=min(pol.people))

    result = minimum_coalitions(pol.people, scenario, pol.settings, cap=1000)
    size, groups = brute_minimum(pol, template)
    assert result.exact
    assert result.size == size
    assert sorted(result.listed) == sorted(groups)
    assert result.total == len(groups)

    blockers = blockers_of(pol, scenario, result)
    assert list(blockers.absence) == brute_absence_blockers(pol, template)

    for proposer in sorted(scenario.proposers):
        expected = brute_single_deny(pol, template, proposer)
        got = set(blockers.single_deny)
        if not pol.settings.proposer_may_approve:
            got.discard(proposer)  # the engine ignores a proposer's review of their own order
        assert sorted(got) == expected, proposer


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_policies())
def test_every_listed_coalition_is_minimal_and_approved_by_the_engine(pol: Policy) -> None:
    analysis = analyze_policy(pol, now=NOW, cap=5)
    for sa in analysis.action("act").scenarios:
        for group in sa.coalitions.listed:
            assert is_coalition(pol.people, sa.scenario, pol.settings, group)
            for i in range(len(group)):
                smaller = group[:i] + group[i + 1 :]
                assert not is_coalition(pol.people, sa.scenario, pol.settings, smaller)
        if sa.coalitions.size is None:
            assert sa.deadlock  # an unapprovable combination always says why


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_policies())
def test_a_cut_search_keeps_the_exact_size_with_one_seat_per_person(pol: Policy) -> None:
    # A budget of a few nodes cuts the enumeration; the matroid bound still gives the size.
    scenario = explore_action(pol, "act", NOW).scenarios[0]
    template = OrderInput(action="act", params={}, proposer=min(pol.people))
    size, groups = brute_minimum(pol, template)
    result = minimum_coalitions(pol.people, scenario, pol.settings, cap=3, budget=2)
    if pol.settings.one_seat_per_person or result.exact:
        assert result.size == size
    elif result.size is not None and size is not None:
        assert result.size >= size  # an upper bound, and it says so
    assert set(result.listed) <= set(groups) or not result.exact
    assert result.total is None or result.total == len(groups)
