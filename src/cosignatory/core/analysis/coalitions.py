"""Minimum coalitions: the smallest sets of people (proposer included) who can get an
order of a scenario approved on their own.

A coalition is a proposer allowed to propose the scenario plus approvers who fill every
seat (the proposer counts as an approver only under `proposer_may_approve`). Every
minimum coalition is a *minimal* approver set with a proposer added, or the approver set
itself when it holds an allowed proposer and self-approval is allowed.

Size. With one seat per person, matchable sets form a (transversal) matroid: every
minimal approver set has exactly S people (S = slots), and any person holding a seat
role belongs to some full matching; so the minimum is S, S+1 or none, decided with a
few matchings over the whole pool. With several seats per person it is a set
multicover, found by branch and bound.

Listing and counting. A depth-first search over person types in non-decreasing order,
where each added person must fill one more slot, yields exactly the minimal approver
sets (bases). It stops after `budget` nodes, or once `cap` coalitions are listed when an
upper bound shows there are too many to count; then `total` is None.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from cosignatory.core.analysis.roster import (
    PersonType,
    TypeMatcher,
    engine_fill,
    person_types,
    pool_fill,
)
from cosignatory.core.analysis.scenarios import Scenario
from cosignatory.core.policy.model import Person, Settings

__all__ = [
    "DEFAULT_CAP",
    "DEFAULT_SEARCH_BUDGET",
    "Coalitions",
    "is_coalition",
    "minimum_coalitions",
]

DEFAULT_CAP: Final = 10
DEFAULT_SEARCH_BUDGET: Final = 4000


@dataclass(frozen=True, kw_only=True)
class Coalitions:
    """Minimum coalitions of one scenario; `size` None means no coalition exists at all."""

    size: int | None
    listed: tuple[tuple[str, ...], ...]  # up to the cap, each sorted, in sorted order
    total: int | None  # how many minimum coalitions exist; None when not counted
    exact: bool  # `size` is proven minimal

    @property
    def truncated(self) -> bool:
        return self.total is None or self.total > len(self.listed)


def is_coalition(
    people: Mapping[str, Person], scenario: Scenario, settings: Settings, group: Sequence[str]
) -> bool:
    """Can `group` alone get an order of `scenario` approved? (the engine's matching)"""
    seat = frozenset(r.role for r in scenario.requirements)
    for proposer in group:
        if proposer not in scenario.proposers:
            continue
        approvers = [
            people[p].roles & seat for p in group if p != proposer or settings.proposer_may_approve
        ]
        filled = engine_fill(
            scenario.requirements, approvers, one_seat_per_person=settings.one_seat_per_person
        )
        if filled == scenario.slots:
            return True
    return False


def _matroid_size(
    types: Sequence[PersonType], scenario: Scenario, settings: Settings, proposers: Sequence[int]
) -> int | None:
    """With one seat per person a minimum coalition has S or S+1 people, or none exists."""
    reqs, slots = scenario.requirements, scenario.slots
    counts = [t.size for t in types]
    if pool_fill(reqs, types, counts, one_seat_per_person=True) < slots:
        return None
    if settings.proposer_may_approve:
        # Every person with a seat role lies in some full matching (matroid: no loops).
        return slots if any(types[t].seat_roles for t in proposers) else slots + 1
    for t in sorted(proposers, key=lambda t: len(types[t].seat_roles)):
        if not types[t].seat_roles:
            return slots + 1  # the proposer takes nobody's seat
        rest = list(counts)
        rest[t] -= 1
        if pool_fill(reqs, types, rest, one_seat_per_person=True) == slots:
            return slots + 1
    return None


@dataclass
class _Search:
    types: Sequence[PersonType]
    matcher: TypeMatcher
    cap_per_type: list[int]
    budget: int
    limit: float  # largest approver set still worth finding
    nodes: int = 0
    cut: bool = False
    stop: bool = False  # set from outside: enough found

    def covers(self) -> Iterator[tuple[int, ...]]:
        """Approver type-count vectors whose every prefix fills one more slot."""
        counts = [0] * len(self.types)
        yield from self._dfs(0, counts, 0)

    def _lower_bound(self) -> int:
        m = self.matcher
        if m.one_seat:
            return m.slots - m.filled
        return max((c - load for c, load in zip(m.capacity, m.load, strict=True)), default=0)

    def _dfs(self, start: int, counts: list[int], size: int) -> Iterator[tuple[int, ...]]:
        self.nodes += 1
        if self.nodes > self.budget:
            self.cut = True
            return
        if self.matcher.filled == self.matcher.slots:
            yield tuple(counts)
            return
        if size + self._lower_bound() > self.limit:
            return
        for t in range(start, len(self.types)):
            if counts[t] >= self.cap_per_type[t] or not self.matcher.type_roles[t]:
                continue
            if not self.matcher.offer(t):
                continue
            counts[t] += 1
            yield from self._dfs(t, counts, size + 1)
            counts[t] -= 1
            self.matcher.undo()
            if self.cut or self.stop:
                return


def _minimal(vector: tuple[int, ...], types: Sequence[PersonType], scenario: Scenario) -> bool:
    """No single approver of `vector` is redundant (several seats per person)."""
    for t, n in enumerate(vector):
        if n:
            rest = list(vector)
            rest[t] -= 1
            if pool_fill(scenario.requirements, types, rest, one_seat_per_person=False) == (
                scenario.slots
            ):
                return False
    return True


def _coalitions_of(
    cover: tuple[int, ...], types: Sequence[PersonType], proposers: Sequence[int], pma: bool
) -> Iterator[tuple[int, ...]]:
    """Type-count vectors of the coalitions built on the approver set `cover`."""
    if pma and any(cover[t] for t in proposers):
        yield cover  # a member proposes and approves: no one else needed
    for t in proposers:
        if cover[t] < types[t].size:
            yield tuple(n + (1 if i == t else 0) for i, n in enumerate(cover))


def _expand(vector: tuple[int, ...], types: Sequence[PersonType]) -> Iterator[tuple[str, ...]]:
    """The person sets of a type-count vector, lazily (a type may have hundreds of members)."""
    parts = [(types[t].members, n) for t, n in enumerate(vector) if n]

    def walk(i: int, chosen: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        if i == len(parts):
            yield tuple(sorted(chosen))
            return
        members, n = parts[i]
        for combo in itertools.combinations(members, n):
            yield from walk(i + 1, chosen + combo)

    return walk(0, ())


def _sets(vector: tuple[int, ...], types: Sequence[PersonType]) -> int:
    return math.prod(math.comb(types[t].size, n) for t, n in enumerate(vector))


def _first(vector: tuple[int, ...], types: Sequence[PersonType]) -> tuple[str, ...]:
    return tuple(sorted(p for t, n in enumerate(vector) for p in types[t].members[:n]))


def _too_many_to_count(types: Sequence[PersonType], scenario: Scenario, budget: int) -> bool:
    """A cheap upper bound on the number of minimum coalitions exceeds the budget."""
    bound = sum(t.size for t in types if t.can_propose)
    for req in scenario.requirements:
        holders = sum(t.size for t in types if req.role in t.seat_roles)
        bound *= math.comb(holders, req.count)
    return bound > budget


def minimum_coalitions(
    people: Mapping[str, Person],
    scenario: Scenario,
    settings: Settings,
    *,
    cap: int = DEFAULT_CAP,
    budget: int = DEFAULT_SEARCH_BUDGET,
    types: Sequence[PersonType] | None = None,
) -> Coalitions:
    """Minimum coalitions of `scenario`; `types` may pass `person_types` already computed."""
    types = types if types is not None else person_types(people, scenario)
    proposers = [t for t, pt in enumerate(types) if pt.can_propose]
    if not proposers:
        return Coalitions(size=None, listed=(), total=0, exact=True)
    if scenario.slots == 0:
        alone = sorted(scenario.proposers)
        return Coalitions(
            size=1, listed=tuple((p,) for p in alone[:cap]), total=len(alone), exact=True
        )

    one_seat, pma = settings.one_seat_per_person, settings.proposer_may_approve
    known = _matroid_size(types, scenario, settings, proposers) if one_seat else None
    if one_seat and known is None:
        return Coalitions(size=None, listed=(), total=0, exact=True)
    matcher = TypeMatcher(scenario.requirements, types, one_seat_per_person=one_seat)
    search = _Search(
        types=types,
        matcher=matcher,
        cap_per_type=[min(t.size, scenario.slots) for t in types],
        budget=budget,
        limit=known if known is not None else math.inf,
    )
    count = not _too_many_to_count(types, scenario, budget)
    best: float = known if known is not None else math.inf
    found: dict[tuple[int, ...], None] = {}
    listed_sets = 0
    for cover in search.covers():
        if not one_seat and not _minimal(cover, types, scenario):
            continue
        for coalition in _coalitions_of(cover, types, proposers, pma):
            size = sum(coalition)
            if size < best:
                best, found, listed_sets = size, {}, 0
                search.limit = size  # an approver set larger than a coalition is useless
            if size == best and coalition not in found:
                found[coalition] = None
                listed_sets += _sets(coalition, types)
        if not count and listed_sets >= cap:
            search.stop = True
    complete = not search.cut and not search.stop
    if best == math.inf:
        return Coalitions(size=None, listed=(), total=0 if complete else None, exact=complete)

    listed: list[tuple[str, ...]] = []
    for vector in sorted(found, key=lambda v: _first(v, types)):
        listed.extend(itertools.islice(_expand(vector, types), cap - len(listed)))
        if len(listed) >= cap:
            break
    listed.sort()
    for group in listed:  # the engine's own matching must agree with the search
        if not is_coalition(people, scenario, settings, group):
            raise RuntimeError(f"coalition search disagrees with the engine on {group}")
    return Coalitions(
        size=int(best),
        listed=tuple(listed),
        total=sum(_sets(v, types) for v in found) if complete else None,
        exact=known is not None or complete,
    )
