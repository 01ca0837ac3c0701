"""Durations as written in policies: `90s`, `30m`, `24h`, `7d`, `1h30m`."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str) -> timedelta:
    """Parse `1d2h3m4s` (any part optional, at least one present, total > 0).

    Raises ValueError with a message that says what is accepted.
    """
    match = _DURATION.fullmatch(text.strip()) if text.strip() else None
    if match is None or not any(match.groups()):
        raise ValueError(
            f"`{text}` is not a duration; write it as a number with a unit, "
            "e.g. `90s`, `30m`, `24h`, `7d` or `1h30m`"
        )
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    value = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if value <= timedelta(0):
        raise ValueError(f"`{text}` must be longer than zero")
    return value


def format_duration(value: timedelta) -> str:
    """The shortest `1d2h3m4s` form of a whole number of seconds."""
    total = int(value.total_seconds())
    if total <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return "".join(parts)
