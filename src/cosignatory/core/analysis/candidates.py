"""Candidate values for each dimension of a generated order.

A param no condition reads gets one valid value: it cannot change which rules match.
A param a condition reads gets the values its literals suggest (both sides of every
boundary: 1000 and 1001 for `> 1000`; `auth`, `auth-x` and `x-auth` for a string
compared with `auth`), the enum, the schema bounds, and "absent" when optional. Every
candidate is checked against the action's schema with the engine's own `check_params`,
so no generated order is refused for bad params.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from cosignatory.core.analysis.literals import ConditionLiterals
from cosignatory.core.policy.model import Action, ParamSpec, ParamType
from cosignatory.core.policy.params import check_params, sample_value

__all__ = [
    "ABSENT",
    "MAX_VALUES_PER_DIMENSION",
    "justification_candidates",
    "now_candidates",
    "param_candidates",
]

MAX_VALUES_PER_DIMENSION: Final = 16
_FALLBACK_STRINGS: Final = ("sample", "a", "x", "A", "0", "a0", "x-1", "A-1", "sample value")
_MAX_SIZE = 64  # longest string or list we build from a `size(...)` literal


class _Absent:
    """Marks an optional param left out of a generated order."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()


def _plain(value: Any) -> Any:
    """Builtin types only: YAML loaders hand out str and int subclasses."""
    if isinstance(value, bool) or value is ABSENT:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _key(value: Any) -> tuple[str, str]:
    # 1 == True in Python; keep them apart (a boolean param is not an integer param).
    return (type(value).__name__, repr(value))


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: set[tuple[str, str]] = set()
    out = []
    for v in map(_plain, values):
        k = _key(v)
        if k not in seen:
            seen.add(k)
            out.append(v)
    return out


def _integers(lits: Sequence[ConditionLiterals]) -> list[int]:
    points: list[int] = []
    for lit in lits:
        points.extend(sorted(lit.ints))
        for f in sorted(lit.floats):
            if math.isfinite(f):
                points.extend((math.floor(f), math.ceil(f)))
    out: list[int] = []
    for p in points:
        out.extend((p, p + 1, p - 1))
    return out


def _strings(lits: Sequence[ConditionLiterals]) -> list[str]:
    out: list[str] = []
    for lit in lits:
        regex = "matches" in lit.string_methods
        for s in sorted(lit.strings):
            # equal; longer (startsWith); prefixed (endsWith); inside (contains)
            out.extend((s, f"{s}-x", f"x-{s}", f"x{s}x"))
            if regex:  # a pattern, not a value: near misses and case may matter
                out.extend((s[:-1], s.upper(), s.lower()))
        if lit.uses_size:
            out.extend("a" * n for n in _integers([lit]) if 0 <= n <= _MAX_SIZE)
    return out


def _lists(spec: ParamSpec, lits: Sequence[ConditionLiterals]) -> list[list[str]]:
    items = (
        [str(e) for e in spec.enum]
        if spec.enum
        else [s for lit in lits for s in sorted(lit.strings)]
    )
    out: list[list[str]] = [[]]
    out.extend([item] for item in items)
    if len(items) > 1:
        out.append(list(items))
    filler = items[0] if items else "x"
    for lit in lits:
        if lit.uses_size:
            out.extend(
                [f"{filler}{i}" for i in range(n)] for n in _integers([lit]) if 0 <= n <= _MAX_SIZE
            )
    if not items:
        out.append(["x"])
    return out


def param_candidates(
    action: Action, spec: ParamSpec, lits: Sequence[ConditionLiterals], *, read: bool
) -> tuple[Any, ...]:
    """Valid values for `spec` (ABSENT for a left-out optional param), most telling first.

    With `read=False` (no condition reads the param) one value is enough. An empty
    result means no valid value could be generated for a required param.
    """
    only = Action(name=action.name, params={spec.name: spec})

    def valid(value: Any) -> bool:
        return value is ABSENT or not check_params(only, {spec.name: value})

    if not read:
        fallback = (
            [sample_value(spec), *_FALLBACK_STRINGS]
            if spec.type is ParamType.STRING
            else [sample_value(spec)]
        )
        first = next((v for v in fallback if valid(v)), None)
        if first is not None:
            return (first,)
        return () if spec.required else (ABSENT,)

    raw: list[Any] = []
    if spec.type is ParamType.LIST:
        raw.extend(_lists(spec, lits))
    elif spec.enum:
        raw.extend(spec.enum)
    elif spec.type is ParamType.INTEGER:
        points = _integers(lits)
        raw.extend(points)
        bounds = [b for b in (spec.minimum, spec.maximum) if b is not None]
        raw.extend(bounds)
        raw.extend(b + d for b in bounds for d in (1, -1))
        raw.append(sample_value(spec))
        if not points:
            raw.extend((0, 1, -1))
    elif spec.type is ParamType.BOOLEAN:
        raw.extend((False, True))
    else:
        derived = [v for v in _unique(_strings(lits)) if valid(v)]
        raw.extend(derived)
        # something that equals no literal, and the empty string, then fallbacks when
        # the pattern refuses everything above
        raw.extend(("sample", ""))
        if not derived:
            raw.extend(_FALLBACK_STRINGS)
    values = [v for v in _unique(raw) if valid(v)][: MAX_VALUES_PER_DIMENSION - 1]
    if not spec.required:
        values.append(ABSENT)
    return tuple(values)


def justification_candidates(lits: Sequence[ConditionLiterals]) -> tuple[str, ...]:
    words = [s for lit in lits for s in sorted(lit.strings)]
    raw = ["", *words, *(f"x {w} x" for w in words), *(w.upper() for w in words)]
    return tuple(_unique(raw)[:MAX_VALUES_PER_DIMENSION])


def now_candidates(now: datetime, lits: Sequence[ConditionLiterals]) -> tuple[datetime, ...]:
    """`now`, both sides of every timestamp literal, and hours across a week."""
    if now.tzinfo is None:
        raise RuntimeError("now_candidates needs a timezone-aware `now`")
    second = timedelta(seconds=1)
    raw: list[datetime] = [now]
    for lit in lits:
        for stamp in sorted(lit.timestamps):
            raw.extend((stamp, stamp + second, stamp - second))
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    raw.extend(midnight + timedelta(hours=h) for h in (3, 9, 13, 19, 23))
    raw.extend(midnight + timedelta(days=d, hours=12) for d in range(1, 7))
    return tuple(_unique(raw)[:MAX_VALUES_PER_DIMENSION])
