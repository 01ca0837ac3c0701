"""Findings by severity, from the per-combination results.

    critical  one person can act alone (solo power); an action that can never be approved
    warning   two people suffice where the seats ask for more; a single point of failure;
              a combination that can never be approved; a person who proposes and confirms;
              an order that needs no confirmation at all (by design, but reachable)
    info      two-person rules as designed; vetoes; conflicts held in check by a setting;
              conditions that refuse some orders (fail closed)

Messages do not name the action: the same finding on several actions is merged into one,
with every place (action and matched rules) it holds in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cosignatory.core.analysis.results import ActionAnalysis, ScenarioAnalysis
from cosignatory.core.policy.model import Settings

__all__ = ["Finding", "FindingKind", "Place", "Severity", "collect_findings"]


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"critical": 0, "warning": 1, "info": 2}[self.value]


class FindingKind(StrEnum):
    SOLO_POWER = "solo_power"
    NO_CONFIRMATION = "no_confirmation"
    PAIR = "pair"
    WEAKER_THAN_SEATS = "weaker_than_seats"
    SINGLE_POINT_OF_FAILURE = "single_point_of_failure"
    SINGLE_DENY = "single_deny"
    DEADLOCK = "deadlock"
    DUTY_CONFLICT = "duty_conflict"
    UNAUTHORIZED = "unauthorized"
    CONDITION_ERROR = "condition_error"
    SAMPLING_GAP = "sampling_gap"
    SEARCH_CUT = "search_cut"


@dataclass(frozen=True, kw_only=True, order=True)
class Place:
    action: str
    rules: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.action} ({', '.join(self.rules)})" if self.rules else self.action

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "rules": list(self.rules)}


@dataclass(frozen=True, kw_only=True)
class Finding:
    severity: Severity
    kind: FindingKind
    people: tuple[str, ...]
    message: str
    places: tuple[Place, ...]

    def key(self) -> tuple[int, str, tuple[str, ...], str]:
        return (self.severity.rank, self.kind.value, self.people, self.message)

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "kind": self.kind.value,
            "people": list(self.people),
            "message": self.message,
            "places": [p.to_json() for p in self.places],
        }


_SHOWN = 8  # people named in a message; the finding's `people` has them all


def _names(people: Sequence[str]) -> str:
    return ", ".join(f"`{p}`" for p in people)


def _group(group: Sequence[str]) -> str:
    return " + ".join(f"`{p}`" for p in group)


def _why_smaller(settings: Settings) -> str:
    reasons = []
    if settings.proposer_may_approve:
        reasons.append("proposer_may_approve: true lets the proposer fill a seat")
    if not settings.one_seat_per_person:
        reasons.append("one_seat_per_person: false lets one approval fill several seats")
    return "; ".join(reasons) or "people hold several of the roles involved"


def _coalition_findings(
    sa: ScenarioAnalysis, settings: Settings
) -> list[tuple[Severity, FindingKind, tuple[str, ...], str]]:
    c, s = sa.coalitions, sa.scenario
    out: list[tuple[Severity, FindingKind, tuple[str, ...], str]] = []
    if c.size is None:
        return out
    more = (
        ""
        if c.total is None or c.total <= len(c.listed)
        else f" (and {c.total - len(c.listed)} more)"
    )
    examples = "; ".join(_group(g) for g in c.listed[:3])
    if c.size == 1 and s.slots == 0:
        who = tuple(sorted(s.proposers))
        rules = ", ".join(f"`{r}`" for r in s.rule_ids)
        out.append(
            (
                Severity.WARNING,
                FindingKind.NO_CONFIRMATION,
                who,
                f"needs no confirmation: rule(s) {rules} require no seat, so any of {len(who)} "
                f"allowed proposer(s) acts alone (by design? an insider can choose these params)",
            )
        )
    elif c.size == 1:
        solo = tuple(g[0] for g in c.listed)
        out.append(
            (
                Severity.CRITICAL,
                FindingKind.SOLO_POWER,
                solo,
                f"solo power: {_names(solo)}{more} can propose it and fill every seat alone "
                f"({_why_smaller(settings)})",
            )
        )
    elif c.size == 2 and sa.intended_size > 2:
        people = tuple(sorted({p for g in c.listed for p in g}))
        out.append(
            (
                Severity.WARNING,
                FindingKind.PAIR,
                people,
                f"two people suffice though the seats ask for {sa.intended_size} distinct "
                f"people: {examples}{more} ({_why_smaller(settings)})",
            )
        )
    elif c.size == 2:
        count = f"{c.total} pair(s)" if c.total is not None else "pairs"
        out.append(
            (
                Severity.INFO,
                FindingKind.PAIR,
                (),
                f"two-person rule as designed: {count} can act together, e.g. {examples}",
            )
        )
    elif c.size < sa.intended_size:
        people = tuple(sorted({p for g in c.listed for p in g}))
        out.append(
            (
                Severity.WARNING,
                FindingKind.WEAKER_THAN_SEATS,
                people,
                f"{c.size} people suffice though the seats ask for {sa.intended_size}: "
                f"{examples}{more} ({_why_smaller(settings)})",
            )
        )
    if not c.exact:
        out.append(
            (
                Severity.INFO,
                FindingKind.SEARCH_CUT,
                (),
                "coalition search budget reached: the size shown is an upper bound",
            )
        )
    return out


def _scenario_findings(
    sa: ScenarioAnalysis, settings: Settings, *, all_deadlocked: bool
) -> list[tuple[Severity, FindingKind, tuple[str, ...], str]]:
    out = _coalition_findings(sa, settings)
    if sa.deadlock is not None:
        severity = Severity.CRITICAL if all_deadlocked else Severity.WARNING
        scope = (
            "no order of this action can ever be approved"
            if all_deadlocked
            else "orders matching these rules can never be approved"
        )
        out.append(
            (
                severity,
                FindingKind.DEADLOCK,
                (),
                f"deadlock: {scope}: {sa.deadlock}",
            )
        )
    seats = {x.role: x for x in sa.seats}
    for pid in sa.blockers.absence:
        only = [r for r, x in seats.items() if x.holders == (pid,)]
        if only:
            why = f"the only holder of seat {', '.join(f'`{r}`' for r in only)}"
        elif pid in sa.scenario.proposers and len(sa.scenario.proposers) == 1:
            why = "the only person allowed to propose it"
        else:
            why = "every way of filling the seats needs them"
        out.append(
            (
                Severity.WARNING,
                FindingKind.SINGLE_POINT_OF_FAILURE,
                (pid,),
                f"single point of failure: without `{pid}` it cannot be approved ({why})",
            )
        )
    single = sa.blockers.single_deny
    if single and sa.feasible:
        roles = ", ".join(sorted(sa.scenario.veto_roles)) or "a one-denial threshold"
        who = _names(single[:_SHOWN]) + (
            f" and {len(single) - _SHOWN} more" if len(single) > _SHOWN else ""
        )
        out.append(
            (
                Severity.INFO,
                FindingKind.SINGLE_DENY,
                single,
                f"any one of {who} can block it with a single deny ({roles})",
            )
        )
    for d in sa.conflicts:
        hats = "; ".join(d.duties)
        if d.weakens:
            severity, tail = Severity.WARNING, "the settings let both hats count"
        elif d.proposes_and_confirms:
            severity, tail = Severity.WARNING, f"only `{d.guard}` stops self-confirmation"
        elif d.guard:
            severity, tail = Severity.INFO, f"held in check by `{d.guard}`"
        else:
            severity, tail = Severity.INFO, "a veto is one more hat"
        roles = " and ".join(f"`{r}`" for r in d.roles)
        who = _names(d.people[:_SHOWN]) + (
            f" and {len(d.people) - _SHOWN} more" if len(d.people) > _SHOWN else ""
        )
        out.append(
            (
                severity,
                FindingKind.DUTY_CONFLICT,
                d.people,
                f"separation of duties: {who} {'holds' if len(d.people) == 1 else 'hold'} "
                f"{roles}, which sit on the same order "
                f"({hats}); {tail}",
            )
        )
    return out


def collect_findings(actions: Sequence[ActionAnalysis], settings: Settings) -> tuple[Finding, ...]:
    merged: dict[tuple[Severity, FindingKind, tuple[str, ...], str], list[Place]] = {}

    def add(item: tuple[Severity, FindingKind, tuple[str, ...], str], place: Place) -> None:
        merged.setdefault(item, []).append(place)

    for aa in actions:
        e = aa.exploration
        several = len(aa.scenarios) > 1
        all_deadlocked = bool(aa.scenarios) and not any(s.feasible for s in aa.scenarios)
        for sa in aa.scenarios:
            place = Place(action=aa.action, rules=sa.scenario.rule_ids if several else ())
            for item in _scenario_findings(sa, settings, all_deadlocked=all_deadlocked):
                add(item, place)
        here = Place(action=aa.action)
        for note in e.notes:
            add((Severity.WARNING, FindingKind.SAMPLING_GAP, (), note), here)
        if not e.applicable_rules:
            add(
                (
                    Severity.WARNING,
                    FindingKind.UNAUTHORIZED,
                    (),
                    "no rule applies to this action: every proposal is refused (default deny)",
                ),
                here,
            )
        elif not aa.scenarios and e.orders_tried:
            add(
                (
                    Severity.WARNING,
                    FindingKind.UNAUTHORIZED,
                    (),
                    f"none of {e.orders_tried} sampled orders is authorized: every proposal "
                    f"is refused ({', '.join(f'{k}: {v}' for k, v in e.refusals.items())})",
                ),
                here,
            )
        for message in e.condition_errors:
            add(
                (
                    Severity.INFO,
                    FindingKind.CONDITION_ERROR,
                    (),
                    f"some orders are refused because a condition fails (fail closed): {message}",
                ),
                here,
            )

    findings = [
        Finding(
            severity=sev, kind=kind, people=people, message=msg, places=tuple(sorted(set(places)))
        )
        for (sev, kind, people, msg), places in merged.items()
    ]
    return tuple(sorted(findings, key=lambda f: (f.key(), f.places)))
