"""`-p key=value` parsing for the remote CLI: values are JSON when they parse, else text.

Examples:

    -p unit=3rd-battalion      → "3rd-battalion"
    -p amount=1500             → 1500
    -p urgent=true             → true
    -p tags='["a","b"]'        → ["a", "b"]
    -p code='"007"'            → "007"  (quote to keep a number-like value a string)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from cosignatory.core.errors import InputError

__all__ = ["parse_params"]

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_params(unverified_pairs: Iterable[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in unverified_pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep:
            raise InputError(f"`{pair}` is not key=value; write e.g. `-p unit=3rd-battalion`")
        if not _KEY.fullmatch(key):
            raise InputError(
                f"`{key}` is not a parameter name; use letters, digits and `_` (in `{pair}`)"
            )
        if key in params:
            raise InputError(f"parameter `{key}` is given twice")
        try:
            value: Any = json.loads(raw, parse_constant=_not_json)
        except ValueError:
            value = raw
        params[key] = value
    return params


def _not_json(name: str) -> Any:
    """`NaN` and `Infinity` are not JSON; keep them as text."""
    raise ValueError(name)
