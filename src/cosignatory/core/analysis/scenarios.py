"""Which combinations of rules can an order of an action match? Sampled, not proven.

For each action we generate orders from the candidate values (`candidates`), run the
engine's own `check_proposal` on each, and group them by the rules that matched: each
group is a `Scenario` (what the order needs) with one example order that reaches it.

Semantics 2 (who may propose) is applied per scenario rather than per order: matching
runs on a copy of the policy whose rules have no `proposers`, and the people allowed to
propose are then computed from the matched rules. This is exact when no condition reads
`proposer`; when one does, the proposer becomes one more sampled dimension (one person
per distinct role set, or per person when a condition names them). Each example order
is re-checked with the real policy, so the two paths cannot silently drift apart.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

import numpy as np

from cosignatory.core.analysis.candidates import (
    ABSENT,
    justification_candidates,
    now_candidates,
    param_candidates,
)
from cosignatory.core.analysis.literals import ConditionLiterals, scan_condition
from cosignatory.core.errors import ErrorCode, RefusedError
from cosignatory.core.policy.decision import OrderInput
from cosignatory.core.policy.evaluate import check_proposal, requirements_of
from cosignatory.core.policy.model import Person, Policy, Requirement, Rule

__all__ = [
    "DEFAULT_MAX_ORDERS",
    "ExampleOrder",
    "Exploration",
    "Scenario",
    "explore_action",
    "may_propose",
]

DEFAULT_MAX_ORDERS: Final = 256
_MAX_ERRORS_KEPT = 5


@dataclass(frozen=True, kw_only=True)
class ExampleOrder:
    """A concrete order that reaches a scenario; `proposer` None when nobody may propose it."""

    action: str
    params: Mapping[str, Any]
    proposer: str | None
    justification: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "params": dict(self.params),
            "proposer": self.proposer,
            "justification": self.justification,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One combination of rules an order of `action` can match, and what it then needs."""

    action: str
    rule_ids: tuple[str, ...]
    requirements: tuple[Requirement, ...]
    veto_roles: frozenset[str]
    proposers: frozenset[str]  # people allowed to propose an order that matches these rules
    example: ExampleOrder

    @property
    def slots(self) -> int:
        return sum(r.count for r in self.requirements)


@dataclass(frozen=True, kw_only=True)
class Exploration:
    """The scenarios found for one action, and how they were found."""

    action: str
    scenarios: tuple[Scenario, ...]
    orders_tried: int
    refusals: Mapping[str, int] = field(default_factory=dict)  # refusal code → orders
    condition_errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    exhaustive: bool = False  # every combination of candidate values was tried


def may_propose(person: Person, rules: Sequence[Rule]) -> bool:
    """Semantics 2: the proposer holds a `proposers` role of every rule that lists some."""
    return all(rule.proposers is None or rule.proposers & person.roles for rule in rules)


@dataclass(frozen=True, kw_only=True)
class _Dim:
    name: str  # "param:x", "justification", "now", "proposer"
    values: tuple[Any, ...]


def _generate(dims: Sequence[_Dim], groups: Sequence[frozenset[int]], budget: int) -> tuple[list[tuple[int, ...]], bool]:
    """Index tuples into `dims`: the full product when it fits in `budget`, else a cover.

    The cover holds the base order, every value of every dimension alone, the product of
    the dimensions each condition reads together, then seeded random combinations.
    """
    sizes = [len(d.values) for d in dims]
    total = math.prod(sizes)
    if total <= budget:
        return list(itertools.product(*(range(n) for n in sizes))), True
    seen: dict[tuple[int, ...], None] = {}
    base = tuple(0 for _ in dims)
    seen[base] = None
    for i, n in enumerate(sizes):
        for v in range(1, n):
            seen[base[:i] + (v,) + base[i + 1 :]] = None
    for group in groups:
        members = sorted(group)
        for combo in itertools.product(*(range(sizes[i]) for i in members)):
            if len(seen) >= budget:
                break
            point = list(base)
            for i, v in zip(members, combo, strict=True):
                point[i] = v
            seen[tuple(point)] = None
    rng = np.random.default_rng(20_240_601)  # fixed: the same policy gives the same report
    attempts = 0
    while len(seen) < budget and attempts < budget * 20:
        attempts += 1
        seen[tuple(int(rng.integers(n)) for n in sizes)] = None
    return list(seen)[:budget], False


def _proposer_groups(people: Sequence[Person], named: frozenset[str]) -> list[tuple[Person, tuple[str, ...]]]:
    """One representative per role set; people a condition names stand alone."""
    groups: dict[tuple[tuple[str, ...], str], list[str]] = {}
    reps: dict[tuple[tuple[str, ...], str], Person] = {}
    for person in people:
        key = (tuple(sorted(person.roles)), person.id if person.id in named else "")
        groups.setdefault(key, []).append(person.id)
        reps.setdefault(key, person)
    return [(reps[k], tuple(groups[k])) for k in sorted(groups)]


