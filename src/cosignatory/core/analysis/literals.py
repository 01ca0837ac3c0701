"""What a CEL condition compares against: its literals and the params it reads.

The CEL binding exposes no syntax tree, so we tokenize the expression ourselves. We
only need the *values* written in it (to build boundary orders: `params.amount > 1000`
gives 1000 and 1001) and *which params* it reads; a literal is attributed to every
param the same condition reads. Over-approximating is harmless: a useless candidate
value costs one more sampled order, a missing one could hide a rule combination.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

__all__ = ["ConditionLiterals", "scan_condition"]

_STRING = re.compile(r'(?P<prefix>[rRbB]{0,2})(?P<quote>"""|\'\'\'|"|\')', re.ASCII)
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?", re.ASCII
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "`": "`", "?": "?"}
_VARIABLES = frozenset({"action", "params", "proposer", "justification", "now"})
_STRING_METHODS = frozenset({"startsWith", "endsWith", "contains", "matches"})


@dataclass(frozen=True, kw_only=True)
class ConditionLiterals:
    """Literals of one condition and what it reads."""

    params: frozenset[str]  # `params.x` and `params["x"]`
    ints: frozenset[int]
    floats: frozenset[float]
    strings: frozenset[str]
    timestamps: frozenset[datetime]
    string_methods: frozenset[str]  # startsWith, endsWith, contains, matches
    uses_size: bool
    variables: frozenset[str]  # top-level names read: params, proposer, justification, now
    whole_params: bool  # `params` used as a map (`"x" in params`, `size(params)`)


def _read_string(text: str, start: int, quote: str, raw: bool) -> tuple[str, int]:
    """The value of a string literal whose body starts at `start`; returns (value, end)."""
    out: list[str] = []
    i = start
    while i < len(text):
        if text.startswith(quote, i):
            return "".join(out), i + len(quote)
        ch = text[i]
        if ch == "\\" and not raw and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out), len(text)  # unterminated: the compiler refused it already


def _tokens(text: str) -> list[tuple[str, object]]:
    """(kind, value) tokens: `str`, `int`, `float`, `ident`, `op`."""
    out: list[tuple[str, object]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        string = _STRING.match(text, i)
        if string is not None:  # a quote, optionally after an r/b prefix (`r"..."`)
            raw = "r" in string.group("prefix").lower()
            value, i = _read_string(text, string.end(), string.group("quote"), raw)
            out.append(("str", value))
            continue
        number = _NUMBER.match(text, i)
        if number and (ch.isdigit() or ch == "."):
            word = number.group(0).rstrip("uU")
            if word.lower().startswith("0x"):
                out.append(("int", int(word, 16)))
            elif any(c in word for c in ".eE"):
                out.append(("float", float(word)))
            else:
                out.append(("int", int(word)))
            i = number.end()
            continue
        ident = _IDENT.match(text, i)
        if ident:
            out.append(("ident", ident.group(0)))
            i = ident.end()
            continue
        out.append(("op", ch))
        i += 1
    return out


def _timestamp(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def scan_condition(expression: str) -> ConditionLiterals:
    """Tokenize `expression` and collect its literals and param references."""
    tokens = _tokens(expression)
    params: set[str] = set()
    ints: set[int] = set()
    floats: set[float] = set()
    strings: set[str] = set()
    timestamps: set[datetime] = set()
    methods: set[str] = set()
    uses_size = False
    variables: set[str] = set()
    whole_params = False
    for k, (kind, value) in enumerate(tokens):
        prev = tokens[k - 1] if k >= 1 else ("", None)
        prev2 = tokens[k - 2] if k >= 2 else ("", None)
        nxt = tokens[k + 1] if k + 1 < len(tokens) else ("", None)
        if kind == "ident" and value in _VARIABLES and prev != ("op", "."):
            variables.add(str(value))
            after = tokens[k + 2][0] if k + 2 < len(tokens) else ""
            keyed = nxt == ("op", "[") and after == "str"
            if value == "params" and nxt != ("op", ".") and not keyed:
                whole_params = True
        if kind == "ident" and value == "size":
            uses_size = True
        if kind == "ident" and value in _STRING_METHODS and prev == ("op", "."):
            methods.add(str(value))
        if kind == "ident" and prev == ("op", ".") and prev2 == ("ident", "params"):
            params.add(str(value))
        if kind == "str" and prev == ("op", "[") and prev2 == ("ident", "params"):
            params.add(str(value))
            continue
        negative = prev == ("op", "-") and prev2[0] in ("op", "")  # unary minus
        if kind == "int" and isinstance(value, int):
            ints.add(-value if negative else value)
        elif kind == "float" and isinstance(value, float):
            floats.add(-value if negative else value)
        elif kind == "str" and isinstance(value, str):
            if prev == ("op", "(") and prev2 == ("ident", "timestamp"):
                stamp = _timestamp(value)
                if stamp is not None:
                    timestamps.add(stamp)
                continue
            strings.add(value)
    return ConditionLiterals(
        params=frozenset(params),
        ints=frozenset(ints),
        floats=frozenset(floats),
        strings=frozenset(strings),
        timestamps=frozenset(timestamps),
        string_methods=frozenset(methods),
        uses_size=uses_size,
        variables=frozenset(variables),
        whole_params=whole_params,
    )
