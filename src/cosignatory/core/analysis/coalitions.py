"""Minimum coalitions: the smallest sets of people (proposer included) who can get an
order of a scenario approved on their own.

A coalition is a proposer allowed to propose the scenario plus approvers who fill every
seat (the proposer counts as an approver only under `proposer_may_approve`). Every
minimum coalition is a *minimal* approver set A with a proposer added (or A itself when
it already holds an allowed proposer and self-approval is allowed), so we enumerate the
minimal approver sets, by person type (`roster`), in non-decreasing type order where
each added person fills one more slot — a set all of whose prefixes grow is exactly a
basis of the transversal matroid (one seat per person), or a candidate cover checked for
redundancy (several seats per person). The search stops after `budget` nodes; then the
size is still exact when one seat per person applies (it is S or S+1, decided by the
engine's matching), but the count is unknown.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from cosignatory.core.analysis.roster import HallFill, PersonType, engine_fill, person_types
from cosignatory.core.analysis.scenarios import Scenario
from cosignatory.core.policy.model import Person, Settings

__all__ = ["DEFAULT_CAP", "DEFAULT_SEARCH_BUDGET", "Coalitions", "is_coalition", "minimum_coalitions"]

DEFAULT_CAP: Final = 10
DEFAULT_SEARCH_BUDGET: Final = 4000


@dataclass(frozen=True, kw_only=True)
class Coalitions:
    """Minimum coalitions of one scenario; `size` None means no coalition exists at all."""

    size: int | None
    listed: tuple[tuple[str, ...], ...]  # up to the cap, each sorted, in sorted order
    total: int | None  # how many minimum coalitions exist; None when the search was cut
    exact: bool  # `size` is proven minimal (the search finished or the matroid bound holds)

    @property
    def truncated(self) -> bool:
        return self.total is None or self.total > len(self.listed)


def is_coalition(
    people: Mapping[str, Person], scenario: Scenario, settings: Settings, group: Sequence[str]
) -> bool:
    """Can `group` alone get an order of `scenario` approved? (engine matching; the oracle)."""
    seat = frozenset(r.role for r in scenario.requirements)
    for proposer in group:
        if proposer not in scenario.proposers:
            continue
        approvers = [people[p].roles & seat for p in group
                     if p != proposer or settings.proposer_may_approve]
        filled = engine_fill(scenario.requirements, approvers,
                             one_seat_per_person=settings.one_seat_per_person)
        if filled == scenario.slots:
            return True
    return False


@dataclass
class _Search:
    types: Sequence[PersonType]
    fill: HallFill
    cap_per_type: list[int]
    budget: int
    limit: float = math.inf  # largest approver set still worth finding
    nodes: int = 0
    cut: bool = False

    def covers(self) -> Iterator[tuple[int, ...]]:
        """Approver type-count vectors whose every prefix fills one more slot."""
        counts = [0] * len(self.types)
        yield from self._dfs(0, counts, 0, self.fill.filled())

    def _dfs(self, start: int, counts: list[int], size: int, filled: int) -> Iterator[tuple[int, ...]]:
        self.nodes += 1
        if self.nodes > self.budget:
            self.cut = True
            return
        if filled == self.fill.slots:
            yield tuple(counts)
            return
        if size + self.fill.lower_bound() > self.limit:
            return
        for t in range(start, len(self.types)):
            if counts[t] >= self.cap_per_type[t] or not self.types[t].seat_roles:
                continue
            counts[t] += 1
            self.fill.add(t)
            grown = self.fill.filled()
            if grown > filled:
                yield from self._dfs(t, counts, size + 1, grown)
            self.fill.add(t, -1)
            counts[t] -= 1
            if self.cut:
                return


def _minimal(vector: tuple[int, ...], types: Sequence[PersonType], scenario: Scenario,
             one_seat: bool) -> bool:
    """No single approver of `vector` is redundant."""
    members = [types[t].seat_roles for t, n in enumerate(vector) for _ in range(n)]
    for i in range(len(members)):
        rest = members[:i] + members[i + 1 :]
        if engine_fill(scenario.requirements, rest, one_seat_per_person=one_seat) == scenario.slots:
            return False
    return True


def _expand(vector: tuple[int, ...], types: Sequence[PersonType]) -> Iterator[tuple[str, ...]]:
    pools = [itertools.combinations(types[t].members, n) for t, n in enumerate(vector) if n]
    for parts in itertools.product(*pools):
        yield tuple(sorted(p for part in parts for p in part))


def minimum_coalitions(
    people: Mapping[str, Person],
    scenario: Scenario,
    settings: Settings,
    *,
    cap: int = DEFAULT_CAP,
    budget: int = DEFAULT_SEARCH_BUDGET,
) -> Coalitions:
    types = person_types(people, scenario)
    proposer_types = [t for t, pt in enumerate(types) if pt.can_propose]
    if not proposer_types:
        return Coalitions(size=None, listed=(), total=0, exact=True)
    if scenario.slots == 0:
        proposers = sorted(scenario.proposers)
        return Coalitions(size=1, listed=tuple((p,) for p in proposers[:cap]),
                          total=len(proposers), exact=True)

    one_seat = settings.one_seat_per_person
    pma = settings.proposer_may_approve
    fill = HallFill(scenario.requirements, types, one_seat_per_person=one_seat)
    search = _Search(types=types, fill=fill, budget=budget,
                     cap_per_type=[min(t.size, scenario.slots) for t in types])
    best: float = math.inf
    found: dict[tuple[int, ...], None] = {}
    for cover in search.covers():
        if not one_seat and not _minimal(cover, types, scenario, one_seat):
            continue
        for coalition in _coalitions_of(cover, types, proposer_types, pma):
            size = sum(coalition)
            if size < best:
                best, found = size, {}
                search.limit = size  # an approver set larger than a coalition is useless
            if size == best:
                found[coalition] = None
    exact = not search.cut
    if search.cut and one_seat:
        best, exact = _matroid_size(types, scenario, settings, proposer_types), True
        found = {v: None for v in found if sum(v) == best}
    if best == math.inf:
        return Coalitions(size=None, listed=(), total=0 if exact else None, exact=exact)

    listed: list[tuple[str, ...]] = []
    ordered = sorted(found, key=lambda v: next(_expand(v, types)))
    for vector in ordered:
        listed.extend(itertools.islice(_expand(vector, types), cap - len(listed)))
        if len(listed) >= cap:
            break
    listed.sort()
    for group in listed:  # the engine's matching must agree with the search
        if not is_coalition(people, scenario, settings, group):
            raise RuntimeError(f"coalition search disagrees with the engine on {group}")
    total = None
    if not search.cut:
        total = sum(math.prod(math.comb(types[t].size, n) for t, n in enumerate(v)) for v in found)
    return Coalitions(size=int(best), listed=tuple(listed), total=total, exact=exact)


def _coalitions_of(cover: tuple[int, ...], types: Sequence[PersonType],
                   proposer_types: Sequence[int], pma: bool) -> Iterator[tuple[int, ...]]:
    """Type-count vectors of the coalitions built on the approver set `cover`."""
    if pma and any(cover[t] for t in proposer_types):
        yield cover  # a member proposes and approves: no one else needed
    for t in proposer_types:
        if cover[t] < types[t].size:
            yield tuple(n + (1 if i == t else 0) for i, n in enumerate(cover))


def _matroid_size(types: Sequence[PersonType], scenario: Scenario, settings: Settings,
                  proposer_types: Sequence[int]) -> float:
    """With one seat per person a minimum coalition has S or S+1 people; decide which."""
    slots, reqs = scenario.slots, scenario.requirements
    pool = [t.seat_roles for t in types for _ in range(min(t.size, slots + 1))]
    everyone = engine_fill(reqs, pool, one_seat_per_person=True)
    if everyone < slots:
        return math.inf
    best = math.inf
    for t in proposer_types:
        mine = types[t].seat_roles
        others = list(pool)
        if mine:
            others.remove(mine)
        if settings.proposer_may_approve and mine:
            for role in sorted(mine):  # can the proposer hold a seat in a full matching?
                rest = tuple(r if r.role != role else type(r)(role=role, count=r.count - 1)
                             for r in reqs)
                rest = tuple(r for r in rest if r.count > 0)
                if engine_fill(rest, others, one_seat_per_person=True) == slots - 1:
                    return slots
        if engine_fill(reqs, others, one_seat_per_person=True) == slots:
            best = slots + 1
    return best
