"""Time to quorum: a Monte Carlo forecast of when an order gets approved, if ever.

Each eligible approver (holder of a seat role, minus the proposer unless
`proposer_may_approve`) is reachable with some probability and then responds after a
random delay (`availability`). The order is approved at the first moment the responders
so far fill every seat — the engine's matching, computed per run by Hall's condition
(`quorum`) — and expires if that moment is not before the TTL. A proposer who may
approve is counted as responding at once. Denials and vetoes are not modelled: this is
the time to approval when everyone who answers says yes.

Runs are vectorized with numpy, in chunks of 16,384. Three things keep them cheap:
people with the same seat roles and the same behaviour are one group, sampled through
its order statistics (`ordstats`); only the first few responders of each class can
matter (`quorum.useful_responders`), so a class of 300 interchangeable officers costs
as much as one of 3; and Hall's condition is checked for all sets of seats at once by
one matrix product (`quorum`). The cost grows with the number of distinct behaviours
and with 2^(seat roles of the order), not with the roster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from cosignatory.core.analysis.availability import Availability, Response
from cosignatory.core.analysis.ordstats import group_times
from cosignatory.core.analysis.quorum import (
    Constraint,
    Times,
    hall_constraints,
    quorum_times,
    useful_responders,
)
from cosignatory.core.errors import InputError
from cosignatory.core.policy.decision import OrderInput
from cosignatory.core.policy.evaluate import check_proposal
from cosignatory.core.policy.model import Policy, Requirement

__all__ = ["MAX_RUNS", "Forecast", "Quantile", "SeatForecast", "forecast_order", "format_span"]

MAX_RUNS: Final = 10_000_000
CHUNK: Final = 16_384
QUANTILES: Final = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
Floats = npt.NDArray[np.float64]


def format_span(t: timedelta | None, *, never: str = "never") -> str:
    """A time span for people: `45s`, `12m30s`, `2h05m`, `1d03h`."""
    if t is None:
        return never
    s = t.total_seconds()
    if s < 60:
        return f"{s:.0f}s" if s >= 10 else f"{s:.1f}s"
    m = int(s // 60)
    if m < 60:
        return f"{m}m{int(s % 60):02d}s"
    h = m // 60
    if h < 24:
        return f"{h}h{m % 60:02d}m"
    return f"{h // 24}d{h % 24:02d}h"


@dataclass(frozen=True, kw_only=True)
class Quantile:
    """A quantile of the time to approval with a 95% order-statistic interval.

    `value` is None when the quantile lies beyond the TTL (that share of orders expires).
    """

    p: float
    value: timedelta | None
    low: timedelta | None
    high: timedelta | None


@dataclass(frozen=True, kw_only=True)
class SeatForecast:
    role: str
    count: int
    eligible: int
    p50: timedelta | None  # when this seat alone would be filled, median
    p_unfilled: float  # it is still not filled at the TTL


@dataclass(frozen=True, kw_only=True)
class Forecast:
    label: str
    action: str
    proposer: str
    rules: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    ttl: timedelta
    runs: int
    seed: int
    p_approved: float
    p_expired: float
    quantiles: tuple[Quantile, ...]
    mean_when_approved: timedelta | None
    bottleneck: tuple[tuple[str, float], ...]  # seat(s) waited for last, share of approved runs
    expiry_cause: tuple[tuple[str, float], ...]  # seat(s) still unfilled, share of expired runs
    seats: tuple[SeatForecast, ...]
    behaviours: tuple[tuple[str, str], ...]  # (person, resolved availability), eligible only
    samples: Floats = field(repr=False, compare=False)  # seconds to approval per run, inf = never

    @property
    def standard_error(self) -> float:
        """Monte Carlo standard error of `p_expired`."""
        return math.sqrt(self.p_expired * (1 - self.p_expired) / self.runs)

    def quantile(self, name: str) -> Quantile:
        for q in self.quantiles:
            if f"p{round(q.p * 100)}" == name:
                return q
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        def secs(t: timedelta | None) -> float | None:
            return None if t is None else round(t.total_seconds(), 3)

        return {
            "label": self.label,
            "action": self.action,
            "proposer": self.proposer,
            "rules": list(self.rules),
            "requirements": [{"role": r.role, "count": r.count} for r in self.requirements],
            "ttl_seconds": secs(self.ttl),
            "runs": self.runs,
            "seed": self.seed,
            "p_approved": round(self.p_approved, 6),
            "p_expired": round(self.p_expired, 6),
            "p_expired_standard_error": round(self.standard_error, 6),
            "quantiles_seconds": {
                f"p{round(q.p * 100)}": {
                    "value": secs(q.value),
                    "ci95": [secs(q.low), secs(q.high)],
                }
                for q in self.quantiles
            },
            "mean_when_approved_seconds": secs(self.mean_when_approved),
            "bottleneck": [{"seats": s, "share": round(x, 6)} for s, x in self.bottleneck],
            "expiry_cause": [{"seats": s, "share": round(x, 6)} for s, x in self.expiry_cause],
            "seats": [
                {
                    "role": s.role,
                    "count": s.count,
                    "eligible": s.eligible,
                    "p50_seconds": secs(s.p50),
                    "p_unfilled": round(s.p_unfilled, 6),
                }
                for s in self.seats
            ],
            "availability": {p: b for p, b in self.behaviours},
        }


@dataclass(frozen=True, kw_only=True)
class _Group:
    seat_class: int
    members: int
    response: Response | None  # None: the proposer, approving at once


def _groups(
    policy: Policy,
    order: OrderInput,
    requirements: tuple[Requirement, ...],
    availability: Availability,
) -> tuple[list[frozenset[str]], list[_Group], list[tuple[str, str]]]:
    seat_roles = frozenset(r.role for r in requirements)
    classes: dict[frozenset[str], int] = {}
    counts: dict[tuple[int, Response | None], int] = {}
    behaviours = []
    for pid in sorted(policy.people):
        person = policy.people[pid]
        roles = person.roles & seat_roles
        if not roles:
            continue
        is_proposer = pid == order.proposer
        if is_proposer and not policy.settings.proposer_may_approve:
            continue
        k = classes.setdefault(roles, len(classes))
        response = None if is_proposer else availability.response(person)
        counts[(k, response)] = counts.get((k, response), 0) + 1
        behaviours.append(
            (pid, "proposer: approves at once" if response is None else response.describe())
        )
    groups = [_Group(seat_class=k, members=n, response=r) for (k, r), n in counts.items()]
    class_roles = [roles for roles, _ in sorted(classes.items(), key=lambda kv: kv[1])]
    return class_roles, groups, behaviours


def _simulate_chunk(
    rng: np.random.Generator,
    *,
    runs: int,
    class_roles: list[frozenset[str]],
    groups: list[_Group],
    constraints: tuple[Constraint, ...],
    useful: list[int],
) -> tuple[Floats, npt.NDArray[np.intp], Floats]:
    """One chunk of runs. `useful[k]`: how many of class k's fastest responders can matter."""
    per_class: list[list[Times]] = [[] for _ in class_roles]
    batches: dict[int, list[_Group]] = {}  # groups drawn together, by columns needed
    for g in groups:
        if g.response is None:
            per_class[g.seat_class].append(np.zeros((runs, 1), dtype=np.float32))
        else:
            batches.setdefault(min(g.members, useful[g.seat_class]), []).append(g)
    for needed, batch in sorted(batches.items()):
        drawn = group_times(
            rng,
            members=[g.members for g in batch],
            responses=[g.response for g in batch if g.response is not None],
            needed=needed,
            runs=runs,
        )
        for i, g in enumerate(batch):
            per_class[g.seat_class].append(drawn[:, i, :])
    class_times: list[Times] = []
    for parts in per_class:
        pool = parts[0] if len(parts) == 1 else np.hstack(parts)
        if len(parts) > 1:
            keep = min(useful[len(class_times)], pool.shape[1])
            if keep < pool.shape[1]:
                pool = np.partition(pool, keep - 1, axis=1)[:, :keep]
            pool = np.sort(pool, axis=1)
        class_times.append(pool)
    return quorum_times(constraints, class_times, runs)


