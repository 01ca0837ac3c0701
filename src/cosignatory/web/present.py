"""Small presentation helpers the templates use as filters: times, roles, `code` spans."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

from cosignatory.core.lifecycle import OrderState
from cosignatory.core.policy import Policy
from cosignatory.service import OrderView

__all__ = [
    "STATE_LABELS",
    "a",
    "clock",
    "fillable_roles",
    "human_duration",
    "join_words",
    "message",
    "open_vetoers",
    "person_name",
    "relative",
    "role_name",
    "roles_phrase",
    "ticks",
    "value_text",
]

_TICKS = re.compile(r"`([^`]+)`")

STATE_LABELS: Mapping[OrderState, str] = {
    OrderState.PENDING: "waiting for cosignatories",
    OrderState.APPROVED: "approved",
    OrderState.REJECTED: "rejected",
    OrderState.EXPIRED: "expired",
    OrderState.CANCELLED: "cancelled",
    OrderState.EXECUTING: "executing",
    OrderState.EXECUTED: "executed",
    OrderState.FAILED: "failed",
}


def ticks(text: str) -> Markup:
    """Escape `text`, then show its `backticked` values as code."""
    return Markup(_TICKS.sub(r"<code>\1</code>", str(escape(text))))  # noqa: S704 - escaped above


def message(text: str) -> Markup:
    """A service message as a sentence: capitalized, full stop, `values` as code."""
    text = text.strip()
    if text and text[0].isalpha():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?":
        text += "."
    return ticks(text)


def clock(value: datetime) -> str:
    """`2026-01-31 12:00 UTC`."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def human_duration(delta: timedelta) -> str:
    """`2 d 3 h`, `5 h 12 min`, `4 min`, `30 s`: the two largest units."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def relative(value: datetime, now: datetime) -> str:
    """`in 5 h 12 min` or `3 min ago`."""
    delta = value - now
    if abs(delta) < timedelta(seconds=5):
        return "just now"
    return f"in {human_duration(delta)}" if delta > timedelta(0) else f"{human_duration(delta)} ago"


def role_name(role: str, count: int = 1) -> str:
    """`political_officer` → `political officer`, or `2 political officers`."""
    words = role.replace("_", " ").replace("-", " ")
    if count == 1:
        return words
    plural = words + ("es" if words.endswith(("s", "sh", "ch", "x")) else "s")
    return f"{count} {plural}"


def a(phrase: str) -> str:
    """`a commander`, `an engineer`."""
    return ("an " if phrase[:1].lower() in "aeiou" and phrase else "a ") + phrase


def join_words(items: Iterable[str], last: str = "and") -> str:
    values = list(items)
    if len(values) <= 1:
        return "".join(values)
    return f"{', '.join(values[:-1])} {last} {values[-1]}"


def roles_phrase(roles: Iterable[str], last: str = "or") -> str:
    return join_words((role_name(r) for r in sorted(roles)), last)


def person_name(policy: Policy | None, person: str) -> str:
    """`Maj. Pak (pak)`, or just the id when the roster does not know a display name."""
    known = policy.people.get(person) if policy is not None else None
    if known is None or not known.name or known.name == person:
        return person
    return f"{known.name} ({person})"


def fillable_roles(order: OrderView, person: str) -> list[str]:
    """Roles of `order`'s missing seats that `person` could still fill."""
    return [s.role for s in order.seats if s.missing > 0 and person in s.eligible]


def open_vetoers(order: OrderView) -> list[str]:
    """People who could still veto `order`: veto holders who have not reviewed it yet."""
    reviewed = {r.reviewer for r in order.reviews}
    return [p for p in order.vetoers if p not in reviewed]


def value_text(value: Any) -> str:
    """A param value as a person reads it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)
