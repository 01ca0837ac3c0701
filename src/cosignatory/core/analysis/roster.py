"""People grouped by what they can do for one scenario, and how many seats a group fills.

For a given scenario two people are interchangeable when they hold the same *seat
roles* (their roles among the seats) and either both or neither may propose it. Counting
per type instead of per person keeps the coalition search independent of roster size:
a thousand engineers with the same roles are one type with a multiplicity.

`HallFill` answers "how many slots do these type counts fill?" in O(2^k) for k seat
roles, by Hall's theorem with capacities: slots are all fillable iff every set J of
roles has at least c(J) distinct holders among the people offered; the number filled is
S - max_J(c(J) - |N(J)|)⁺ (König–Ore). With `one_seat_per_person` false each person
fills one slot in *each* role they hold, so only single roles count. Property tests hold
it equal to the engine's `SeatMatcher`, and every coalition we report is re-checked
with the engine's `max_filled`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cosignatory.core.analysis.scenarios import Scenario
from cosignatory.core.policy.model import Person, Requirement
from cosignatory.core.seats import max_filled

__all__ = ["HallFill", "PersonType", "engine_fill", "person_types"]


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
    for pid in sorted(people):
        roles = people[pid].roles & seat
        propose = pid in scenario.proposers
        if roles or propose:
            groups.setdefault((tuple(sorted(roles)), propose), []).append(pid)
    return tuple(
        PersonType(seat_roles=frozenset(roles), can_propose=propose, members=tuple(members))
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


class HallFill:
    """Incremental slot count for type counts (see the module docstring)."""

    def __init__(
        self,
        requirements: Sequence[Requirement],
        types: Sequence[PersonType],
        *,
        one_seat_per_person: bool,
    ) -> None:
        roles = [r.role for r in requirements]
        counts = np.array([r.count for r in requirements], dtype=np.int64)
        self.slots = int(counts.sum())
        bit = {role: 1 << i for i, role in enumerate(roles)}
        masks = [sum(bit[r] for r in t.seat_roles if r in bit) for t in types]
        if one_seat_per_person:
            family = np.arange(1, 1 << len(roles), dtype=np.int64)
        else:
            family = np.array([1 << i for i in range(len(roles))], dtype=np.int64)
        member = (family[:, None] >> np.arange(len(roles))[None, :]) & 1
        self._need = member @ counts  # c(J) for each J in the family
        self._hits: list[npt.NDArray[np.int64]] = [
            ((family & m) != 0).astype(np.int64) for m in masks
        ]
        self._have = np.zeros(len(family), dtype=np.int64)  # |N(J)| among people offered
        self._one_seat = one_seat_per_person

    def add(self, t: int, n: int = 1) -> None:
        self._have += n * self._hits[t]

    def filled(self) -> int:
        if self._have.size == 0:
            return 0
        if self._one_seat:
            return self.slots - max(0, int((self._need - self._have).max()))
        return int(np.minimum(self._need, self._have).sum())

    def lower_bound(self) -> int:
        """People still needed, at least: each fills one slot (or one per role)."""
        if self._have.size == 0:
            return 0
        if self._one_seat:
            return self.slots - self.filled()
        return max(0, int((self._need - self._have).max()))
