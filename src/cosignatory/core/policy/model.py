"""The policy model: frozen, already validated objects built by `parse.load_policy`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from cosignatory.core.policy.conditions import combine_conditions, param_keys

__all__ = [
    "ALL_ACTIONS",
    "Action",
    "ConditionScope",
    "ParamSpec",
    "ParamType",
    "Person",
    "Policy",
    "Proposal",
    "Requirement",
    "Rule",
    "Settings",
]

ALL_ACTIONS = "*"
# Bound of each memo of matched-rule combinations: orders crafted to match ever new
# combinations must not grow a policy's memory without end (past it, nothing is kept).
MEMO_LIMIT = 4096


class ParamType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    LIST = "list"  # a list of strings


@dataclass(frozen=True, kw_only=True)
class Settings:
    ttl: timedelta = timedelta(hours=24)
    execution_window: timedelta = timedelta(hours=1)
    proposer_may_approve: bool = False
    one_seat_per_person: bool = True


@dataclass(frozen=True, kw_only=True)
class Person:
    id: str
    name: str
    roles: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class ParamSpec:
    name: str
    type: ParamType
    required: bool = False
    enum: tuple[Any, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None
    description: str = ""
    # Any string is valid (no enum, no pattern): the common case, checked inline.
    any_string: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        plain = self.type is ParamType.STRING and self.enum is None and self.pattern is None
        object.__setattr__(self, "any_string", plain)


@dataclass(frozen=True, kw_only=True)
class Action:
    name: str
    params: Mapping[str, ParamSpec]
    description: str = ""
    # Names of the required params (derived): one subset test per order checks them all.
    required: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = frozenset(n for n, spec in self.params.items() if spec.required)
        object.__setattr__(self, "required", names)


@dataclass(frozen=True, kw_only=True, order=True)
class Requirement:
    """A seat: `count` distinct eligible holders of `role` must approve."""

    role: str
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"seat count must be at least 1, got {self.count}")


@dataclass(frozen=True, kw_only=True)
class Rule:
    id: str
    description: str = ""
    applies_to: frozenset[str]  # action names, or {ALL_ACTIONS}
    when: str | None = None
    proposers: frozenset[str] | None = None  # None: anyone in the roster may propose
    require: tuple[Requirement, ...] = ()
    veto: frozenset[str] = frozenset()
    reject_after_denials: int | None = None

    def applies_to_action(self, action: str) -> bool:
        return ALL_ACTIONS in self.applies_to or action in self.applies_to


@dataclass(frozen=True, kw_only=True)
class Proposal:
    """What a set of matched rules asks of an order (semantics 3 and 6).

    It depends only on the policy and on which rules matched, so `Policy.combination`
    builds it once per combination and every order matching the same rules shares it;
    the derived fields are the indexes the engine's hot path reads.
    """

    rules: tuple[Rule, ...]
    rule_ids: tuple[str, ...]
    requirements: tuple[Requirement, ...]  # per role, the largest count any rule asks
    veto_roles: frozenset[str]
    required_roles: frozenset[str]
    capacity: Mapping[str, int]  # role -> seats of it (read-only: matchers share it)
    slots: int  # the sum of `capacity`: seats to fill in all
    # Per requirement, with its role's holders sorted (who could fill it).
    seats: tuple[tuple[Requirement, tuple[str, ...]], ...]
    veto_holders: tuple[str, ...]  # holders of any veto role, sorted
    # Per holder of a required role: the required roles they hold (the seats they could
    # fill); and who holds a veto role. Read once per review by the engine.
    seat_roles: Mapping[str, frozenset[str]]
    veto_people: frozenset[str]
    # Rules with `reject_after_denials`, each with the roles of its own seats.
    denial_rules: tuple[tuple[Rule, frozenset[str]], ...]
    # Rules that restrict who may propose (`proposers`), checked per order. No default:
    # a Proposal built without it would skip the proposer check.
    proposer_rules: tuple[Rule, ...]


@dataclass(frozen=True, kw_only=True)
class ConditionScope:
    """What evaluating an action's conditions needs, computed once per policy load."""

    # Rules whose applies_to names the action, in policy order, each with its compiled
    # condition (None: no `when`).
    checks: tuple[tuple[Rule, Any], ...]
    names: frozenset[str]  # CEL variables any of them reads (empty: no condition at all)
    param_keys: frozenset[str] | None  # param keys they read; None: the whole map
    # Every rule's condition in one CEL program returning a bit mask of the rules that
    # hold (`true` for a rule without one; one program per MASK_BITS rules): one
    # execution, one conversion of the order into CEL, per order instead of one per rule.
    # None: no condition at all, or it did not compile (each rule's program runs alone).
    combined: tuple[Any, ...] | None = None
    rules: tuple[Rule, ...] = field(init=False)  # the rules of `checks`, alone
    # Memo: a mask of matched rules -> what they ask (`Policy.combination`); bounded.
    by_mask: dict[int, Proposal] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(rule for rule, _ in self.checks))


