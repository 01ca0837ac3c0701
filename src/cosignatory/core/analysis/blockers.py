"""Who can stop a scenario: by absence (single points of failure), by one veto or deny,
and seats that can never be filled (deadlock), each with a reason a person can act on.

A person is a single point of failure when no coalition exists without them, i.e. they
are in every coalition; so only members of every listed minimum coalition are tested,
each by re-running feasibility on a roster without them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from cosignatory.core.analysis.coalitions import Coalitions
from cosignatory.core.analysis.roster import PersonType, person_types, pool_fill
from cosignatory.core.analysis.scenarios import Scenario
from cosignatory.core.policy.model import Person, Policy, Settings

__all__ = [
    "Blockers",
    "DenialThreshold",
    "SeatSupply",
    "blockers_of",
    "deadlock_reason",
    "feasible",
    "seat_supply",
]


@dataclass(frozen=True, kw_only=True)
class SeatSupply:
    role: str
    count: int
    holders: tuple[str, ...]

    @property
    def slack(self) -> int:
        """Holders beyond the count; 0 means every holder is needed, negative a deadlock."""
        return len(self.holders) - self.count


@dataclass(frozen=True, kw_only=True)
class DenialThreshold:
    rule: str
    denials: int  # `reject_after_denials`
    eligible: tuple[str, ...]  # people whose deny counts toward it


@dataclass(frozen=True, kw_only=True)
class Blockers:
    absence: tuple[str, ...]  # without any one of them the scenario cannot be approved
    vetoers: tuple[str, ...]  # one deny from any of them rejects (except on own proposals)
    thresholds: tuple[DenialThreshold, ...]

    @property
    def single_deny(self) -> tuple[str, ...]:
        """Everyone whose one deny rejects: vetoers, and deniers of a 1-denial threshold."""
        one = {p for t in self.thresholds if t.denials == 1 for p in t.eligible}
        return tuple(sorted(set(self.vetoers) | one))


def seat_supply(policy: Policy, scenario: Scenario) -> tuple[SeatSupply, ...]:
    return tuple(
        SeatSupply(role=r.role, count=r.count, holders=tuple(sorted(policy.holders(r.role))))
        for r in scenario.requirements
    )


def _feasible(
    scenario: Scenario, settings: Settings, types: Sequence[PersonType], counts: Sequence[int]
) -> bool:
    one_seat = settings.one_seat_per_person
    for t in sorted(range(len(types)), key=lambda t: len(types[t].seat_roles)):
        if not types[t].can_propose or counts[t] < 1:
            continue
        approvers = list(counts)
        if not settings.proposer_may_approve:
            approvers[t] -= 1  # the proposer may not approve their own order
        if pool_fill(scenario.requirements, types, approvers, one_seat_per_person=one_seat) == (
            scenario.slots
        ):
            return True
    return False


def feasible(people: Mapping[str, Person], scenario: Scenario, settings: Settings) -> bool:
    """Does any coalition exist? (the matching over person types, see `roster`)"""
    types = person_types(people, scenario)
    return _feasible(scenario, settings, types, [t.size for t in types])


def blockers_of(
    policy: Policy,
    scenario: Scenario,
    coalitions: Coalitions,
    types: Sequence[PersonType] | None = None,
) -> Blockers:
    people = policy.people
    absence: list[str] = []
    if coalitions.size is not None and coalitions.listed:
        # Only people in every listed coalition can be in every coalition. People of one
        # type are interchangeable: test the type once, with one of them gone.
        candidates = set(coalitions.listed[0]).intersection(*coalitions.listed[1:])
        types = types if types is not None else person_types(people, scenario)
        counts = [t.size for t in types]
        for t, pt in enumerate(types):
            if not candidates & set(pt.members):
                continue
            rest = list(counts)
            rest[t] -= 1
            if not _feasible(scenario, policy.settings, types, rest):
                absence.extend(pt.members)
    vetoers = tuple(sorted({p for role in scenario.veto_roles for p in policy.holders(role)}))
    thresholds = []
    for rid in scenario.rule_ids:
        rule = policy.rule(rid)
        if rule.reject_after_denials is None:
            continue
        roles = frozenset(r.role for r in rule.require)
        eligible = tuple(sorted({p for role in roles for p in policy.holders(role)}))
        thresholds.append(
            DenialThreshold(rule=rid, denials=rule.reject_after_denials, eligible=eligible)
        )
    return Blockers(absence=tuple(sorted(absence)), vetoers=vetoers, thresholds=tuple(thresholds))


def deadlock_reason(policy: Policy, scenario: Scenario) -> str:
    """Why no coalition exists for `scenario`, in one sentence."""
    if not scenario.proposers:
        needs = [
            f"`{rid}` needs {' or '.join(f'`{r}`' for r in sorted(rule.proposers))}"
            for rid in scenario.rule_ids
            if (rule := policy.rule(rid)).proposers is not None
        ]
        return (
            "nobody may propose it (" + "; ".join(needs) + ")" if needs else "nobody may propose it"
        )
    supply = seat_supply(policy, scenario)
    for seat in supply:
        if seat.slack < 0:
            wanted = f"{seat.count} {'person' if seat.count == 1 else 'people'}"
            if not seat.holders:
                return f"seat `{seat.role}` needs {wanted} but nobody holds it"
            who = ", ".join(f"`{p}`" for p in seat.holders)
            verb = "holds" if len(seat.holders) == 1 else "hold"
            return f"seat `{seat.role}` needs {wanted} but only {who} {verb} it"
    if policy.settings.one_seat_per_person:
        hall = _hall_violation(supply)
        if hall is not None:
            roles, need, holders = hall
            return (
                f"seats {' + '.join(f'`{r}`' for r in roles)} need {need} distinct people "
                f"but only {', '.join(f'`{p}`' for p in holders)} "
                f"{'holds' if len(holders) == 1 else 'hold'} these roles "
                "(one seat per person)"
            )
    proposers = ", ".join(f"`{p}`" for p in sorted(scenario.proposers))
    return (
        f"every person allowed to propose it ({proposers}) is needed to fill its seats, "
        "and proposers may not approve their own orders"
    )


def _hall_violation(
    supply: Sequence[SeatSupply],
) -> tuple[tuple[str, ...], int, tuple[str, ...]] | None:
    """The smallest set of seats with fewer distinct holders than slots, if any."""
    for k in range(2, len(supply) + 1):
        for group in combinations(supply, k):
            need = sum(s.count for s in group)
            holders = sorted({p for s in group for p in s.holders})
            if len(holders) < need:
                return tuple(s.role for s in group), need, tuple(holders)
    return None
