"""What the analysis of one action found: per combination of rules, and the weakest one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cosignatory.core.analysis.blockers import Blockers, SeatSupply
from cosignatory.core.analysis.coalitions import Coalitions
from cosignatory.core.analysis.duties import DutyConflict
from cosignatory.core.analysis.scenarios import Exploration, Scenario

__all__ = ["ActionAnalysis", "ScenarioAnalysis"]


@dataclass(frozen=True, kw_only=True)
class ScenarioAnalysis:
    scenario: Scenario
    coalitions: Coalitions
    blockers: Blockers
    seats: tuple[SeatSupply, ...]
    conflicts: tuple[DutyConflict, ...]
    deadlock: str | None  # why no coalition exists, when none does

    @property
    def intended_size(self) -> int:
        """What the seats ask for: a proposer plus one distinct person per slot."""
        return 1 + self.scenario.slots

    @property
    def feasible(self) -> bool:
        return self.coalitions.size is not None

    def strength(self) -> tuple[int, int, int]:
        """Sort key, weakest first: fewest people, fewest slots, most coalitions."""
        size = self.coalitions.size if self.coalitions.size is not None else 1 << 30
        return (size, self.scenario.slots, -(self.coalitions.total or 0))

    def to_json(self) -> dict[str, Any]:
        s, c, b = self.scenario, self.coalitions, self.blockers
        return {
            "rules": list(s.rule_ids),
            "requirements": [{"role": r.role, "count": r.count} for r in s.requirements],
            "veto_roles": sorted(s.veto_roles),
            "proposers": sorted(s.proposers),
            "example_order": s.example.to_json(),
            "approvable": self.feasible,
            "deadlock": self.deadlock,
            "min_coalition": {
                "size": c.size,
                "intended_size": self.intended_size,
                "total": c.total,
                "exact": c.exact,
                "truncated": c.truncated,
                "listed": [list(g) for g in c.listed],
            },
            "blockers": {
                "absence": list(b.absence),
                "veto": list(b.vetoers),
                "single_deny": list(b.single_deny),
                "denial_thresholds": [
                    {"rule": t.rule, "denials": t.denials, "eligible": list(t.eligible)}
                    for t in b.thresholds
                ],
            },
            "seats": [
                {"role": x.role, "count": x.count, "holders": list(x.holders), "slack": x.slack}
                for x in self.seats
            ],
            "duty_conflicts": [
                {
                    "people": list(d.people),
                    "roles": list(d.roles),
                    "duties": list(d.duties),
                    "weakens": d.weakens,
                    "guard": d.guard,
                }
                for d in self.conflicts
            ],
        }


@dataclass(frozen=True, kw_only=True)
class ActionAnalysis:
    action: str
    exploration: Exploration
    scenarios: tuple[ScenarioAnalysis, ...]

    @property
    def weakest(self) -> ScenarioAnalysis | None:
        """The approvable combination an insider would pick: the fewest people needed."""
        feasible = [s for s in self.scenarios if s.feasible]
        return min(feasible, key=ScenarioAnalysis.strength) if feasible else None

    def to_json(self) -> dict[str, Any]:
        e, weakest = self.exploration, self.weakest
        return {
            "action": self.action,
            "sampling": {
                "applicable_rules": e.applicable_rules,
                "orders_tried": e.orders_tried,
                "exhaustive_over_candidates": e.exhaustive,
                "refusals": dict(e.refusals),
                "condition_errors": list(e.condition_errors),
                "notes": list(e.notes),
            },
            "weakest": None
            if weakest is None
            else {
                "rules": list(weakest.scenario.rule_ids),
                "min_coalition_size": weakest.coalitions.size,
                "example_order": weakest.scenario.example.to_json(),
            },
            "combinations": [s.to_json() for s in self.scenarios],
        }