def _quantile(sorted_times: Floats, p: float, ttl: float) -> Quantile:
    n = len(sorted_times)

    def at(index: float) -> timedelta | None:
        i = min(n - 1, max(0, math.ceil(index) - 1))
        value = float(sorted_times[i])
        return None if value >= ttl else timedelta(seconds=value)

    spread = 1.96 * math.sqrt(n * p * (1 - p))
    return Quantile(p=p, value=at(n * p), low=at(n * p - spread), high=at(n * p + spread + 1))


def _shares(labels: list[str], picks: npt.NDArray[np.intp]) -> tuple[tuple[str, float], ...]:
    if picks.size == 0:
        return ()
    counts = np.bincount(picks, minlength=len(labels))
    total = picks.size
    out = [(labels[i], counts[i] / total) for i in range(len(labels)) if counts[i]]
    return tuple(sorted(out, key=lambda kv: (-kv[1], kv[0])))


def forecast_order(
    policy: Policy,
    order: OrderInput,
    availability: Availability,
    *,
    now: datetime,
    runs: int = 100_000,
    seed: int = 0,
    label: str = "",
) -> Forecast:
    """Simulate `runs` fresh proposals of `order` (seeded: same inputs, same forecast)."""
    if not 1 <= runs <= MAX_RUNS:
        raise InputError(f"runs must be between 1 and {MAX_RUNS}, got `{runs}`")
    proposal = check_proposal(policy, order, now)  # RefusedError: no forecast for a refusal
    requirements = proposal.requirements
    slots = sum(r.count for r in requirements)
    ttl = policy.settings.ttl.total_seconds()
    class_roles, groups, behaviours = _groups(policy, order, requirements, availability)
    constraints = hall_constraints(
        requirements, class_roles, one_seat_per_person=policy.settings.one_seat_per_person
    )
    useful = useful_responders(
        requirements, class_roles, one_seat_per_person=policy.settings.one_seat_per_person
    )
    rng = np.random.default_rng(seed)
    approvals, bindings, seat_parts = [], [], []
    done = 0
    while done < runs:
        n = min(CHUNK, runs - done)
        if slots == 0:
            approval, binding, seat_times = (
                np.zeros(n),
                np.zeros(n, dtype=np.intp),
                np.zeros((n, 0)),
            )
        else:
            approval, binding, seat_times = _simulate_chunk(
                rng,
                runs=n,
                class_roles=class_roles,
                groups=groups,
                constraints=constraints,
                useful=useful,
            )
        approvals.append(approval)
        bindings.append(binding)
        seat_parts.append(seat_times)
        done += n
    approval = np.concatenate(approvals)
    binding = np.concatenate(bindings)
    seat_times = np.concatenate(seat_parts)
    approval.setflags(write=False)

    approved = approval < ttl
    ordered = np.sort(approval)
    labels = [c.label for c in constraints]
    single_roles = [c.roles[0] for c in constraints if len(c.roles) == 1]
    seats = []
    for r in requirements:
        col = single_roles.index(r.role)
        times = seat_times[:, col]
        eligible = sum(g.members for g in groups if r.role in class_roles[g.seat_class])
        median = float(np.median(times))
        seats.append(
            SeatForecast(
                role=r.role,
                count=r.count,
                eligible=eligible,
                p50=timedelta(seconds=median) if median < ttl else None,
                p_unfilled=float(np.mean(times >= ttl)),
            )
        )
    mean = float(approval[approved].mean()) if approved.any() else None
    return Forecast(
        label=label or availability.name,
        action=order.action,
        proposer=order.proposer,
        rules=proposal.rule_ids,
        requirements=requirements,
        ttl=policy.settings.ttl,
        runs=runs,
        seed=seed,
        p_approved=float(approved.mean()),
        p_expired=float(1.0 - approved.mean()),
        quantiles=tuple(_quantile(ordered, p, ttl) for _, p in QUANTILES),
        mean_when_approved=None if mean is None else timedelta(seconds=mean),
        bottleneck=_shares(labels, binding[approved]) if slots else (),
        expiry_cause=_shares(labels, binding[~approved]) if slots else (),
        seats=tuple(seats),
        behaviours=tuple(behaviours),
        samples=approval,
    )
