"""Rule conditions in CEL (the `common-expression-language` package, imported as `cel`).

Each `when` is compiled once per policy load; each order gets one context. Every error
from the CEL library is wrapped here into `ConditionSyntaxError` / `ConditionEvalError`,
and callers fail closed on them: a condition that cannot be evaluated never silently
skips its rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import cel

__all__ = [
    "CEL_VARIABLES",
    "MASK_BITS",
    "MAX_EXPRESSION_CHARS",
    "ConditionEvalError",
    "ConditionSyntaxError",
    "cel_context",
    "combine_conditions",
    "compile_condition",
    "condition_context",
    "condition_variables",
    "evaluate_condition",
    "param_keys",
]

# Bounded so a policy cannot smuggle in pathological expressions (parse time, memory).
MAX_EXPRESSION_CHARS = 2000
MAX_NESTING = 32
CEL_VARIABLES = frozenset({"action", "params", "proposer", "justification", "now"})

_CEL_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")
_PARAMS_WORD = re.compile(r"\bparams\b")
_PARAM_ACCESS = re.compile(
    r"""\bparams\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:"([^"\\]*)"|'([^'\\]*)')\s*\])"""
)


def param_keys(expression: str) -> frozenset[str] | None:
    """The param keys `expression` reads, or None when it may read the whole map.

    Converting values into CEL dominates evaluation time, so an order's context only
    carries the params its conditions can see. This is sound as a superset: every use
    of `params` must be a field access (`params.x`, `params["x"]`); any other use (e.g.
    `size(params)`, `"x" in params`) returns None and the whole map is passed.
    """
    accesses = list(_PARAM_ACCESS.finditer(expression))
    if len(accesses) != len(_PARAMS_WORD.findall(expression)):
        return None
    return frozenset(next(g for g in m.groups() if g is not None) for m in accesses)


class ConditionSyntaxError(Exception):
    """A `when` expression that does not compile; line/col are 1-based inside it."""

    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


class ConditionEvalError(Exception):
    """A compiled condition that failed on a concrete order."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _nesting(expression: str) -> int:
    depth = deepest = 0
    for ch in expression:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def compile_condition(expression: str) -> Any:
    """Compile `expression`; raise ConditionSyntaxError with a position on failure."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ConditionSyntaxError(
            f"condition is {len(expression)} characters long; the limit is "
            f"{MAX_EXPRESSION_CHARS}: split it into several rules"
        )
    if _nesting(expression) > MAX_NESTING:
        raise ConditionSyntaxError(f"condition nests deeper than {MAX_NESTING} levels; simplify it")
    if not expression.strip():
        raise ConditionSyntaxError("condition is empty; remove `when` or write an expression")
    try:
        program = cel.compile(expression)
    except Exception as e:  # the binding raises ValueError, but wrap anything it throws
        text = str(e)
        match = _CEL_POSITION.search(text)
        if match:
            detail = match.group(3).strip().splitlines()[0]
            raise ConditionSyntaxError(
                f"invalid CEL: {detail}", int(match.group(1)), int(match.group(2)) + 1
            ) from e
        raise ConditionSyntaxError(f"invalid CEL: {text.splitlines()[0] if text else e!r}") from e
    unknown = sorted(set(program.variables()) - CEL_VARIABLES)
    if unknown:
        names = ", ".join(f"`{n}`" for n in unknown)
        known = ", ".join(f"`{n}`" for n in sorted(CEL_VARIABLES))
        raise ConditionSyntaxError(f"unknown variable {names}; conditions may use {known}")
    return program


# A combined program returns a bit mask: rule i of its chunk sets bit i. Bits 0..62 sum
# to at most 2**63 - 1, the largest CEL int, so a chunk holds 63 rules.
MASK_BITS = 63


def combine_conditions(expressions: Sequence[str]) -> tuple[Any, ...] | None:
    """Programs evaluating every (already validated) expression at once, each returning
    a bit mask over up to MASK_BITS of them (bit i: expression i holds).

    A mask, not a list of booleans: one int comes back from CEL instead of a list to
    convert and filter. `(c) ? 1 : 0` raises "no such overload" when `c` is not a
    boolean, so a non-boolean condition still fails, and the caller then runs the
    conditions one by one to name the rule (fail closed). Each expression sits on its
    own lines, so a trailing `// comment` in one cannot swallow the next. None when
    there is nothing to combine or it does not compile.
    """
    if not expressions:
        return None
    programs: list[Any] = []
    for start in range(0, len(expressions), MASK_BITS):
        chunk = expressions[start : start + MASK_BITS]
        source = "\n+ ".join(f"((\n{e}\n) ? {1 << i} : 0)" for i, e in enumerate(chunk))
        try:
            programs.append(cel.compile(source))
        except Exception:  # foreign library; the per-rule programs remain the reference
            return None
    return tuple(programs)


def condition_variables(
    names: Iterable[str],
    param_keys: frozenset[str] | None,
    *,
    action: str,
    params: Mapping[str, Any],
    proposer_id: str,
    proposer_roles: Iterable[str],
    justification: str,
    now: datetime,
) -> dict[str, Any]:
    """An order's CEL variables: only those in `names` and, of `params`, only the keys in
    `param_keys` (all when None; see `param_keys`).

    Converting values into CEL is the expensive part of evaluating a condition (a
    string costs about twenty integers), so nothing a condition cannot read is passed.
    """
    if now.tzinfo is None:
        raise RuntimeError("condition variables need a timezone-aware `now`")
    variables: dict[str, Any] = {}
    for name in names:
        if name == "params":
            if param_keys is None:
                variables["params"] = dict(params)
            else:
                read: dict[str, Any] = {}
                for key in param_keys:  # a loop: a comprehension is a call on 3.11
                    if key in params:
                        read[key] = params[key]
                variables["params"] = read
        elif name == "justification":
            variables["justification"] = justification
        elif name == "action":
            variables["action"] = action
        elif name == "proposer":
            variables["proposer"] = {"id": proposer_id, "roles": sorted(proposer_roles)}
        elif name == "now":
            variables["now"] = now
    return variables


def condition_context(
    *,
    action: str,
    params: Mapping[str, Any],
    proposer_id: str,
    proposer_roles: Sequence[str],
    justification: str,
    now: datetime,
) -> dict[str, Any]:
    """Every CEL variable of an order (the load-time dry run uses this)."""
    return condition_variables(
        CEL_VARIABLES,
        None,
        action=action,
        params=params,
        proposer_id=proposer_id,
        proposer_roles=proposer_roles,
        justification=justification,
        now=now,
    )


def cel_context(variables: Mapping[str, Any]) -> Any:
    """One `cel.Context` for an order's variables, reused by every rule's condition
    (the values are converted into CEL once)."""
    ctx = cel.Context()
    ctx.update(dict(variables))
    return ctx


def _failure(error: Exception) -> ConditionEvalError:
    """Our typed error for any exception a compiled condition raised on an order."""
    if isinstance(error, KeyError):
        key = error.args[0] if error.args else error
        return ConditionEvalError(f"no such key `{key}`; declare the param or guard with has()")
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return ConditionEvalError(first[:300])


def evaluate_condition(program: Any, context: dict[str, Any] | Any) -> bool:
    """Run a compiled condition; anything but a boolean result is an error.

    `context` is a dict of variables or a context made by `cel_context`.
    """
    try:
        result = program.execute(context)
    except Exception as e:  # foreign library: wrap every failure, fail closed upstream
        raise _failure(e) from e
    if result is True or result is False:
        return result
    raise ConditionEvalError(
        f"condition returned `{result!r}` ({type(result).__name__}), not a boolean"
    )
