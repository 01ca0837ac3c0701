"""The propose form, built from an action's param schema, and read back into params.

Each declared param becomes one field named `param.<name>`; what a person typed is
kept (`raw`) so a form with errors comes back as they left it. Values are converted
by type here and then checked by the engine's own `check_params`, field by field, so
the page and the service can never disagree about what is valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cosignatory.core.policy import Action, ParamSpec, ParamType
from cosignatory.core.policy.params import check_params

__all__ = ["FIELD_PREFIX", "FieldKind", "ParamField", "ProposalForm", "blank_form", "read_form"]

FIELD_PREFIX = "param."
MAX_FIELD = 4000
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


class FieldKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    SELECT = "select"
    LINES = "lines"


@dataclass(frozen=True, kw_only=True)
class ParamField:
    spec: ParamSpec
    raw: str = ""
    error: str = ""

    @property
    def name(self) -> str:
        return FIELD_PREFIX + self.spec.name

    @property
    def dom_id(self) -> str:
        return "param-" + _UNSAFE_ID.sub("_", self.spec.name)

    @property
    def kind(self) -> FieldKind:
        if self.spec.type is ParamType.BOOLEAN or (
            self.spec.enum is not None and self.spec.type is not ParamType.LIST
        ):
            return FieldKind.SELECT
        if self.spec.type is ParamType.INTEGER:
            return FieldKind.NUMBER
        if self.spec.type is ParamType.LIST:
            return FieldKind.LINES
        return FieldKind.TEXT

    @property
    def options(self) -> list[tuple[str, str]]:
        """(value, label) pairs of a select; a blank first choice unless required."""
        if self.spec.type is ParamType.BOOLEAN:
            choices = [("true", "yes"), ("false", "no")]
        else:
            choices = [(str(e), str(e)) for e in self.spec.enum or ()]
        blank = ("", "— choose —" if self.spec.required else "— none —")
        return [blank, *choices]

    @property
    def hint(self) -> str:
        spec = self.spec
        parts = [spec.description] if spec.description else []
        if spec.type is ParamType.INTEGER:
            bounds = []
            if spec.minimum is not None:
                bounds.append(f"at least {spec.minimum}")
            if spec.maximum is not None:
                bounds.append(f"at most {spec.maximum}")
            parts.append("A whole number" + (", " + " and ".join(bounds) if bounds else "") + ".")
        if spec.type is ParamType.LIST:
            if spec.enum is not None:
                allowed = ", ".join(f"`{e}`" for e in spec.enum)
                parts.append(f"One per line, from: {allowed}.")
            else:
                parts.append("One per line.")
        if spec.pattern is not None:
            parts.append(f"Must match `{spec.pattern}`.")
        return " ".join(parts)


@dataclass(frozen=True, kw_only=True)
class ProposalForm:
    action: Action
    fields: tuple[ParamField, ...]
    params: Mapping[str, Any]  # the values that parsed, by param name

    @property
    def ok(self) -> bool:
        return not any(f.error for f in self.fields)

    @property
    def missing(self) -> tuple[str, ...]:
        """Required params that were left empty."""
        return tuple(
            f.spec.name
            for f in self.fields
            if f.spec.required and f.spec.name not in self.params and not f.raw.strip()
        )


def blank_form(action: Action) -> ProposalForm:
    return ProposalForm(
        action=action, fields=tuple(ParamField(spec=s) for s in action.params.values()), params={}
    )


def _convert(spec: ParamSpec, raw: str) -> tuple[Any, str]:
    """(value, "") or (None, error); a value of None with no error means left empty."""
    text = raw.strip()
    if spec.type is ParamType.LIST:
        items = [line.strip() for line in raw.splitlines() if line.strip()]
        return (items, "") if items else (None, "")
    if not text:
        return None, ""
    if spec.type is ParamType.INTEGER:
        if not re.fullmatch(r"[+-]?\d{1,18}", text):
            return None, f"`{text}` is not a whole number; write digits only, e.g. `42`"
        return int(text), ""
    if spec.type is ParamType.BOOLEAN:
        if text not in ("true", "false"):
            return None, f"`{text}` is not a choice; pick yes or no"
        return text == "true", ""
    return text, ""


def read_form(action: Action, unverified: Mapping[str, str], *, show_missing: bool) -> ProposalForm:
    """Read the submitted fields of `action`; `show_missing` flags empty required fields."""
    fields: list[ParamField] = []
    params: dict[str, Any] = {}
    for spec in action.params.values():
        raw = unverified.get(FIELD_PREFIX + spec.name, "")
        if len(raw) > MAX_FIELD:
            fields.append(
                ParamField(spec=spec, error=f"this field is limited to {MAX_FIELD} characters")
            )
            continue
        value, error = _convert(spec, raw)
        if not error and value is not None:
            alone = Action(name=action.name, params={spec.name: spec})
            error = "; ".join(check_params(alone, {spec.name: value}))
            if not error:
                params[spec.name] = value
        elif not error and spec.required and show_missing:
            error = "required: fill this in"
        fields.append(ParamField(spec=spec, raw=raw, error=error))
    return ProposalForm(action=action, fields=tuple(fields), params=params)