def explore_action(
    policy: Policy, action_name: str, now: datetime, *, max_orders: int = DEFAULT_MAX_ORDERS
) -> Exploration:
    """Sample orders of `action_name` and group them by the rules they match."""
    action = policy.actions[action_name]
    rules = [r for r in policy.rules if r.applies_to_action(action_name)]
    people = [policy.people[p] for p in sorted(policy.people)]
    if not rules:
        return Exploration(action=action_name, scenarios=(), orders_tried=0,
                           notes=(f"no rule applies to `{action_name}`: every order is refused",))
    if not people:
        return Exploration(action=action_name, scenarios=(), orders_tried=0,
                           notes=("the roster is empty: nobody can propose anything",))

    lits: dict[str, ConditionLiterals] = {r.id: scan_condition(r.when) for r in rules if r.when}
    variables = {v for lit in lits.values() for v in lit.variables}
    whole = any(lit.whole_params for lit in lits.values())
    dims: list[_Dim] = []
    notes: list[str] = []
    for spec in action.params.values():
        reading = [lit for lit in lits.values() if whole or spec.name in lit.params]
        values = param_candidates(action, spec, reading or list(lits.values()), read=bool(reading))
        if not values:
            shape = f" matching `{spec.pattern}`" if spec.pattern else ""
            notes.append(f"could not generate a value for required param `{spec.name}`{shape}; "
                         f"orders of `{action_name}` were not explored")
            return Exploration(action=action_name, scenarios=(), orders_tried=0, notes=tuple(notes))
        dims.append(_Dim(name=f"param:{spec.name}", values=values))
    all_lits = list(lits.values())
    if "justification" in variables:
        dims.append(_Dim(name="justification", values=justification_candidates(all_lits)))
    if "now" in variables:
        dims.append(_Dim(name="now", values=now_candidates(now, all_lits)))
    named = frozenset(s for lit in all_lits for s in lit.strings) & frozenset(policy.people)
    proposer_groups = _proposer_groups(people, named) if "proposer" in variables else []
    if proposer_groups:
        dims.append(_Dim(name="proposer", values=tuple(range(len(proposer_groups)))))

    index = {d.name: i for i, d in enumerate(dims)}

    def reads(lit: ConditionLiterals) -> frozenset[int]:
        names = {f"param:{p}" for p in (action.params if lit.whole_params else lit.params)}
        names |= {v for v in lit.variables if v in ("justification", "now", "proposer")}
        return frozenset(index[n] for n in names if n in index)

    points, exhaustive = _generate(dims, [reads(lit) for lit in all_lits], max_orders)

    relaxed = replace(policy, rules=tuple(replace(r, proposers=None) for r in policy.rules))
    found: dict[tuple[str, ...], tuple[Sequence[Rule], set[str], ExampleOrder]] = {}
    refusals: dict[str, int] = {}
    errors: list[str] = []
    for point in points:
        chosen = {d.name: d.values[i] for d, i in zip(dims, point, strict=True)}
        params = {k.removeprefix("param:"): v for k, v in chosen.items()
                  if k.startswith("param:") and v is not ABSENT}
        at: datetime = chosen.get("now", now)
        justification: str = chosen.get("justification", "")
        if proposer_groups:
            rep, members = proposer_groups[chosen["proposer"]]
        else:
            rep, members = people[0], tuple(p.id for p in people)
        order = OrderInput(action=action_name, params=params, proposer=rep.id, justification=justification)
        try:
            proposal = check_proposal(relaxed, order, at)
        except RefusedError as e:
            refusals[e.code.value] = refusals.get(e.code.value, 0) + 1
            if e.code is ErrorCode.CONDITION_ERROR and e.message not in errors:
                errors.append(e.message)
            continue
        matched = [policy.rule(r.id) for r in proposal.rules]
        allowed = {p for p in members if may_propose(policy.people[p], matched)}
        key = proposal.rule_ids
        if key not in found:
            example = ExampleOrder(action=action_name, params=params, proposer=None,
                                   justification=justification, at=at)
            found[key] = (matched, set(), example)
        _, proposers, example = found[key]
        proposers |= allowed
        if example.proposer is None and allowed:
            found[key] = (matched, proposers, replace(example, params=params, at=at,
                                                      justification=justification,
                                                      proposer=min(allowed)))

    order_of = {r.id: i for i, r in enumerate(policy.rules)}
    scenarios = []
    for key in sorted(found, key=lambda k: [order_of[r] for r in k]):
        matched, proposers, example = found[key]
        _recheck(policy, example, key)
        scenarios.append(Scenario(action=action_name, rule_ids=key,
                                  requirements=requirements_of(matched),
                                  veto_roles=frozenset(v for r in matched for v in r.veto),
                                  proposers=frozenset(proposers), example=example))
    return Exploration(action=action_name, scenarios=tuple(scenarios), orders_tried=len(points),
                       refusals=dict(sorted(refusals.items())),
                       condition_errors=tuple(errors[:_MAX_ERRORS_KEPT]), notes=tuple(notes),
                       exhaustive=exhaustive)


def _recheck(policy: Policy, example: ExampleOrder, key: tuple[str, ...]) -> None:
    """The example must reach the same rules through the real, unrelaxed engine."""
    if example.proposer is None:
        return
    order = OrderInput(action=example.action, params=example.params, proposer=example.proposer,
                       justification=example.justification)
    got = check_proposal(policy, order, example.at).rule_ids
    if got != key:
        raise RuntimeError(f"analysis and engine disagree on `{example.action}`: {got} != {key}")
