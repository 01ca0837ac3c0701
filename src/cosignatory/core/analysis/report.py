"""`analyze_policy`: every action, every combination of rules it can match, and findings.

Which combinations exist is *sampled* (generated orders through the engine); what each
combination needs — minimum coalitions, blockers, deadlocks, duty conflicts — is then
computed exactly (up to the listing cap and search budget, which the result reports).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from cosignatory.core.analysis.blockers import blockers_of, deadlock_reason, seat_supply
from cosignatory.core.analysis.coalitions import (
    DEFAULT_CAP,
    DEFAULT_SEARCH_BUDGET,
    minimum_coalitions,
)
from cosignatory.core.analysis.duties import duty_conflicts
from cosignatory.core.analysis.findings import Finding, Severity, collect_findings
from cosignatory.core.analysis.results import ActionAnalysis, ScenarioAnalysis
from cosignatory.core.analysis.roster import person_types
from cosignatory.core.analysis.scenarios import DEFAULT_MAX_ORDERS, Scenario, explore_action
from cosignatory.core.policy.model import Policy

__all__ = ["METHOD", "PolicyAnalysis", "analyze_policy", "analyze_scenario"]

METHOD: Final = (
    "rule combinations are sampled, not proven: orders are generated from the param schema "
    "and the literals in conditions, then matched by the engine; for each combination found, "
    "coalitions, blockers and deadlocks are exact (engine matching, up to the listing cap)"
)


@dataclass(frozen=True, kw_only=True)
class PolicyAnalysis:
    policy: str
    digest: str
    changes: tuple[str, ...]  # what-if edits applied before the analysis
    actions: tuple[ActionAnalysis, ...]
    findings: tuple[Finding, ...]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def action(self, name: str) -> ActionAnalysis:
        for a in self.actions:
            if a.action == name:
                return a
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "digest": self.digest,
            "changes": list(self.changes),
            "method": METHOD,
            "summary": {s.value: self.count(s) for s in Severity},
            "findings": [f.to_json() for f in self.findings],
            "actions": [a.to_json() for a in self.actions],
        }


def analyze_scenario(
    policy: Policy,
    scenario: Scenario,
    *,
    cap: int = DEFAULT_CAP,
    budget: int = DEFAULT_SEARCH_BUDGET,
) -> ScenarioAnalysis:
    types = person_types(policy.people, scenario)
    coalitions = minimum_coalitions(
        policy.people, scenario, policy.settings, cap=cap, budget=budget, types=types
    )
    deadlock = None
    if coalitions.size is None and coalitions.exact:
        deadlock = deadlock_reason(policy, scenario)
    return ScenarioAnalysis(
        scenario=scenario,
        coalitions=coalitions,
        blockers=blockers_of(policy, scenario, coalitions, types),
        seats=seat_supply(policy, scenario),
        conflicts=duty_conflicts(policy, scenario),
        deadlock=deadlock,
    )


def analyze_policy(
    policy: Policy,
    *,
    now: datetime,
    cap: int = DEFAULT_CAP,
    max_orders: int = DEFAULT_MAX_ORDERS,
    budget: int = DEFAULT_SEARCH_BUDGET,
    changes: tuple[str, ...] = (),
) -> PolicyAnalysis:
    """Analyze every action of `policy`; `now` is the instant conditions are sampled at."""
    if cap < 1:
        raise ValueError(f"the coalition cap must be at least 1, got {cap}")
    actions = []
    for name in sorted(policy.actions):
        exploration = explore_action(policy, name, now, max_orders=max_orders)
        scenarios = tuple(
            analyze_scenario(policy, s, cap=cap, budget=budget) for s in exploration.scenarios
        )
        actions.append(ActionAnalysis(action=name, exploration=exploration, scenarios=scenarios))
    return PolicyAnalysis(
        policy=policy.name,
        digest=policy.digest,
        changes=changes,
        actions=tuple(actions),
        findings=collect_findings(actions, policy.settings),
    )
