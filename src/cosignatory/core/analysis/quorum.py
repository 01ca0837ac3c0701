"""When can the seats be filled? The first moment, vectorized over Monte Carlo runs.

By Hall's theorem with capacities, the responders up to time t fill every seat iff for
every set J of seat roles at least c(J) of them hold a role in J. For one J that holds
from t_J on: the c(J)-th smallest response time among holders of J. So the order is
approved at t* = max_J t_J, and the J attaining the max is what it waited for (the
bottleneck). Only *connected* J matter (roles linked by a person holding both): a J that
splits into parts with disjoint holders is implied by its parts. Without
`one_seat_per_person` a person fills a slot of each role they hold, so only single roles
count.

Computing every t_J costs a partial sort per J. Instead: M = max over single roles
(cheap: a seat of count c needs the c fastest of its holders), then one matrix product
counts, for every J and every run, the holders who responded by M. Runs where some J is
still short get M raised to that t_J, recomputed for those runs only, until no J is
short. M only ever takes values t_J ≤ t*, and ends where all of Hall's condition holds,
so it ends at t* exactly. In practice one or two rounds touch a few percent of runs.
This equals replaying the responses through the engine's matching (a property test
checks it against `evaluate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from cosignatory.core.errors import InputError
from cosignatory.core.policy.model import Requirement

__all__ = ["MAX_SEAT_ROLES", "Constraint", "hall_constraints", "quorum_times", "useful_responders"]

MAX_SEAT_ROLES: Final = 16
Floats = npt.NDArray[np.float64]
Times = npt.NDArray[np.floating[Any]]  # response times: float32 from the sampler
Indices = npt.NDArray[np.intp]


@dataclass(frozen=True, kw_only=True)
class Constraint:
    roles: tuple[str, ...]  # J
    need: int  # c(J)
    classes: tuple[int, ...]  # classes holding a role in J

    @property
    def label(self) -> str:
        return " + ".join(self.roles)


def _connected(mask: int, links: Sequence[int]) -> bool:
    start = mask & -mask
    seen, frontier = start, start
    while frontier:
        bit = frontier & -frontier
        frontier ^= bit
        reach = links[bit.bit_length() - 1] & mask & ~seen
        seen |= reach
        frontier |= reach
    return seen == mask


def hall_constraints(
    requirements: Sequence[Requirement],
    class_roles: Sequence[frozenset[str]],
    *,
    one_seat_per_person: bool,
) -> tuple[Constraint, ...]:
    """The sets of seat roles to check, single roles first (so ties name the simplest)."""
    roles = [r.role for r in requirements]
    if len(roles) > MAX_SEAT_ROLES:
        raise InputError(
            f"the order needs {len(roles)} seat roles; forecasts handle at most {MAX_SEAT_ROLES}"
        )
    count = {r.role: r.count for r in requirements}
    bit = {role: 1 << i for i, role in enumerate(roles)}
    masks = [sum(bit[r] for r in cr if r in bit) for cr in class_roles]
    links = [0] * len(roles)
    for m in masks:
        for i in range(len(roles)):
            if m >> i & 1:
                links[i] |= m
    singles = [1 << i for i in range(len(roles))]
    family = range(1, 1 << len(roles)) if one_seat_per_person else singles
    out = []
    for j in family:
        if one_seat_per_person and not _connected(j, links):
            continue
        members = tuple(r for r in roles if bit[r] & j)
        out.append(
            Constraint(
                roles=members,
                need=sum(count[r] for r in members),
                classes=tuple(k for k, m in enumerate(masks) if m & j),
            )
        )
    return tuple(sorted(out, key=lambda c: (len(c.roles), c.roles)))


def useful_responders(
    requirements: Sequence[Requirement],
    class_roles: Sequence[frozenset[str]],
    *,
    one_seat_per_person: bool,
) -> list[int]:
    """How many of each class's fastest responders can matter to the approval time.

    A full matching seats at most Σ c(r) people of a class (its members only fill seats
    of its roles; one slot per role held when seats are not one per person: max c(r)),
    and swapping any of them for an earlier member of the same class keeps it full. So
    the first approval time only depends on that many fastest responders per class.
    """
    count = {r.role: r.count for r in requirements}
    return [
        (sum if one_seat_per_person else max)(count[r] for r in roles if r in count)
        for roles in class_roles
    ]


def _order_statistic(
    c: Constraint, class_times: Sequence[Times], rows: Indices | None, runs: int
) -> Times:
    """t_J: the c(J)-th fastest response among holders of J, for `rows` (or all runs)."""
    cols = [
        x[:, : c.need] if rows is None else x[rows, : c.need]
        for x in (class_times[k] for k in c.classes)
    ]
    n = runs if rows is None else len(rows)
    if sum(x.shape[1] for x in cols) < c.need:
        return np.full(n, np.inf)
    pool = cols[0] if len(cols) == 1 else np.hstack(cols)
    if pool.shape[1] == c.need and len(cols) == 1:
        return pool[:, -1].copy()  # one class, sorted: the last column is the c-th
    return np.partition(pool, c.need - 1, axis=1)[:, c.need - 1]


def quorum_times(
    constraints: Sequence[Constraint], class_times: Sequence[Times], runs: int
) -> tuple[Floats, Indices, Floats]:
    """Per run: approval time (inf if never), index of the binding constraint, and the
    time each single-role constraint (each seat on its own) was met, one column each.

    `class_times[k]` holds, per run, the fastest response times of class k in ascending
    order, as many columns as any constraint could need from it (or all its members).
    """
    singles = [i for i, c in enumerate(constraints) if len(c.roles) == 1]
    if not constraints:
        return np.zeros(runs), np.zeros(runs, dtype=np.intp), np.zeros((runs, 0))
    seat_times = np.empty((runs, len(singles)))
    for col, i in enumerate(singles):
        seat_times[:, col] = _order_statistic(constraints[i], class_times, None, runs)
    best = seat_times.argmax(axis=1)
    approval = seat_times[np.arange(runs), best]
    binding = np.asarray(singles, dtype=np.intp)[best]

    others = [i for i, c in enumerate(constraints) if len(c.roles) > 1]
    if not others:
        return approval, binding, seat_times
    # incidence of classes in each joint constraint, and what each needs
    touches = np.zeros((len(class_times), len(others)))
    for col, i in enumerate(others):
        touches[list(constraints[i].classes), col] = 1.0
    need = np.array([constraints[i].need for i in others], dtype=np.float64)
    pending = np.flatnonzero(np.isfinite(approval))
    while pending.size:
        at = approval[pending][:, None]
        responded = np.column_stack([(x[pending] <= at).sum(axis=1) for x in class_times]).astype(
            np.float64
        )
        short = responded @ touches < need  # (pending runs, joint constraints)
        rows_short = short.any(axis=1)
        if not rows_short.any():
            break
        raised = np.zeros(pending.size, dtype=bool)
        for col in np.flatnonzero(short.any(axis=0)).tolist():
            hit = np.flatnonzero(short[:, col])
            rows = pending[hit]
            t = _order_statistic(constraints[others[col]], class_times, rows, runs)
            later = t > approval[rows]
            approval[rows[later]] = t[later]
            binding[rows[later]] = others[col]
            raised[hit[later]] = True
        pending = pending[raised & np.isfinite(approval[pending])]
    return approval, binding, seat_times
