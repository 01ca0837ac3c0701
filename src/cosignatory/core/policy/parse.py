"""Policy documents (YAML, format version 1) → a validated `Policy`, or every error at once.

Validation walks the document once, collecting `PolicyIssue`s with `FILE:LINE:COL`
positions; only a document without a single issue becomes a `Policy`. Nothing here
raises anything but `PolicyError` for bad input (a property test holds us to it).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cosignatory.core.durations import parse_duration
from cosignatory.core.errors import PolicyError, PolicyIssue
from cosignatory.core.policy.conditions import (
    ConditionEvalError,
    ConditionSyntaxError,
    compile_condition,
    condition_context,
    evaluate_condition,
)
from cosignatory.core.policy.model import (
    ALL_ACTIONS,
    Action,
    ParamSpec,
    ParamType,
    Person,
    Policy,
    Requirement,
    Rule,
    Settings,
)
from cosignatory.core.policy.params import sample_params
from cosignatory.core.policy.yamlpos import (
    Pos,
    YamlSyntaxError,
    item_pos,
    key_pos,
    load_yaml,
    node_pos,
    value_pos,
)

__all__ = ["FORMAT_VERSION", "MAX_POLICY_BYTES", "load_policy", "policy_digest"]

FORMAT_VERSION = 1
MAX_POLICY_BYTES = 1_000_000
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*")
ID_HELP = "lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit"

TOP_KEYS = ("cosignatory", "name", "description", "settings", "roles", "people", "actions", "rules")
SETTINGS_KEYS = ("ttl", "execution_window", "proposer_may_approve", "one_seat_per_person")
PERSON_KEYS = ("name", "roles")
ACTION_KEYS = ("description", "params")
PARAM_KEYS = ("type", "required", "enum", "minimum", "maximum", "pattern", "description")
RULE_KEYS = (
    "id",
    "description",
    "applies_to",
    "when",
    "proposers",
    "require",
    "veto",
    "reject_after_denials",
)
SEAT_KEYS = ("role", "count")
# A fixed instant for dry-running conditions at load time (the core never reads a clock).
SAMPLE_NOW = datetime(2000, 1, 1, tzinfo=UTC)


def policy_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class _Walker:
    file: str
    issues: list[PolicyIssue] = field(default_factory=list)

    def add(self, pos: Pos, message: str) -> None:
        self.issues.append(PolicyIssue(file=self.file, line=pos.line, col=pos.col, message=message))

    def mapping(self, node: Any, where: str, pos: Pos) -> Mapping[Any, Any] | None:
        if node is None:
            return {}
        if not isinstance(node, Mapping):
            self.add(pos, f"{where} must be a mapping, got `{_show(node)}`")
            return None
        return node

    def keys(self, node: Mapping[Any, Any], allowed: tuple[str, ...], where: str, pos: Pos) -> None:
        for key in node:
            kpos = key_pos(node, key, pos)
            if not isinstance(key, str):
                self.add(kpos, f"{where}: keys must be strings, got `{_show(key)}`")
            elif key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                tip = f"; did you mean `{hint[0]}`?" if hint else f"; allowed: {', '.join(allowed)}"
                self.add(kpos, f"unknown key `{key}` in {where}{tip}")

    def name_list(self, node: Any, where: str, pos: Pos) -> list[tuple[str, Pos]]:
        """A list of names (a lone string is accepted as a one-element list)."""
        if isinstance(node, str):
            node = [node]
        if not isinstance(node, list):
            self.add(pos, f"{where} must be a list of names, got `{_show(node)}`")
            return []
        out = []
        for i, item in enumerate(node):
            ipos = item_pos(node, i, pos)
            if not isinstance(item, str) or not NAME_RE.fullmatch(item):
                self.add(ipos, f"{where}: `{_show(item)}` is not a valid name ({ID_HELP})")
                continue
            out.append((item, ipos))
        return out


def _int(node: Any) -> bool:
    return isinstance(node, int) and not isinstance(node, bool)


def _suggest(name: str, known: Iterable[str]) -> str:
    hint = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean `{hint[0]}`?" if hint else ""


def _cel_pos(rule_node: Mapping[Any, Any], pos: Pos, line: int, col: int) -> Pos:
    """Where character (line, col) of the `when` expression sits in the file."""
    value = rule_node.get("when")
    start = value_pos(rule_node, "when", pos)
    style = type(value).__name__
    if style in ("LiteralScalarString", "FoldedScalarString"):
        # Block scalar: text starts on the next line, indented; assume the usual 2 spaces.
        return Pos(line=start.line + line, col=start.col + 1 + col)
    quoted = style in ("SingleQuotedScalarString", "DoubleQuotedScalarString")
    if line == 1:
        return Pos(line=start.line, col=start.col + col - 1 + (1 if quoted else 0))
    return Pos(line=start.line + line - 1, col=col)


def load_policy(text: str, *, filename: str = "<policy>") -> Policy:
    """Parse and validate a policy document; raise PolicyError listing every problem."""
    w = _Walker(file=filename)
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
        raise PolicyError(w.issues or [PolicyIssue(file=filename, line=1, col=1, message="invalid")])
    return policy


def _build(w: _Walker, doc: Mapping[Any, Any], text: str) -> Policy | None:
    top = Pos(line=1, col=1)
    w.keys(doc, TOP_KEYS, "the policy", top)

    version = doc.get("cosignatory")
    if "cosignatory" not in doc:
        w.add(top, "missing `cosignatory: 1` (the format version) at the top of the policy")
    elif version != FORMAT_VERSION or isinstance(version, bool):
        w.add(
            value_pos(doc, "cosignatory", top),
            f"unsupported format version `{_show(version)}`; this cosignatory reads `cosignatory: 1`",
        )

    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        w.add(value_pos(doc, "name", top), f"`name` must be a non-empty string, got `{_show(name)}`")
        name = ""

    settings = _settings(w, doc, top)
    declared_roles = _declared_roles(w, doc, top)
    people = _people(w, doc, top)
    held = {role for p in people.values() for role in p.roles}
    roles = frozenset(held | declared_roles)
    actions = _actions(w, doc, top)
    rules, programs = _rules(w, doc, top, roles=roles, people=people, actions=actions)

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


def _settings(w: _Walker, doc: Mapping[Any, Any], top: Pos) -> Settings:
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
                    raise ValueError(f"`{_show(raw)}` is not a duration; write e.g. `24h` or `30m`")
            except ValueError as e:
                w.add(value_pos(node, key, spos), f"settings.{key}: {e}")
                values.pop(key, None)
    for key in ("proposer_may_approve", "one_seat_per_person"):
        if key in node:
            if not isinstance(node[key], bool):
                w.add(value_pos(node, key, spos), f"settings.{key} must be true or false, got `{_show(node[key])}`")
            else:
                values[key] = node[key]
    if isinstance(values.get("ttl"), timedelta) and values["ttl"] > timedelta(days=366):
        w.add(value_pos(node, "ttl", spos), "settings.ttl is longer than a year; orders that old are stale")
    return Settings(**values)


def _declared_roles(w: _Walker, doc: Mapping[Any, Any], top: Pos) -> set[str]:
    if "roles" not in doc:
        return set()
    rpos = value_pos(doc, "roles", top)
    node = doc["roles"]
    if isinstance(node, Mapping):
        names = list(node.keys())
        for i, key in enumerate(names):
            if not isinstance(key, str) or not NAME_RE.fullmatch(key):
                w.add(key_pos(node, key, rpos), f"role `{_show(key)}` is not a valid name ({ID_HELP})")
                names[i] = None
        return {n for n in names if isinstance(n, str)}
    return {n for n, _ in w.name_list(node, "`roles`", rpos)}


def _people(w: _Walker, doc: Mapping[Any, Any], top: Pos) -> dict[str, Person]:
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
            w.add(kpos, f"person id `{_show(pid)}` is not valid ({ID_HELP})")
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


def _actions(w: _Walker, doc: Mapping[Any, Any], top: Pos) -> dict[str, Action]:
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
            w.add(kpos, f"action name `{_show(aname)}` is not valid ({ID_HELP})")
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
        actions[aname] = Action(name=aname, params=params, description=desc if isinstance(desc, str) else "")
    return actions


def _param(
    w: _Walker, aname: str, pnode: Any, pname: Any, pspec: Any, ppos: Pos
) -> ParamSpec | None:
    kpos = key_pos(pnode, pname, ppos)
    if not isinstance(pname, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", pname):
        w.add(kpos, f"param name `{_show(pname)}` of `{aname}` is not valid (lowercase, digits, `_`)")
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
            f"{where}: unknown type `{_show(raw_type)}`; use one of {', '.join(types)}"
            + _suggest(str(raw_type), types),
        )
        return None
    ptype = ParamType(raw_type)
    ok = True

    def check(key: str, pred: Callable[[Any], bool], want: str) -> None:
        nonlocal ok
        if key in body and not pred(body[key]):
            w.add(value_pos(body, key, vpos), f"{where}: `{key}` must be {want}, got `{_show(body[key])}`")
            ok = False

    check("required", lambda v: isinstance(v, bool), "true or false")
    check("description", lambda v: isinstance(v, str), "a string")
    elem_ok: Callable[[Any], bool] = {
        ParamType.STRING: lambda v: isinstance(v, str),
        ParamType.LIST: lambda v: isinstance(v, str),
        ParamType.INTEGER: _int,
        ParamType.BOOLEAN: lambda v: isinstance(v, bool),
    }[ptype]
    check("enum", lambda v: isinstance(v, list) and len(v) > 0 and all(elem_ok(x) for x in v),
          f"a non-empty list of {'strings' if ptype is ParamType.LIST else ptype.value} values")
    for key in ("minimum", "maximum"):
        if key in body and ptype is not ParamType.INTEGER:
            w.add(value_pos(body, key, vpos), f"{where}: `{key}` only applies to integer params")
            ok = False
        else:
            check(key, _int, "an integer")
    if "pattern" in body:
        if ptype not in (ParamType.STRING, ParamType.LIST) or not isinstance(body["pattern"], str):
            w.add(value_pos(body, "pattern", vpos), f"{where}: `pattern` must be a regex string on a string or list param")
            ok = False
        else:
            try:
                re.compile(body["pattern"])
            except re.error as e:
                w.add(value_pos(body, "pattern", vpos), f"{where}: invalid regex `{_show(body['pattern'])}`: {e}")
                ok = False
    if ok and _int(body.get("minimum")) and _int(body.get("maximum")) and body["minimum"] > body["maximum"]:
        w.add(value_pos(body, "minimum", vpos), f"{where}: minimum {body['minimum']} is above maximum {body['maximum']}")
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


def _rules(
    w: _Walker,
    doc: Mapping[Any, Any],
    top: Pos,
    *,
    roles: frozenset[str],
    people: Mapping[str, Person],
    actions: Mapping[str, Action],
) -> tuple[list[Rule], dict[str, Any]]:
    rpos = value_pos(doc, "rules", top)
    if "rules" not in doc:
        w.add(top, "missing `rules`: without rules every proposal is refused")
        return [], {}
    node = doc["rules"]
    if not isinstance(node, list):
        w.add(rpos, f"`rules` must be a list, got `{_show(node)}`")
        return [], {}
    rules: list[Rule] = []
    programs: dict[str, Any] = {}
    seen: dict[str, Pos] = {}
    for i, raw in enumerate(node):
        ipos = item_pos(node, i, rpos)
        body = w.mapping(raw, f"rule #{i + 1}", ipos)
        if body is None:
            continue
        ipos = node_pos(body, ipos)
        rule, program = _rule(w, body, i, ipos, roles=roles, people=people, actions=actions)
        if rule is None:
            continue
        if rule.id in seen:
            w.add(value_pos(body, "id", ipos), f"duplicate rule id `{rule.id}` (first at line {seen[rule.id].line})")
            continue
        seen[rule.id] = value_pos(body, "id", ipos)
        rules.append(rule)
        if program is not None:
            programs[rule.id] = program
    return rules, programs


def _role_refs(
    w: _Walker, items: list[tuple[str, Pos]], roles: frozenset[str], where: str
) -> list[str]:
    out = []
    for role, pos in items:
        if role not in roles:
            w.add(pos, f"{where}: unknown role `{role}`: nobody holds it{_suggest(role, roles)}")
        out.append(role)
    return out


def _rule(
    w: _Walker,
    body: Mapping[Any, Any],
    index: int,
    pos: Pos,
    *,
    roles: frozenset[str],
    people: Mapping[str, Person],
    actions: Mapping[str, Action],
) -> tuple[Rule | None, Any]:
    rid = body.get("id")
    if not isinstance(rid, str) or not NAME_RE.fullmatch(rid):
        w.add(value_pos(body, "id", pos), f"rule #{index + 1} needs an `id` ({ID_HELP}), got `{_show(rid)}`")
        rid = f"#{index + 1}"
        valid = False
    else:
        valid = True
    where = f"rule `{rid}`"
    w.keys(body, RULE_KEYS, where, pos)
    start = len(w.issues)

    desc = body.get("description", "")
    if not isinstance(desc, str):
        w.add(value_pos(body, "description", pos), f"{where}: `description` must be a string")

    # applies_to
    apos = value_pos(body, "applies_to", pos)
    applies: set[str] = set()
    if "applies_to" not in body:
        w.add(pos, f"{where}: missing `applies_to`; name an action, a list of actions, or \"*\"")
    else:
        raw = body["applies_to"]
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not items:
            w.add(apos, f"{where}: `applies_to` must be an action, a list of actions, or \"*\"")
        else:
            for j, name in enumerate(items):
                jpos = apos if isinstance(raw, str) else item_pos(items, j, apos)
                if name == ALL_ACTIONS:
                    applies.add(ALL_ACTIONS)
                elif not isinstance(name, str) or name not in actions:
                    w.add(jpos, f"{where}: unknown action `{_show(name)}`{_suggest(str(name), actions)}")
                else:
                    applies.add(name)

    # proposers, veto
    proposers: frozenset[str] | None = None
    if "proposers" in body:
        ppos = value_pos(body, "proposers", pos)
        plist = _role_refs(w, w.name_list(body["proposers"], f"{where} proposers", ppos), roles, f"{where} proposers")
        if not plist:
            w.add(ppos, f"{where}: `proposers` is empty, so nobody could propose; remove it to let anyone propose")
        proposers = frozenset(plist)
    veto: frozenset[str] = frozenset()
    if "veto" in body:
        vpos = value_pos(body, "veto", pos)
        veto = frozenset(_role_refs(w, w.name_list(body["veto"], f"{where} veto", vpos), roles, f"{where} veto"))

    # require: must be explicit; an empty list is a deliberate choice, never an accident.
    require: list[Requirement] = []
    if "require" not in body:
        w.add(pos, f"{where}: missing `require`; list the seats, or write `require: []` if matching orders need no confirmation")
    else:
        qpos = value_pos(body, "require", pos)
        qnode = body["require"]
        if not isinstance(qnode, list):
            w.add(qpos, f"{where}: `require` must be a list of {{role, count}} seats")
            qnode = []
        seen_roles: set[str] = set()
        for j, seat in enumerate(qnode):
            spos = item_pos(qnode, j, qpos)
            if isinstance(seat, str):
                seat = {"role": seat}
            sbody = w.mapping(seat, f"{where} seat #{j + 1}", spos)
            if sbody is None:
                continue
            w.keys(sbody, SEAT_KEYS, f"{where} seat", spos)
            role = sbody.get("role")
            count = sbody.get("count", 1)
            if not isinstance(role, str) or role not in roles:
                w.add(value_pos(sbody, "role", spos), f"{where}: unknown role `{_show(role)}` in `require`{_suggest(str(role), roles)}")
                continue
            if not _int(count) or count < 1:
                w.add(value_pos(sbody, "count", spos), f"{where}: seat `{role}` needs `count` of at least 1, got `{_show(count)}`")
                continue
            if role in seen_roles:
                w.add(spos, f"{where}: role `{role}` is listed twice in `require`; use one seat with a `count`")
                continue
            seen_roles.add(role)
            holders = sum(1 for p in people.values() if role in p.roles)
            if count > holders:
                w.add(
                    value_pos(sbody, "count", spos) if "count" in sbody else spos,
                    f"{where}: seat `{role}` needs {count} but only {holders} "
                    f"{'person holds' if holders == 1 else 'people hold'} that role: it can never be filled",
                )
                continue
            require.append(Requirement(role=role, count=count))

    reject_after: int | None = None
    if "reject_after_denials" in body:
        raw_n = body["reject_after_denials"]
        if not _int(raw_n) or raw_n < 1:
            w.add(value_pos(body, "reject_after_denials", pos), f"{where}: `reject_after_denials` must be an integer of at least 1, got `{_show(raw_n)}`")
        else:
            reject_after = raw_n

    # when (CEL): compile once, then dry-run on a sample order of each action it covers.
    program = None
    when = body.get("when")
    if "when" in body:
        if not isinstance(when, str):
            w.add(value_pos(body, "when", pos), f"{where}: `when` must be a CEL expression string, got `{_show(when)}`")
            when = None
        else:
            try:
                program = compile_condition(when)
            except ConditionSyntaxError as e:
                w.add(_cel_pos(body, pos, e.line, e.col), f"{where}: {e.message} in `{_show(when)}`")
            if program is not None:
                targets = sorted(actions) if ALL_ACTIONS in applies else sorted(applies)
                for aname in targets:
                    ctx = condition_context(
                        action=aname,
                        params=sample_params(actions[aname]),
                        proposer_id="sample-proposer",
                        proposer_roles=sorted(roles),
                        justification="",
                        now=SAMPLE_NOW,
                    )
                    try:
                        evaluate_condition(program, ctx)
                    except ConditionEvalError as e:
                        w.add(
                            value_pos(body, "when", pos),
                            f"{where}: condition `{_show(when)}` fails on a sample `{aname}` order: {e.message}",
                        )
                        break

    if not valid or len(w.issues) > start:
        return None, None
    return (
        Rule(
            id=rid,
            description=desc if isinstance(desc, str) else "",
            applies_to=frozenset(applies),
            when=when,
            proposers=proposers,
            require=tuple(require),
            veto=veto,
            reject_after_denials=reject_after,
        ),
        program,
    )
