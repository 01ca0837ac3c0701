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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from cosignatory.core.analysis.candidates import (
    ABSENT,
    justification_candidates,
    now_candidates,
    param_candidates,
)
from cosignatory.core.analysis.literals import ConditionLiterals, scan_condition
from cosignatory.core.analysis.sampling import Dim, components, cover
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
    applicable_rules: int = 0  # rules whose `applies_to` names the action (or `*`)


def may_propose(person: Person, rules: Sequence[Rule]) -> bool:
    """Semantics 2: the proposer holds a `proposers` role of every rule that lists some."""
    return _roles_may_propose(person.roles, rules)


def _roles_may_propose(roles: frozenset[str], rules: Sequence[Rule]) -> bool:
    return all(rule.proposers is None or rule.proposers & roles for rule in rules)


def _proposer_groups(
    people: Sequence[Person], named: frozenset[str]
) -> list[tuple[Person, tuple[str, ...]]]:
    """One representative per role set; people a condition names stand alone."""
    groups: dict[tuple[tuple[str, ...], str], list[str]] = {}
    reps: dict[tuple[tuple[str, ...], str], Person] = {}
    for person in people:
        key = (tuple(sorted(person.roles)), person.id if person.id in named else "")
        groups.setdefault(key, []).append(person.id)
        reps.setdefault(key, person)
    return [(reps[k], tuple(groups[k])) for k in sorted(groups)]


def _dimensions(
    policy: Policy, action_name: str, now: datetime, lits: Mapping[str, ConditionLiterals]
) -> tuple[list[Dim], list[tuple[Person, tuple[str, ...]]], str | None]:
    """The dimensions of a generated order, the proposer groups (when a condition reads
    the proposer), or a note saying why no order can be generated."""
    action = policy.actions[action_name]
    variables = {v for lit in lits.values() for v in lit.variables}
    whole = any(lit.whole_params for lit in lits.values())
    every = list(lits.values())
    dims: list[Dim] = []
    for spec in action.params.values():
        reading = [lit for lit in every if whole or spec.name in lit.params]
        values = param_candidates(action, spec, reading or every, read=bool(reading))
        if not values:
            shape = f" matching `{spec.pattern}`" if spec.pattern else ""
            return (
                [],
                [],
                (
                    f"could not generate a value for required param `{spec.name}`{shape}; "
                    f"orders of `{action_name}` were not explored"
                ),
            )
        dims.append(Dim(name=f"param:{spec.name}", values=values))
    if "justification" in variables:
        dims.append(Dim(name="justification", values=justification_candidates(every)))
    if "now" in variables:
        dims.append(Dim(name="now", values=now_candidates(now, every)))
    groups: list[tuple[Person, tuple[str, ...]]] = []
    if "proposer" in variables:
        named = frozenset(s for lit in every for s in lit.strings) & frozenset(policy.people)
        groups = _proposer_groups([policy.people[p] for p in sorted(policy.people)], named)
        dims.append(Dim(name="proposer", values=tuple(range(len(groups)))))
    return dims, groups, None


class _Trials:
    """Runs generated orders through the engine and remembers what each reached."""

    def __init__(
        self,
        policy: Policy,
        action_name: str,
        now: datetime,
        dims: Sequence[Dim],
        proposer_groups: Sequence[tuple[Person, tuple[str, ...]]],
    ) -> None:
        self.policy, self.action, self.now = policy, action_name, now
        self.dims, self.proposer_groups = dims, proposer_groups
        self.relaxed = replace(
            policy, rules=tuple(replace(r, proposers=None) for r in policy.rules)
        )
        self.people = [policy.people[p] for p in sorted(policy.people)]
        self.rule_by_id = {r.id: r for r in policy.rules}
        self.by_roles: dict[frozenset[str], list[str]] = {}
        for person in self.people:
            self.by_roles.setdefault(person.roles, []).append(person.id)
        self.found: dict[tuple[str, ...], tuple[list[Rule], set[str], ExampleOrder]] = {}
        self._allowed: dict[tuple[tuple[str, ...], int], set[str]] = {}
        self.refusals: dict[str, int] = {}
        self.errors: list[str] = []
        self.tried = 0

    def attempt(self, point: Sequence[int]) -> tuple[str, ...] | None:
        """Run one generated order: the matched rule ids (empty when none matched), or
        None when a condition failed on it."""
        self.tried += 1
        chosen = {d.name: d.values[i] for d, i in zip(self.dims, point, strict=True)}
        params = {
            k.removeprefix("param:"): v
            for k, v in chosen.items()
            if k.startswith("param:") and v is not ABSENT
        }
        at: datetime = chosen.get("now", self.now)
        justification: str = chosen.get("justification", "")
        group: int = chosen.get("proposer", -1)
        rep = self.proposer_groups[group][0] if group >= 0 else self.people[0]
        order = OrderInput(
            action=self.action, params=params, proposer=rep.id, justification=justification
        )
        try:
            proposal = check_proposal(self.relaxed, order, at)
        except RefusedError as e:
            self.refusals[e.code.value] = self.refusals.get(e.code.value, 0) + 1
            if e.code is ErrorCode.CONDITION_ERROR and e.message not in self.errors:
                self.errors.append(e.message)
            # No rule matched: a fine outcome for one group (others may add rules later).
            return () if e.code is ErrorCode.NO_RULE else None
        key = proposal.rule_ids
        allowed = self._allowed_for(key, group)
        if key not in self.found:
            example = ExampleOrder(
                action=self.action, params=params, proposer=None, justification=justification, at=at
            )
            self.found[key] = ([self.rule_by_id[r] for r in key], set(), example)
        hit, proposers, example = self.found[key]
        proposers |= allowed
        if example.proposer is None and allowed:
            better = replace(
                example, params=params, justification=justification, at=at, proposer=min(allowed)
            )
            self.found[key] = (hit, proposers, better)
        return key

    def _allowed_for(self, key: tuple[str, ...], group: int) -> set[str]:
        """Semantics 2 for the matched rules: who of this proposer group may propose."""
        if (key, group) not in self._allowed:
            rules = [self.rule_by_id[r] for r in key]
            if group >= 0:  # members of a proposer group share the representative's roles
                rep, members = self.proposer_groups[group]
                allowed = set(members) if may_propose(rep, rules) else set()
            else:
                allowed = {
                    p
                    for roles, ids in self.by_roles.items()
                    if _roles_may_propose(roles, rules)
                    for p in ids
                }
            self._allowed[(key, group)] = allowed
        return self._allowed[(key, group)]


