"""Who answers, and how fast: the availability model of a forecast (YAML, format 1).

```yaml
availability: 1
name: combat
default: {reachable: 0.9, median: 30m, p90: 2h}        # everyone, unless overridden
roles:
  political_officer: {reachable: 0.6, median: 2h, p90: 8h}
people:
  han: {reachable: 0.3}                                  # partial: the rest is inherited
  pak: {distribution: exponential, median: 1h}
```

`reachable` is the probability that a person responds at all before the order expires;
a reachable person's response time is lognormal with the given `median` and `p90` (the
usual shape of human response times: most answer soon, a few much later), or
exponential with the given `median`. A person's entry overrides their role's, which
overrides `default`, field by field; when several of a person's roles have entries, the
most pessimistic one applies (lowest `reachable`, then slowest `median`).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any, Final

from cosignatory.core.durations import format_duration, parse_duration
from cosignatory.core.errors import InputError
from cosignatory.core.policy.model import Person, Policy
from cosignatory.core.policy.yamlpos import Pos, YamlSyntaxError, key_pos, load_yaml, value_pos

__all__ = [
    "FORMAT_VERSION",
    "Availability",
    "Distribution",
    "Entry",
    "Response",
    "load_availability",
]

FORMAT_VERSION: Final = 1
Z90: Final = 1.2815515655446004  # the standard normal's 0.9 quantile
TOP_KEYS: Final = ("availability", "name", "description", "default", "roles", "people")
ENTRY_KEYS: Final = ("reachable", "distribution", "median", "p90")


class Distribution(StrEnum):
    LOGNORMAL = "lognormal"
    EXPONENTIAL = "exponential"


@dataclass(frozen=True, kw_only=True)
class Response:
    """One person's behaviour: P(responds) and the law of the response time."""

    reachable: float
    distribution: Distribution = Distribution.LOGNORMAL
    median: timedelta
    p90: timedelta | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.reachable <= 1.0 or math.isnan(self.reachable):
            raise ValueError(f"`reachable` must be between 0 and 1, got `{self.reachable}`")
        if self.median <= timedelta(0):
            raise ValueError("`median` must be longer than zero")
        if self.distribution is Distribution.LOGNORMAL:
            if self.p90 is None:
                raise ValueError("a lognormal response needs `p90` as well as `median`")
            if self.p90 <= self.median:
                raise ValueError(
                    f"`p90` ({format_duration(self.p90)}) must be longer than "
                    f"`median` ({format_duration(self.median)})"
                )
        elif self.p90 is not None:
            raise ValueError("an exponential response is given by `median` alone; remove `p90`")

    @property
    def mu(self) -> float:
        """log of the median, in seconds."""
        return math.log(self.median.total_seconds())

    @property
    def sigma(self) -> float:
        if self.p90 is None:
            raise RuntimeError("sigma is defined for lognormal responses only")
        return (math.log(self.p90.total_seconds()) - self.mu) / Z90

    @property
    def rate(self) -> float:
        """Exponential rate per second (ln 2 / median)."""
        return math.log(2) / self.median.total_seconds()

    def describe(self) -> str:
        shape = (
            f"lognormal median {format_duration(self.median)}, p90 {format_duration(self.p90)}"
            if self.p90 is not None
            else f"exponential median {format_duration(self.median)}"
        )
        return f"reachable {self.reachable:.0%}, {shape}"


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One entry of the file (default, role or person): each field may be left out."""

    reachable: float | None = None
    distribution: Distribution | None = None
    median: timedelta | None = None
    p90: timedelta | None = None

    def over(self, base: Entry) -> Entry:
        """`self`'s fields where set, else `base`'s."""
        dist = self.distribution or base.distribution
        p90 = self.p90 if self.p90 is not None else base.p90
        if self.distribution is Distribution.EXPONENTIAL and self.p90 is None:
            p90 = None  # switching to exponential drops an inherited p90
        if (
            self.distribution is Distribution.LOGNORMAL
            and base.distribution is Distribution.EXPONENTIAL
        ):
            p90 = self.p90
        return Entry(
            reachable=self.reachable if self.reachable is not None else base.reachable,
            distribution=dist,
            median=self.median if self.median is not None else base.median,
            p90=p90,
        )


@dataclass(frozen=True, kw_only=True)
class Availability:
    name: str
    description: str = ""
    default: Entry = field(default_factory=Entry)
    roles: Mapping[str, Entry] = field(default_factory=dict)
    people: Mapping[str, Entry] = field(default_factory=dict)
    source: str = field(default="<availability>", compare=False)

    def response(self, person: Person) -> Response:
        """The resolved response of `person`; InputError when something is missing."""
        partial = self.default
        role_entries = [self.roles[r] for r in sorted(person.roles) if r in self.roles]
        if role_entries:
            worst = min(
                role_entries,
                key=lambda p: (
                    p.reachable if p.reachable is not None else 2.0,
                    -(p.median or timedelta(0)).total_seconds(),
                ),
            )
            partial = worst.over(partial)
        if person.id in self.people:
            partial = self.people[person.id].over(partial)
        reachable, median = partial.reachable, partial.median
        if reachable is None or median is None:
            missing = " or ".join(
                f"`{k}`" for k in ("reachable", "median") if getattr(partial, k) is None
            )
            raise InputError(
                f"{self.source}: no {missing} for `{person.id}`: "
                "add a `default`, an entry for one of their roles, or one for them"
            )
        try:
            return Response(
                reachable=reachable,
                distribution=partial.distribution or Distribution.LOGNORMAL,
                median=median,
                p90=partial.p90,
            )
        except ValueError as e:
            raise InputError(f"{self.source}: availability of `{person.id}`: {e}") from e

    def with_person(self, pid: str, response: Response) -> Availability:
        """A copy where `pid` behaves as `response` (used for what-ifs and tests)."""
        people = dict(self.people)
        people[pid] = Entry(
            reachable=response.reachable,
            distribution=response.distribution,
            median=response.median,
            p90=response.p90,
        )
        return replace(self, people=people)


def _hint(name: str, known: Any) -> str:
    match = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean `{match[0]}`?" if match else ""


class _Reader:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.issues: list[tuple[Pos, str]] = []

    def add(self, pos: Pos, message: str) -> None:
        self.issues.append((pos, message))

    def entry(self, node: Any, where: str, pos: Pos) -> Entry:
        if not isinstance(node, Mapping):
            self.add(
                pos, f"{where} must be a mapping like `{{reachable: 0.9, median: 30m, p90: 2h}}`"
            )
            return Entry()
        for key in node:
            if key not in ENTRY_KEYS:
                self.add(
                    key_pos(node, key, pos),
                    f"unknown key `{key}` in {where}{_hint(str(key), ENTRY_KEYS)}; "
                    f"allowed: {', '.join(ENTRY_KEYS)}",
                )
        values: dict[str, Any] = {}
        if "reachable" in node:
            raw = node["reachable"]
            ok = isinstance(raw, int | float) and not isinstance(raw, bool) and 0 <= raw <= 1
            if ok:
                values["reachable"] = float(raw)
            else:
                self.add(
                    value_pos(node, "reachable", pos),
                    f"{where}: `reachable` is a probability between 0 and 1, got `{raw}`",
                )
        if "distribution" in node:
            raw = node["distribution"]
            try:
                values["distribution"] = Distribution(str(raw))
            except ValueError:
                self.add(
                    value_pos(node, "distribution", pos),
                    f"{where}: unknown distribution `{raw}`; use `lognormal` or `exponential`",
                )
        for key in ("median", "p90"):
            if key in node:
                try:
                    values[key] = parse_duration(str(node[key]))
                except ValueError as e:
                    self.add(value_pos(node, key, pos), f"{where}: `{key}`: {e}")
        partial = Entry(**values)
        if partial.median and partial.p90 and partial.p90 <= partial.median:
            self.add(value_pos(node, "p90", pos), f"{where}: `p90` must be longer than `median`")
        if partial.distribution is Distribution.EXPONENTIAL and partial.p90 is not None:
            self.add(
                value_pos(node, "p90", pos),
                f"{where}: an exponential response is given by `median` alone; remove `p90`",
            )
        return partial

    def section(self, doc: Mapping[Any, Any], key: str, known: Any, what: str) -> dict[str, Entry]:
        if key not in doc:
            return {}
        pos = value_pos(doc, key, Pos(line=1, col=1))
        node = doc[key]
        if not isinstance(node, Mapping):
            self.add(pos, f"`{key}` must be a mapping of {what} names to entries")
            return {}
        out = {}
        for name, body in node.items():
            npos = key_pos(node, name, pos)
            if name not in known:
                self.add(npos, f"unknown {what} `{name}` in `{key}`{_hint(str(name), known)}")
                continue
            out[str(name)] = self.entry(body, f"`{key}.{name}`", value_pos(node, name, npos))
        return out


def load_availability(text: str, *, filename: str, policy: Policy) -> Availability:
    """Parse an availability file against `policy`'s roster; every error at once."""
    top = Pos(line=1, col=1)
    try:
        doc = load_yaml(text)
    except YamlSyntaxError as e:
        raise InputError(f"{filename}:{e.pos.line}:{e.pos.col}: {e.message}") from e
    if not isinstance(doc, Mapping):
        raise InputError(
            f"{filename}:1:1: an availability file is a mapping starting with `availability: 1`"
        )
    r = _Reader(filename)
    for key in doc:
        if key not in TOP_KEYS:
            r.add(
                key_pos(doc, key, top),
                f"unknown key `{key}`{_hint(str(key), TOP_KEYS)}; allowed: {', '.join(TOP_KEYS)}",
            )
    if doc.get("availability") != FORMAT_VERSION or isinstance(doc.get("availability"), bool):
        r.add(
            value_pos(doc, "availability", top),
            f"missing or unsupported `availability: {doc.get('availability')}`; this cosignatory "
            "reads `availability: 1`",
        )
    name = doc.get("name", filename)
    description = doc.get("description", "")
    default = Entry()
    if "default" in doc:
        default = r.entry(doc["default"], "`default`", value_pos(doc, "default", top))
    roles = r.section(doc, "roles", policy.roles, "role")
    people = r.section(doc, "people", policy.people, "person")
    if r.issues:
        lines = [
            f"{filename}:{p.line}:{p.col}: {m}" for p, m in sorted(r.issues, key=lambda i: i[0])
        ]
        raise InputError("\n".join(lines))
    return Availability(
        name=str(name),
        description=str(description),
        default=default,
        roles=roles,
        people=people,
        source=filename,
    )
