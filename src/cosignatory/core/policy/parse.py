"""Policy documents (YAML, format version 1) → a validated `Policy`, or every error at once.

Validation walks the document once, collecting `PolicyIssue`s with `FILE:LINE:COL`
positions; only a document without a single issue becomes a `Policy`. Nothing here
raises anything but `PolicyError` for bad input (a property test holds us to it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from cosignatory.core.durations import parse_duration
from cosignatory.core.errors import PolicyError, PolicyIssue
from cosignatory.core.policy.model import (
    Action,
    ParamSpec,
    ParamType,
    Person,
    Policy,
    Settings,
)
from cosignatory.core.policy.parse_rules import parse_rules
from cosignatory.core.policy.walker import ID_HELP, NAME_RE, Walker, is_int, show, suggest
from cosignatory.core.policy.yamlpos import (
    Pos,
    YamlSyntaxError,
    key_pos,
    load_yaml,
    value_pos,
)

__all__ = ["FORMAT_VERSION", "MAX_POLICY_BYTES", "load_policy", "policy_digest"]

FORMAT_VERSION = 1
MAX_POLICY_BYTES = 1_000_000

TOP_KEYS = ("cosignatory", "name", "description", "settings", "roles", "people", "actions", "rules")
SETTINGS_KEYS = ("ttl", "execution_window", "proposer_may_approve", "one_seat_per_person")
PERSON_KEYS = ("name", "roles")
ACTION_KEYS = ("description", "params")
PARAM_KEYS = ("type", "required", "enum", "minimum", "maximum", "pattern", "description")


def policy_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_policy(text: str, *, filename: str = "<policy>") -> Policy:
    """Parse and validate a policy document; raise PolicyError listing every problem."""
    w = Walker(file=filename)
    top = Pos(line=1, col=1)
    if len(text.encode("utf-8", errors="replace")) > MAX_POLICY_BYTES:
        w.add(top, f"policy is larger than {MAX_POLICY_BYTES} bytes; split it or trim it")
        raise PolicyError(w.issues)
    try:
        doc = load_yaml(text)
    except YamlSyntaxError as e:
        w.add(e.pos, e.message)
        raise PolicyError(w.issues) from e
    except RecursionError as e:
        w.add(top, "yaml nests too deeply")
        raise PolicyError(w.issues) from e
    if not isinstance(doc, Mapping):
        w.add(top, "a policy must be a yaml mapping starting with `cosignatory: 1`")
        raise PolicyError(w.issues)
    policy = _build(w, doc, text)
    if w.issues or policy is None:
        raise PolicyError(
            w.issues or [PolicyIssue(file=filename, line=1, col=1, message="invalid")]
        )
    return policy


def _build(w: Walker, doc: Mapping[Any, Any], text: str) -> Policy | None:
    top = Pos(line=1, col=1)
    w.keys(doc, TOP_KEYS, "the policy", top)

    version = doc.get("cosignatory")
    if "cosignatory" not in doc:
        w.add(top, "missing `cosignatory: 1` (the format version) at the top of the policy")
    elif version != FORMAT_VERSION or isinstance(version, bool):
        w.add(
            value_pos(doc, "cosignatory", top),
            f"unsupported format version `{show(version)}`; "
            "this cosignatory reads `cosignatory: 1`",
        )

    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        w.add(value_pos(doc, "name", top), f"`name` must be a non-empty string, got `{show(name)}`")
        name = ""

    settings = _settings(w, doc, top)
    declared_roles = _declared_roles(w, doc, top)
    people = _people(w, doc, top)
    held = {role for p in people.values() for role in p.roles}
    roles = frozenset(held | declared_roles)
    actions = _actions(w, doc, top)
    rules, programs = parse_rules(w, doc, top, roles=roles, people=people, actions=actions)

    if w.issues:
        return None
    return Policy(
        name=name,
        settings=settings,
        people=people,
        actions=actions,
        rules=tuple(rules),
        roles=roles,
        digest=policy_digest(text),
        source=text,
        conditions=programs,
    )


def _settings(w: Walker, doc: Mapping[Any, Any], top: Pos) -> Settings:
    spos = value_pos(doc, "settings", top)
    node = w.mapping(doc.get("settings"), "`settings`", spos)
    if node is None:
        return Settings()
    w.keys(node, SETTINGS_KEYS, "`settings`", spos)
    values: dict[str, Any] = {}
    for key in ("ttl", "execution_window"):
        if key in node:
            raw = node[key]
            try:
                values[key] = parse_duration(str(raw)) if isinstance(raw, str | int) else None
                if values[key] is None:
                    raise ValueError(f"`{show(raw)}` is not a duration; write e.g. `24h` or `30m`")
            except ValueError as e:
                w.add(value_pos(node, key, spos), f"settings.{key}: {e}")
                values.pop(key, None)
    for key in ("proposer_may_approve", "one_seat_per_person"):
        if key in node:
            if not isinstance(node[key], bool):
                w.add(
                    value_pos(node, key, spos),
                    f"settings.{key} must be true or false, got `{show(node[key])}`",
                )
            else:
                values[key] = node[key]
    if isinstance(values.get("ttl"), timedelta) and values["ttl"] > timedelta(days=366):
        w.add(
            value_pos(node, "ttl", spos),
            "settings.ttl is longer than a year; orders that old are stale",
        )
    return Settings(**values)


def _declared_roles(w: Walker, doc: Mapping[Any, Any], top: Pos) -> set[str]:
    if "roles" not in doc:
        return set()
    rpos = value_pos(doc, "roles", top)
    node = doc["roles"]
    if isinstance(node, Mapping):
        names = list(node.keys())
        for i, key in enumerate(names):
            if not isinstance(key, str) or not NAME_RE.fullmatch(key):
                w.add(
                    key_pos(node, key, rpos), f"role `{show(key)}` is not a valid name ({ID_HELP})"
                )
                names[i] = None
        return {n for n in names if isinstance(n, str)}
    return {n for n, _ in w.name_list(node, "`roles`", rpos)}


def _people(w: Walker, doc: Mapping[Any, Any], top: Pos) -> dict[str, Person]:
    ppos = value_pos(doc, "people", top)
    if "people" not in doc:
        w.add(top, "missing `people`: list who may propose and confirm orders")
        return {}
    node = w.mapping(doc["people"], "`people`", ppos)
    if node is None:
        return {}
    people: dict[str, Person] = {}
    for pid, spec in node.items():
        kpos = key_pos(node, pid, ppos)
        if not isinstance(pid, str) or not NAME_RE.fullmatch(pid):
            w.add(kpos, f"person id `{show(pid)}` is not valid ({ID_HELP})")
            continue
        vpos = value_pos(node, pid, kpos)
        body = w.mapping(spec, f"person `{pid}`", vpos)
        if body is None:
            continue
        w.keys(body, PERSON_KEYS, f"person `{pid}`", vpos)
        display = body.get("name", pid)
        if not isinstance(display, str):
            w.add(value_pos(body, "name", vpos), f"person `{pid}`: `name` must be a string")
            display = pid
        roles_node = body.get("roles", [])
        rpos = value_pos(body, "roles", vpos)
        roles = [r for r, _ in w.name_list(roles_node, f"roles of `{pid}`", rpos)]
        if len(set(roles)) != len(roles):
            w.add(rpos, f"person `{pid}` lists a role twice")
        people[pid] = Person(id=pid, name=display, roles=frozenset(roles))
    return people


def _actions(w: Walker, doc: Mapping[Any, Any], top: Pos) -> dict[str, Action]:
    apos = value_pos(doc, "actions", top)
    if "actions" not in doc:
        w.add(top, "missing `actions`: declare the kinds of order this policy governs")
        return {}
    node = w.mapping(doc["actions"], "`actions`", apos)
    if node is None:
        return {}
    actions: dict[str, Action] = {}
    for aname, spec in node.items():
        kpos = key_pos(node, aname, apos)
        if not isinstance(aname, str) or not NAME_RE.fullmatch(aname):
            w.add(kpos, f"action name `{show(aname)}` is not valid ({ID_HELP})")
            continue
        vpos = value_pos(node, aname, kpos)
        body = w.mapping(spec, f"action `{aname}`", vpos)
        if body is None:
            continue
        w.keys(body, ACTION_KEYS, f"action `{aname}`", vpos)
        desc = body.get("description", "")
        params: dict[str, ParamSpec] = {}
        ppos = value_pos(body, "params", vpos)
        pnode = w.mapping(body.get("params"), f"params of `{aname}`", ppos)
        for pname, pspec in (pnode or {}).items():
            param = _param(w, aname, pnode, pname, pspec, ppos)
            if param is not None:
                params[param.name] = param
        actions[aname] = Action(
            name=aname, params=params, description=desc if isinstance(desc, str) else ""
        )
    return actions


def _param(
    w: Walker, aname: str, pnode: Any, pname: Any, pspec: Any, ppos: Pos
) -> ParamSpec | None:
    kpos = key_pos(pnode, pname, ppos)
    if not isinstance(pname, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", pname):
        w.add(
            kpos, f"param name `{show(pname)}` of `{aname}` is not valid (lowercase, digits, `_`)"
        )
        return None
    where = f"param `{aname}.{pname}`"
    vpos = value_pos(pnode, pname, kpos)
    body = w.mapping(pspec, where, vpos)
    if body is None:
        return None
    w.keys(body, PARAM_KEYS, where, vpos)
    raw_type = body.get("type", "string")
    types = [t.value for t in ParamType]
    if raw_type not in types:
        w.add(
            value_pos(body, "type", vpos),
            f"{where}: unknown type `{show(raw_type)}`; use one of {', '.join(types)}"
            + suggest(str(raw_type), types),
        )
        return None
    ptype = ParamType(raw_type)
    ok = True

    def check(key: str, pred: Callable[[Any], bool], want: str) -> None:
        nonlocal ok
        if key in body and not pred(body[key]):
            w.add(
                value_pos(body, key, vpos),
                f"{where}: `{key}` must be {want}, got `{show(body[key])}`",
            )
            ok = False

    check("required", lambda v: isinstance(v, bool), "true or false")
    check("description", lambda v: isinstance(v, str), "a string")
    elem_ok: Callable[[Any], bool] = {
        ParamType.STRING: lambda v: isinstance(v, str),
        ParamType.LIST: lambda v: isinstance(v, str),
        ParamType.INTEGER: is_int,
        ParamType.BOOLEAN: lambda v: isinstance(v, bool),
    }[ptype]
    check(
        "enum",
        lambda v: isinstance(v, list) and len(v) > 0 and all(elem_ok(x) for x in v),
        f"a non-empty list of {'strings' if ptype is ParamType.LIST else ptype.value} values",
    )
    for key in ("minimum", "maximum"):
        if key in body and ptype is not ParamType.INTEGER:
            w.add(value_pos(body, key, vpos), f"{where}: `{key}` only applies to integer params")
            ok = False
        else:
            check(key, is_int, "an integer")
    if "pattern" in body:
        if ptype not in (ParamType.STRING, ParamType.LIST) or not isinstance(body["pattern"], str):
            w.add(
                value_pos(body, "pattern", vpos),
                f"{where}: `pattern` must be a regex string on a string or list param",
            )
            ok = False
        else:
            try:
                re.compile(body["pattern"])
            except re.error as e:
                w.add(
                    value_pos(body, "pattern", vpos),
                    f"{where}: invalid regex `{show(body['pattern'])}`: {e}",
                )
                ok = False
    if (
        ok
        and is_int(body.get("minimum"))
        and is_int(body.get("maximum"))
        and body["minimum"] > body["maximum"]
    ):
        w.add(
            value_pos(body, "minimum", vpos),
            f"{where}: minimum {body['minimum']} is above maximum {body['maximum']}",
        )
        ok = False
    if not ok:
        return None
    return ParamSpec(
        name=pname,
        type=ptype,
        required=bool(body.get("required", False)),
        enum=tuple(body["enum"]) if "enum" in body else None,
        minimum=body.get("minimum"),
        maximum=body.get("maximum"),
        pattern=body.get("pattern"),
        description=body.get("description", ""),
    )