@dataclass(frozen=True, kw_only=True)
class Policy:
    name: str
    settings: Settings
    people: Mapping[str, Person]
    actions: Mapping[str, Action]
    rules: tuple[Rule, ...]
    roles: frozenset[str]
    digest: str  # sha256 of the source text: what orders pin
    source: str = field(repr=False, compare=False)
    # Compiled CEL programs by rule id; opaque C objects, so kept out of eq/repr.
    conditions: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # Indexes derived from the fields above once, at load: the engine's hot path reads them.
    _holders: Mapping[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    _rules_for: Mapping[str, tuple[Rule, ...]] = field(init=False, repr=False, compare=False)
    _condition_vars: Mapping[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    _condition_params: Mapping[str, frozenset[str] | None] = field(
        init=False, repr=False, compare=False
    )
    # Memo of `holders_sorted`: a pure function of this immutable policy, filled lazily.
    _sorted_holders: dict[str, tuple[str, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _scopes: dict[str, ConditionScope] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _combinations: dict[tuple[str, ...], Proposal] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        holders: dict[str, set[str]] = {role: set() for role in self.roles}
        for person in self.people.values():
            for role in person.roles:
                holders.setdefault(role, set()).add(person.id)
        object.__setattr__(self, "_holders", {r: frozenset(p) for r, p in holders.items()})
        object.__setattr__(
            self,
            "_rules_for",
            {a: tuple(r for r in self.rules if r.applies_to_action(a)) for a in self.actions},
        )
        object.__setattr__(
            self,
            "_condition_vars",
            {rid: frozenset(prog.variables()) for rid, prog in self.conditions.items()},
        )
        object.__setattr__(
            self,
            "_condition_params",
            {r.id: param_keys(r.when) for r in self.rules if r.when is not None},
        )

    def condition_scope(self, action: str) -> ConditionScope:
        scope = self._scopes.get(action)
        if scope is None:
            rules = self.rules_for(action)
            keys: frozenset[str] | None = frozenset()
            for rule in rules:
                used = self.condition_params(rule.id)
                keys = None if used is None or keys is None else keys | used
            scope = self._scopes[action] = ConditionScope(
                checks=tuple((r, self.conditions.get(r.id)) for r in rules),
                names=frozenset(n for r in rules for n in self.condition_variables(r.id)),
                param_keys=keys,
                combined=combine_conditions(
                    [r.when if r.id in self.conditions and r.when else "true" for r in rules]
                )
                if any(r.id in self.conditions for r in rules)
                else None,
            )
        return scope

    def condition_variables(self, rule_id: str) -> frozenset[str]:
        """CEL variables the rule's condition references (empty without a condition)."""
        return self._condition_vars.get(rule_id, frozenset())

    def condition_params(self, rule_id: str) -> frozenset[str] | None:
        """Param keys the rule's condition reads; None when it may read the whole map."""
        return self._condition_params.get(rule_id, frozenset())

    def combination(self, rules: tuple[Rule, ...]) -> Proposal:
        """What the matched `rules` ask of an order (semantics 3 and 6), memoized.

        Requirements: per role, the largest count any rule asks for (two rules asking for
        one political officer need one, not two).
        """
        ids: list[str] = []
        for rule in rules:  # a loop: a comprehension is a function call on Python 3.11
            ids.append(rule.id)
        key = tuple(ids)
        cached = self._combinations.get(key)
        if cached is None:
            counts: dict[str, int] = {}
            for rule in rules:
                for req in rule.require:
                    counts[req.role] = max(counts.get(req.role, 0), req.count)
            requirements = tuple(Requirement(role=role, count=n) for role, n in counts.items())
            veto = frozenset(role for rule in rules for role in rule.veto)
            required = frozenset(counts)
            cached = Proposal(
                rules=rules,
                rule_ids=key,
                requirements=requirements,
                veto_roles=veto,
                required_roles=required,
                capacity=MappingProxyType(counts),
                slots=sum(counts.values()),
                seats=tuple((r, self.holders_sorted(r.role)) for r in requirements),
                veto_holders=tuple(sorted({p for r in veto for p in self.holders(r)})),
                seat_roles=MappingProxyType(
                    {p: self.people[p].roles & required for r in counts for p in self.holders(r)}
                ),
                veto_people=frozenset(p for r in veto for p in self.holders(r)),
                denial_rules=tuple(
                    (rule, frozenset(r.role for r in rule.require))
                    for rule in rules
                    if rule.reject_after_denials is not None
                ),
                proposer_rules=tuple(rule for rule in rules if rule.proposers is not None),
            )
            if len(self._combinations) < MEMO_LIMIT:
                self._combinations[key] = cached
        return cached

    def holders_sorted(self, role: str) -> tuple[str, ...]:
        """`holders(role)` in id order (explanations list people sorted)."""
        cached = self._sorted_holders.get(role)
        if cached is None:
            cached = self._sorted_holders[role] = tuple(sorted(self.holders(role)))
        return cached

    def holders(self, role: str) -> frozenset[str]:
        """People who hold `role` in this version's roster."""
        return self._holders.get(role, frozenset())

    def rules_for(self, action: str) -> tuple[Rule, ...]:
        """Rules whose `applies_to` names `action` (or `*`), in policy order."""
        return self._rules_for.get(action, ())

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)
