"""What a policy change does, action by action: coalitions, solo power, blockers, findings.

Combinations of rules are matched by their rule ids; a renamed rule shows as one
combination removed and one added, which is what a reviewer should look at anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cosignatory.core.analysis.findings import Finding, Place, Severity
from cosignatory.core.analysis.report import PolicyAnalysis
from cosignatory.core.analysis.results import ActionAnalysis, ScenarioAnalysis

__all__ = ["ActionDiff", "Change", "CombinationDiff", "PolicyDiff", "diff_analyses"]


class Change(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    SAME = "same"


def _solo(sa: ScenarioAnalysis | None) -> frozenset[str]:
    if sa is None or sa.coalitions.size != 1:
        return frozenset()
    return frozenset(g[0] for g in sa.coalitions.listed)


@dataclass(frozen=True, kw_only=True)
class CombinationDiff:
    rules: tuple[str, ...]
    change: Change
    old_size: int | None
    new_size: int | None
    solo_gained: tuple[str, ...]
    solo_lost: tuple[str, ...]
    blockers_gained: tuple[str, ...]  # new single points of failure
    blockers_lost: tuple[str, ...]
    single_deny_gained: tuple[str, ...]  # people whose one deny now rejects it
    single_deny_lost: tuple[str, ...]

    @property
    def weaker(self) -> bool:
        """Fewer people can now approve it (or it became reachable with fewer)."""
        if self.new_size is None:
            return False
        return self.old_size is None or self.new_size < self.old_size

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": list(self.rules),
            "change": self.change.value,
            "min_coalition": {"old": self.old_size, "new": self.new_size},
            "solo_power": {"gained": list(self.solo_gained), "lost": list(self.solo_lost)},
            "single_points_of_failure": {
                "gained": list(self.blockers_gained),
                "lost": list(self.blockers_lost),
            },
            "single_deny": {
                "gained": list(self.single_deny_gained),
                "lost": list(self.single_deny_lost),
            },
        }


def _combination(
    rules: tuple[str, ...], old: ScenarioAnalysis | None, new: ScenarioAnalysis | None
) -> CombinationDiff:
    def people(sa: ScenarioAnalysis | None, field: str) -> frozenset[str]:
        if sa is None:
            return frozenset()
        return frozenset(getattr(sa.blockers, field))

    old_size = old.coalitions.size if old else None
    new_size = new.coalitions.size if new else None
    diffs = {
        "solo": (_solo(new) - _solo(old), _solo(old) - _solo(new)),
        "absence": (
            people(new, "absence") - people(old, "absence"),
            people(old, "absence") - people(new, "absence"),
        ),
        "single_deny": (
            people(new, "single_deny") - people(old, "single_deny"),
            people(old, "single_deny") - people(new, "single_deny"),
        ),
    }
    if old is None:
        change = Change.ADDED
    elif new is None:
        change = Change.REMOVED
    elif old_size != new_size or any(a or b for a, b in diffs.values()):
        change = Change.CHANGED
    else:
        change = Change.SAME
    return CombinationDiff(
        rules=rules,
        change=change,
        old_size=old_size,
        new_size=new_size,
        solo_gained=tuple(sorted(diffs["solo"][0])),
        solo_lost=tuple(sorted(diffs["solo"][1])),
        blockers_gained=tuple(sorted(diffs["absence"][0])),
        blockers_lost=tuple(sorted(diffs["absence"][1])),
        single_deny_gained=tuple(sorted(diffs["single_deny"][0])),
        single_deny_lost=tuple(sorted(diffs["single_deny"][1])),
    )


@dataclass(frozen=True, kw_only=True)
class ActionDiff:
    action: str
    change: Change
    old_weakest: int | None
    new_weakest: int | None
    combinations: tuple[CombinationDiff, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "change": self.change.value,
            "weakest_min_coalition": {"old": self.old_weakest, "new": self.new_weakest},
            "combinations": [c.to_json() for c in self.combinations if c.change is not Change.SAME],
        }


def _action(name: str, old: ActionAnalysis | None, new: ActionAnalysis | None) -> ActionDiff:
    def by_rules(a: ActionAnalysis | None) -> Mapping[tuple[str, ...], ScenarioAnalysis]:
        return {s.scenario.rule_ids: s for s in a.scenarios} if a else {}

    olds, news = by_rules(old), by_rules(new)
    keys = sorted(set(olds) | set(news))
    combos = tuple(_combination(k, olds.get(k), news.get(k)) for k in keys)

    def weakest(a: ActionAnalysis | None) -> int | None:
        w = a.weakest if a else None
        return w.coalitions.size if w else None

    if old is None:
        change = Change.ADDED
    elif new is None:
        change = Change.REMOVED
    elif any(c.change is not Change.SAME for c in combos):
        change = Change.CHANGED
    else:
        change = Change.SAME
    return ActionDiff(
        action=name,
        change=change,
        old_weakest=weakest(old),
        new_weakest=weakest(new),
        combinations=combos,
    )


_FindingAt = tuple[Severity, str, tuple[str, ...], str, Place]


def _flat(findings: tuple[Finding, ...]) -> set[_FindingAt]:
    return {(f.severity, f.kind.value, f.people, f.message, p) for f in findings for p in f.places}


def _regroup(items: set[_FindingAt], source: tuple[Finding, ...]) -> tuple[Finding, ...]:
    out = []
    for f in source:
        places = tuple(
            p for p in f.places if (f.severity, f.kind.value, f.people, f.message, p) in items
        )
        if places:
            out.append(
                Finding(
                    severity=f.severity,
                    kind=f.kind,
                    people=f.people,
                    message=f.message,
                    places=places,
                )
            )
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class PolicyDiff:
    old: PolicyAnalysis
    new: PolicyAnalysis
    actions: tuple[ActionDiff, ...]
    findings_added: tuple[Finding, ...]
    findings_removed: tuple[Finding, ...]

    def added_at_least(self, severity: Severity) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings_added if f.severity.rank <= severity.rank)

    def to_json(self) -> dict[str, Any]:
        return {
            "old": {"policy": self.old.policy, "digest": self.old.digest},
            "new": {"policy": self.new.policy, "digest": self.new.digest},
            "actions": [a.to_json() for a in self.actions if a.change is not Change.SAME],
            "unchanged_actions": [a.action for a in self.actions if a.change is Change.SAME],
            "findings": {
                "added": [f.to_json() for f in self.findings_added],
                "removed": [f.to_json() for f in self.findings_removed],
            },
        }


def diff_analyses(old: PolicyAnalysis, new: PolicyAnalysis) -> PolicyDiff:
    olds = {a.action: a for a in old.actions}
    news = {a.action: a for a in new.actions}
    actions = tuple(_action(n, olds.get(n), news.get(n)) for n in sorted(set(olds) | set(news)))
    before, after = _flat(old.findings), _flat(new.findings)
    return PolicyDiff(
        old=old,
        new=new,
        actions=actions,
        findings_added=_regroup(after - before, new.findings),
        findings_removed=_regroup(before - after, old.findings),
    )
