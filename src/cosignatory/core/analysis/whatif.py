"""What-if edits of a policy in memory: a person captured or absent, a role granted, a
setting changed. Each returns a new `Policy` (the source text and digest stay those of
the original file) and a sentence describing the edit; bad names are `InputError`s.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cosignatory.core.durations import format_duration, parse_duration
from cosignatory.core.errors import InputError
from cosignatory.core.policy.model import Person, Policy

__all__ = ["WhatIf", "apply_whatif", "grant", "parse_assignment", "set_setting", "without"]

_BOOL_SETTINGS = ("proposer_may_approve", "one_seat_per_person")
_DURATION_SETTINGS = ("ttl", "execution_window")


@dataclass(frozen=True, kw_only=True)
class WhatIf:
    without: tuple[str, ...] = ()
    grants: tuple[tuple[str, str], ...] = ()  # (person, role)
    settings: tuple[tuple[str, str], ...] = ()  # (key, value as written)

    @property
    def empty(self) -> bool:
        return not (self.without or self.grants or self.settings)


def _hint(name: str, known: Iterable[str]) -> str:
    match = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean `{match[0]}`?" if match else ""


def _person(policy: Policy, pid: str) -> Person:
    person = policy.people.get(pid)
    if person is None:
        raise InputError(
            f"unknown person `{pid}` in policy `{policy.name}`{_hint(pid, policy.people)}"
        )
    return person


def parse_assignment(text: str, what: str) -> tuple[str, str]:
    """`left=right` → (left, right); `what` names the option in the error."""
    left, sep, right = text.partition("=")
    if not sep or not left.strip() or not right.strip():
        raise InputError(f"{what} `{text}` must look like `NAME=VALUE`")
    return left.strip(), right.strip()


def without(policy: Policy, people: Sequence[str]) -> tuple[Policy, str]:
    """Remove people from the roster: captured, absent, or simply unreachable."""
    for pid in people:
        _person(policy, pid)
    gone = set(people)
    kept = {pid: p for pid, p in policy.people.items() if pid not in gone}
    names = ", ".join(f"`{p}`" for p in people)
    return replace(policy, people=kept), f"without {names}"


def grant(policy: Policy, pid: str, role: str) -> tuple[Policy, str]:
    person = _person(policy, pid)
    if role not in policy.roles:
        raise InputError(
            f"unknown role `{role}` in policy `{policy.name}`{_hint(role, policy.roles)}"
        )
    if role in person.roles:
        raise InputError(f"`{pid}` already holds `{role}`; nothing to grant")
    people = dict(policy.people)
    people[pid] = replace(person, roles=person.roles | {role})
    return replace(policy, people=people), f"`{pid}` granted `{role}`"


def set_setting(policy: Policy, key: str, value: str) -> tuple[Policy, str]:
    parsed: Any
    if key in _BOOL_SETTINGS:
        if value.lower() not in ("true", "false"):
            raise InputError(f"setting `{key}` takes `true` or `false`, got `{value}`")
        parsed = value.lower() == "true"
        shown = str(parsed).lower()
    elif key in _DURATION_SETTINGS:
        try:
            parsed = parse_duration(value)
        except ValueError as e:
            raise InputError(f"setting `{key}`: {e}") from e
        shown = format_duration(parsed)
    else:
        known = (*_BOOL_SETTINGS, *_DURATION_SETTINGS)
        raise InputError(f"unknown setting `{key}`{_hint(key, known)}; known: {', '.join(known)}")
    settings = replace(policy.settings, **{key: parsed})
    return replace(policy, settings=settings), f"{key}: {shown}"


def apply_whatif(policy: Policy, edits: WhatIf) -> tuple[Policy, tuple[str, ...]]:
    """Apply settings, then grants, then removals; return the policy and what changed."""
    changes: list[str] = []
    for key, value in edits.settings:
        policy, note = set_setting(policy, key, value)
        changes.append(note)
    for pid, role in edits.grants:
        policy, note = grant(policy, pid, role)
        changes.append(note)
    if edits.without:
        policy, note = without(policy, edits.without)
        changes.append(note)
    return policy, tuple(changes)
