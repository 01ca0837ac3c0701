"""Order parameters checked against an action's declared schema."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cosignatory.core.policy.model import Action, ParamSpec, ParamType

__all__ = ["check_params", "sample_params", "sample_value"]

# Module constants, not `ParamType.X` in the hot path: on Python 3.11 reading an enum
# member goes through the enum metaclass, about 25x the cost of a global lookup.
_STRING, _INTEGER, _BOOLEAN, _LIST = (
    ParamType.STRING,
    ParamType.INTEGER,
    ParamType.BOOLEAN,
    ParamType.LIST,
)


def _type_ok(spec: ParamSpec, value: Any) -> bool:
    if spec.type is _STRING:
        return isinstance(value, str)
    if spec.type is _INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if spec.type is _BOOLEAN:
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_one(spec: ParamSpec, value: Any) -> list[str]:
    name = spec.name
    if not _type_ok(spec, value):
        want = "a list of strings" if spec.type is _LIST else f"a {spec.type.value}"
        return [f"param `{name}` must be {want}, got `{value!r}`"]
    problems: list[str] = []
    values = value if spec.type is _LIST else [value]
    for v in values:
        if spec.enum is not None and v not in spec.enum:
            allowed = ", ".join(f"`{e}`" for e in spec.enum)
            problems.append(f"param `{name}` is `{v}`; allowed values: {allowed}")
        if spec.pattern is not None and isinstance(v, str) and not re.fullmatch(spec.pattern, v):
            problems.append(f"param `{name}` is `{v}`, which does not match `{spec.pattern}`")
    if spec.type is _INTEGER:
        if spec.minimum is not None and value < spec.minimum:
            problems.append(f"param `{name}` is `{value}`; the minimum is {spec.minimum}")
        if spec.maximum is not None and value > spec.maximum:
            problems.append(f"param `{name}` is `{value}`; the maximum is {spec.maximum}")
    return problems


def _valid(spec: ParamSpec, value: Any) -> bool:
    """`_check_one(spec, value) == []`, without building messages (the common case).

    Written out per type, without helper calls or generators: it runs for every param
    of every order decided, and a test checks it agrees with `_check_one` on generated
    specs and values.
    """
    kind = spec.type
    if kind is _STRING:
        if not isinstance(value, str):
            return False
    elif kind is _INTEGER:
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        if spec.minimum is not None and value < spec.minimum:
            return False
        if spec.maximum is not None and value > spec.maximum:
            return False
    elif kind is _BOOLEAN:
        if not isinstance(value, bool):
            return False
    else:
        if not isinstance(value, list):
            return False
        return all(isinstance(v, str) and _valid_element(spec, v) for v in value)
    return _valid_element(spec, value)


def _valid_element(spec: ParamSpec, value: Any) -> bool:
    """A scalar, or one element of a list param, against `enum` and `pattern`."""
    if spec.enum is not None and value not in spec.enum:
        return False
    return (
        spec.pattern is None
        or not isinstance(value, str)
        or bool(re.fullmatch(spec.pattern, value))
    )


def check_params(action: Action, params: Mapping[str, Any]) -> list[str]:
    """Every problem with `params` for `action`, as sentences; empty when valid."""
    specs = action.params
    # The common case first: every key declared, every required one present (two subset
    # tests on dict views, in C), every value valid; then there is no message to build.
    if params.keys() <= specs.keys() and action.required <= params.keys():
        for name, value in params.items():
            spec = specs[name]
            if not (isinstance(value, str) if spec.any_string else _valid(spec, value)):
                break
        else:
            return []
    problems: list[str] = []
    for key in params:
        if key not in action.params:
            declared = ", ".join(f"`{k}`" for k in action.params) or "none"
            problems.append(
                f"unknown param `{key}` for action `{action.name}`; declared: {declared}"
            )
    for spec in action.params.values():
        if spec.name not in params:
            if spec.required:
                problems.append(f"param `{spec.name}` is required for action `{action.name}`")
            continue
        problems.extend(_check_one(spec, params[spec.name]))
    return problems


def sample_value(spec: ParamSpec) -> Any:
    """A valid value for `spec` (used to dry-run conditions at load time)."""
    if spec.enum:
        first = spec.enum[0]
        return [first] if spec.type is ParamType.LIST else first
    if spec.type is ParamType.INTEGER:
        if spec.minimum is not None:
            return spec.minimum
        return min(0, spec.maximum) if spec.maximum is not None else 0
    if spec.type is ParamType.BOOLEAN:
        return False
    if spec.type is ParamType.LIST:
        return []
    return "sample"


def sample_params(action: Action, *, include_optional: bool = True) -> dict[str, Any]:
    return {
        spec.name: sample_value(spec)
        for spec in action.params.values()
        if include_optional or spec.required
    }
