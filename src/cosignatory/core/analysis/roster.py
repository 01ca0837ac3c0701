"""People grouped by what they can do for one scenario, and how many seats they fill.

For a given scenario two people are interchangeable when they hold the same *seat
roles* (their roles among the seats) and either both or neither may propose it. Working
per type instead of per person keeps the coalition search independent of roster size: a
thousand engineers with the same roles are one type with a multiplicity.

`TypeMatcher` is the engine's matching (`core.seats`: augmenting paths, people ↔ role
slots, one seat per person or one slot per role held) restated over types, with undo,
so a depth-first search can add and remove one person at a time in O(roles × types).
Property tests hold it equal to the engine, and every coalition the analysis reports is
re-checked with the engine's own `max_filled`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cosignatory.core.analysis.scenarios import Scenario
from cosignatory.core.policy.model import Person, Requirement
from cosignatory.core.seats import max_filled

__all__ = ["PersonType", "TypeMatcher", "engine_fill", "person_types", "pool_fill"]


@dataclass(frozen=True, kw_only=True)
class PersonType:
    seat_roles: frozenset[str]
    can_propose: bool
    members: tuple[str, ...]  # sorted person ids

    @property
    def size(self) -> int:
        return len(self.members)


def person_types(people: Mapping[str, Person], scenario: Scenario) -> tuple[PersonType, ...]:
    """The people who can take part in `scenario` (hold a seat role or may propose), by type."""
    seat = frozenset(r.role for r in scenario.requirements)
    groups: dict[tuple[tuple[str, ...], bool], list[str]] = {}
    proposers = scenario.proposers
    for pid, person in people.items():
        roles = person.roles & seat
        propose = pid in proposers
        if roles or propose:
            groups.setdefault((tuple(sorted(roles)), propose), []).append(pid)
    return tuple(
        PersonType(seat_roles=frozenset(roles), can_propose=propose, members=tuple(sorted(members)))
        for (roles, propose), members in sorted(groups.items())
    )


def engine_fill(
    requirements: Sequence[Requirement],
    members: Sequence[frozenset[str]],
    *,
    one_seat_per_person: bool,
) -> int:
    """Slots filled by people with these seat roles, by the engine's own matching."""
    roster = {f"p{i:05d}": roles for i, roles in enumerate(members)}
    return max_filled(requirements, roster, one_seat_per_person=one_seat_per_person)


# One undo record: the roles whose load grew, and the (type, from, to) seat moves.
_Undo = tuple[int, tuple[int, ...], tuple[tuple[int, int, int], ...]]


class TypeMatcher:
    """Maximum matching of offered people (by type) to role slots, with undo."""

    def __init__(
        self,
        requirements: Sequence[Requirement],
        types: Sequence[PersonType],
        *,
        one_seat_per_person: bool,
    ) -> None:
        index = {r.role: i for i, r in enumerate(requirements)}
        self.capacity = [r.count for r in requirements]
        self.slots = sum(self.capacity)
        self.type_roles = [
            tuple(sorted(index[r] for r in t.seat_roles if r in index)) for t in types
        ]
        self.one_seat = one_seat_per_person
        self.load = [0] * len(requirements)
        self.filled = 0
        # seated[r][t]: how many people of type t sit in role r (one seat per person)
        self.seated: list[dict[int, int]] = [{} for _ in requirements]
        self._undo: list[_Undo] = []

    def offer(self, t: int) -> bool:
        """Offer one more person of type `t`; True (and undoable) when it fills a slot."""
        roles = self.type_roles[t]
        if not self.one_seat:
            grew = tuple(r for r in roles if self.load[r] < self.capacity[r])
            if not grew:
                return False
            for r in grew:
                self.load[r] += 1
            self.filled += len(grew)
            self._undo.append((t, grew, ()))
            return True
        path = self._augmenting_path(roles)
        if path is None:
            return False
        start, moves = path
        self._move(t, -1, start)
        for mover, src, dst in moves:
            self._move(mover, src, dst)
        end = moves[-1][2] if moves else start
        self.load[end] += 1
        self.filled += 1
        self._undo.append((t, (end,), ((t, -1, start), *moves)))
        return True

    def undo(self) -> None:
        """Take back the last successful `offer`."""
        _, grew, moves = self._undo.pop()
        for r in grew:
            self.load[r] -= 1
        self.filled -= len(grew)
        for mover, src, dst in reversed(moves):
            self._move(mover, dst, src)

    def _move(self, t: int, src: int, dst: int) -> None:
        if src >= 0:
            left = self.seated[src][t] - 1
            if left:
                self.seated[src][t] = left
            else:
                del self.seated[src][t]
        if dst >= 0:
            self.seated[dst][t] = self.seated[dst].get(t, 0) + 1

    def _augmenting_path(
        self, roles: tuple[int, ...]
    ) -> tuple[int, tuple[tuple[int, int, int], ...]] | None:
        """BFS over roles from `roles` to one with a free slot: (first role, moves)."""
        parent: dict[int, tuple[int, int] | None] = {}
        queue: list[int] = []
        for r in roles:
            if r not in parent:
                parent[r] = None
                queue.append(r)
        for r in queue:  # the list grows while we walk it: breadth first
            if self.load[r] < self.capacity[r]:
                moves: list[tuple[int, int, int]] = []
                node = r
                while (link := parent[node]) is not None:
                    prev, mover = link
                    moves.append((mover, prev, node))
                    node = prev
                return node, tuple(reversed(moves))
            for mover in sorted(self.seated[r]):
                for r2 in self.type_roles[mover]:
                    if r2 not in parent:
                        parent[r2] = (r, mover)
                        queue.append(r2)
        return None


def pool_fill(
    requirements: Sequence[Requirement],
    types: Sequence[PersonType],
    counts: Sequence[int],
    *,
    one_seat_per_person: bool,
) -> int:
    """Slots filled by `counts[t]` people of each type (a type that stops helping is done)."""
    matcher = TypeMatcher(requirements, types, one_seat_per_person=one_seat_per_person)
    for t, n in enumerate(counts):
        for _ in range(min(n, matcher.slots)):
            if not matcher.offer(t):
                break
        if matcher.filled == matcher.slots:
            break
    return matcher.filled