def explore_action(
    policy: Policy, action_name: str, now: datetime, *, max_orders: int = DEFAULT_MAX_ORDERS
) -> Exploration:
    """Sample orders of `action_name` and group them by the rules they match."""
    rules = [r for r in policy.rules if r.applies_to_action(action_name)]
    if not rules:
        return Exploration(action=action_name, scenarios=(), orders_tried=0)
    if not policy.people:
        note = "the roster is empty: nobody can propose anything"
        return Exploration(
            action=action_name,
            scenarios=(),
            orders_tried=0,
            notes=(note,),
            applicable_rules=len(rules),
        )
    lits = {r.id: scan_condition(r.when) for r in rules if r.when}
    dims, proposer_groups, gap = _dimensions(policy, action_name, now, lits)
    if gap is not None:
        return Exploration(
            action=action_name,
            scenarios=(),
            orders_tried=0,
            notes=(gap,),
            applicable_rules=len(rules),
        )
    index = {d.name: i for i, d in enumerate(dims)}
    params = policy.actions[action_name].params

    def reads(lit: ConditionLiterals) -> frozenset[int]:
        names = {f"param:{p}" for p in (params if lit.whole_params else lit.params)}
        names |= {v for v in lit.variables if v in ("justification", "now", "proposer")}
        return frozenset(index[n] for n in names if n in index)

    rule_reads = {rid: reads(lit) for rid, lit in lits.items()}
    trials = _Trials(policy, action_name, now, dims, proposer_groups)

    # Phase 1: each group of dimensions that conditions tie together, on its own.
    exhaustive = True
    outcomes: list[dict[tuple[str, ...], tuple[int, ...]]] = []
    groups = [
        g
        for g in components(len(dims), rule_reads.values())
        if any(len(dims[i].values) > 1 for i in g)
    ]
    base = [0] * len(dims)
    for group in groups:
        own = [rid for rid, r in rule_reads.items() if r and r <= set(group)]
        links = [frozenset(group.index(i) for i in rule_reads[rid]) for rid in own]
        points, complete = cover([len(dims[i].values) for i in group], links, max_orders)
        exhaustive = exhaustive and complete
        seen: dict[tuple[str, ...], tuple[int, ...]] = {}
        for sub in points:
            point = list(base)
            for i, v in zip(group, sub, strict=True):
                point[i] = v
            key = trials.attempt(point)
            if key is not None:
                seen.setdefault(tuple(r for r in key if r in own), tuple(sub))
        outcomes.append(seen)
    # Phase 2: one representative per outcome of each group, in every combination.
    if not groups:
        trials.attempt(base)
    elif len(groups) > 1 and all(outcomes):
        choices = [list(o.values()) for o in outcomes]
        combos, complete = cover([len(c) for c in choices], [], max_orders)
        exhaustive = exhaustive and complete
        for combo in combos:
            point = list(base)
            for group, options, pick in zip(groups, choices, combo, strict=True):
                for i, v in zip(group, options[pick], strict=True):
                    point[i] = v
            trials.attempt(point)

    order_of = {r.id: i for i, r in enumerate(policy.rules)}
    scenarios = []
    for key in sorted(trials.found, key=lambda k: [order_of[r] for r in k]):
        hit, proposers, example = trials.found[key]
        _recheck(policy, example, key)
        scenarios.append(
            Scenario(
                action=action_name,
                rule_ids=key,
                requirements=requirements_of(hit),
                veto_roles=frozenset(v for r in hit for v in r.veto),
                proposers=frozenset(proposers),
                example=example,
            )
        )
    return Exploration(
        action=action_name,
        scenarios=tuple(scenarios),
        orders_tried=trials.tried,
        refusals=dict(sorted(trials.refusals.items())),
        condition_errors=tuple(trials.errors[:_MAX_ERRORS_KEPT]),
        exhaustive=exhaustive,
        applicable_rules=len(rules),
    )


def _recheck(policy: Policy, example: ExampleOrder, key: tuple[str, ...]) -> None:
    """The example must reach the same rules through the real, unrelaxed engine."""
    if example.proposer is None:
        return
    order = OrderInput(
        action=example.action,
        params=example.params,
        proposer=example.proposer,
        justification=example.justification,
    )
    got = check_proposal(policy, order, example.at).rule_ids
    if got != key:
        raise RuntimeError(f"analysis and engine disagree on `{example.action}`: {got} != {key}")
