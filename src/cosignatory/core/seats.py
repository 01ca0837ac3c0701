"""Filling seats is a bipartite matching problem (people ↔ seat slots), not a count.

With seats {treasurer ×2, risk ×1} and approvals from eve (treasurer + risk), bob and
cat (treasurers), a greedy count that seats eve as a treasurer leaves risk empty; the
matching moves eve to risk and seats bob and cat. We use Kuhn's augmenting paths with
capacities: each person is a left vertex, each role a right vertex with `count` slots.
Adding people one at a time (in review order) keeps a maximum matching at every step,
so the moment the last slot fills is also known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from cosignatory.core.policy.model import Requirement

__all__ = ["SeatMatcher", "fill_seats", "max_filled"]


class SeatMatcher:
    """Incremental maximum matching of people to role slots.

    `one_seat_per_person=False` lets one approval count once for *each* role the person
    holds (still at most one slot per role: a seat of count 2 needs two people).
    A mutable working object, built per decision: a plain class with slots, because
    building it is on the engine's hot path. `capacity` is only read, so callers may
    pass a shared mapping.
    """

    __slots__ = (
        "_assigned",
        "_filled",
        "_role_set",
        "_roles_of",
        "_seat_of",
        "_slots",
        "capacity",
        "one_seat_per_person",
    )

    def __init__(
        self,
        capacity: Mapping[str, int],
        one_seat_per_person: bool = True,
        *,
        roles: frozenset[str] | None = None,  # frozenset(capacity), when the caller has it
        slots: int | None = None,  # sum(capacity.values()), when the caller has it
    ) -> None:
        self.capacity = capacity
        self.one_seat_per_person = one_seat_per_person
        # Loops, not comprehensions, here and in `assignment`: on Python 3.11 a
        # comprehension is a function call, which dominates for a handful of roles.
        self._assigned: dict[str, list[str]] = {}
        for role in capacity:
            self._assigned[role] = []
        self._seat_of: dict[str, str] = {}
        self._roles_of: dict[str, frozenset[str]] = {}
        self._filled = 0
        self._slots = sum(capacity.values()) if slots is None else slots
        self._role_set = frozenset(capacity) if roles is None else roles

    @classmethod
    def for_requirements(
        cls, requirements: Iterable[Requirement], *, one_seat_per_person: bool = True
    ) -> SeatMatcher:
        return cls({r.role: r.count for r in requirements}, one_seat_per_person)

    @property
    def slots(self) -> int:
        return self._slots

    @property
    def filled(self) -> int:
        return self._filled

    def is_full(self) -> bool:
        return self._filled == self._slots

    def assignment(self) -> dict[str, tuple[str, ...]]:
        seats: dict[str, tuple[str, ...]] = {}
        for role, people in self._assigned.items():
            seats[role] = tuple(people)
        return seats

    def first_seat(self, person: str) -> str | None:
        """The (first) role `person` fills, or None."""
        if self.one_seat_per_person:
            return self._seat_of.get(person)
        return next((r for r, people in self._assigned.items() if person in people), None)

    def add(self, person: str, roles: frozenset[str]) -> bool:
        """Offer `person`'s approval; True when it increased the number of filled slots."""
        return self.place(person, roles) is not None

    def place(self, person: str, roles: frozenset[str]) -> str | None:
        """Offer `person`'s approval; the (first) seat it fills when it increased the
        number of filled slots, else None (also for a person already offered)."""
        if person in self._roles_of:
            return None
        useful = roles & self._role_set
        self._roles_of[person] = useful
        if not self.one_seat_per_person:
            grew = False
            for role in sorted(useful):
                if len(self._assigned[role]) < self.capacity[role]:
                    self._assigned[role].append(person)
                    self._filled += 1
                    grew = True
            return self.first_seat(person) if grew else None
        # Fast path: a free slot in one of the person's roles needs no augmenting path.
        for role in sorted(useful) if len(useful) > 1 else useful:
            seated = self._assigned[role]
            if len(seated) < self.capacity[role]:
                seated.append(person)
                self._seat_of[person] = role
                self._filled += 1
                return role
        if self._augment(person, set()):
            self._filled += 1
            return self._seat_of[person]
        return None

    def _augment(self, person: str, visited: set[str]) -> bool:
        # Sorted for determinism: the same input always yields the same explanation.
        roles = self._roles_of[person]
        for role in sorted(roles) if len(roles) > 1 else roles:
            if role in visited:
                continue
            visited.add(role)
            seated = self._assigned[role]
            if len(seated) < self.capacity[role]:
                seated.append(person)
                self._seat_of[person] = role
                return True
            for other in list(seated):
                if self._augment(other, visited):
                    seated.remove(other)
                    seated.append(person)
                    self._seat_of[person] = role
                    return True
        return False


def fill_seats(
    requirements: Sequence[Requirement],
    approvers: Sequence[tuple[str, frozenset[str]]],
    *,
    one_seat_per_person: bool = True,
) -> dict[str, tuple[str, ...]]:
    """Who fills which seat, for approvers offered in the given order."""
    matcher = SeatMatcher.for_requirements(requirements, one_seat_per_person=one_seat_per_person)
    for person, roles in approvers:
        matcher.add(person, roles)
    return matcher.assignment()


def max_filled(
    requirements: Sequence[Requirement],
    people_roles: Mapping[str, frozenset[str]],
    *,
    one_seat_per_person: bool = True,
) -> int:
    """The largest number of slots that `people_roles` can fill together."""
    matcher = SeatMatcher.for_requirements(requirements, one_seat_per_person=one_seat_per_person)
    for person in sorted(people_roles):
        matcher.add(person, people_roles[person])
    return matcher.filled
