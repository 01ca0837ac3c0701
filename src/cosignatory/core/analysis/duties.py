"""Separation-of-duties conflicts: one person holding two roles that sit on the same order.

The roles on an order are the proposer roles of its matched rules, its seat roles and its
veto roles. Someone holding two of them wears two hats on one order; whether that weakens
the order depends on the settings, which we name so the reader sees what stands between
the conflict and a smaller coalition.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cosignatory.core.analysis.scenarios import Scenario
from cosignatory.core.policy.model import Policy

__all__ = ["Duty", "DutyConflict", "duty_conflicts"]


class Duty(StrEnum):
    PROPOSE = "propose"
    CONFIRM = "confirm"
    VETO = "veto"


@dataclass(frozen=True, kw_only=True)
class DutyConflict:
    """People holding the same two (or more) roles on one order, and what that allows."""

    people: tuple[str, ...]
    roles: tuple[str, ...]  # the roles they hold among those on the order
    duties: tuple[str, ...]  # e.g. ("propose as commander", "confirm as political_officer")
    weakens: bool  # the settings let the two hats shrink a coalition
    guard: str | None  # the setting that keeps them apart, when one does

    @property
    def proposes_and_confirms(self) -> bool:
        return any(d.startswith(Duty.PROPOSE) for d in self.duties) and any(
            d.startswith(Duty.CONFIRM) for d in self.duties
        )


def duty_conflicts(policy: Policy, scenario: Scenario) -> tuple[DutyConflict, ...]:
    proposer_roles = frozenset(
        role for rid in scenario.rule_ids for role in (policy.rule(rid).proposers or frozenset())
    )
    seat_roles = frozenset(r.role for r in scenario.requirements)
    on_order = proposer_roles | seat_roles | scenario.veto_roles
    settings = policy.settings
    grouped: dict[tuple[tuple[str, ...], tuple[str, ...], bool, str | None], list[str]] = {}
    hats: dict[str, int] = {}
    for role in on_order:
        for pid in policy.holders(role):
            hats[pid] = hats.get(pid, 0) + 1
    for pid in sorted(p for p, n in hats.items() if n >= 2):
        held = policy.people[pid].roles & on_order
        duties: list[str] = []
        proposes = pid in scenario.proposers and bool(held & proposer_roles)
        if proposes:
            duties.extend(f"{Duty.PROPOSE} as {r}" for r in sorted(held & proposer_roles))
        confirms = sorted(held & seat_roles)
        duties.extend(f"{Duty.CONFIRM} as {r}" for r in confirms)
        duties.extend(f"{Duty.VETO} as {r}" for r in sorted(held & scenario.veto_roles))
        if len(duties) < 2:
            continue
        if proposes and confirms:
            weakens = settings.proposer_may_approve
            guard = None if weakens else "proposer_may_approve: false"
        elif len(confirms) >= 2:
            weakens = not settings.one_seat_per_person
            guard = None if weakens else "one_seat_per_person: true"
        else:
            weakens, guard = False, None
        grouped.setdefault((tuple(sorted(held)), tuple(duties), weakens, guard), []).append(pid)
    return tuple(
        DutyConflict(people=tuple(people), roles=roles, duties=duties, weakens=weakens, guard=guard)
        for (roles, duties, weakens, guard), people in sorted(grouped.items())
    )
