"""The `rules:` section of a policy: applies_to, proposers, seats, vetoes and CEL conditions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cosignatory.core.policy.conditions import (
    ConditionEvalError,
    ConditionSyntaxError,
    compile_condition,
    condition_context,
    evaluate_condition,
)
from cosignatory.core.policy.model import ALL_ACTIONS, Action, Person, Requirement, Rule
from cosignatory.core.policy.params import sample_params
from cosignatory.core.policy.walker import ID_HELP, NAME_RE, Walker, is_int, show, suggest
from cosignatory.core.policy.yamlpos import Pos, item_pos, node_pos, value_pos

__all__ = ["RULE_KEYS", "SEAT_KEYS", "parse_rules"]

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


def parse_rules(
    w: Walker,
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
        w.add(rpos, f"`rules` must be a list, got `{show(node)}`")
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
            w.add(
                value_pos(body, "id", ipos),
                f"duplicate rule id `{rule.id}` (first at line {seen[rule.id].line})",
            )
            continue
        seen[rule.id] = value_pos(body, "id", ipos)
        rules.append(rule)
        if program is not None:
            programs[rule.id] = program
    return rules, programs


def _role_refs(
    w: Walker, items: list[tuple[str, Pos]], roles: frozenset[str], where: str
) -> list[str]:
    out = []
    for role, pos in items:
        if role not in roles:
            w.add(pos, f"{where}: unknown role `{role}`: nobody holds it{suggest(role, roles)}")
        out.append(role)
    return out


def _rule(
    w: Walker,
    body: Mapping[Any, Any],
    index: int,
    pos: Pos,
    *,
    roles: frozenset[str],
    people: Mapping[str, Person],
    actions: Mapping[str, Action],
) -> tuple[Rule | None, Any]:
    rid = body.get("id")
    valid = isinstance(rid, str) and NAME_RE.fullmatch(rid) is not None
    if not valid:
        w.add(
            value_pos(body, "id", pos),
            f"rule #{index + 1} needs an `id` ({ID_HELP}), got `{show(rid)}`",
        )
        rid = f"#{index + 1}"
    where = f"rule `{rid}`"
    w.keys(body, RULE_KEYS, where, pos)
    start = len(w.issues)

    desc = body.get("description", "")
    if not isinstance(desc, str):
        w.add(value_pos(body, "description", pos), f"{where}: `description` must be a string")
    applies = _applies_to(w, body, pos, where, actions)
    proposers: frozenset[str] | None = None
    if "proposers" in body:
        ppos = value_pos(body, "proposers", pos)
        names = w.name_list(body["proposers"], f"{where} proposers", ppos)
        plist = _role_refs(w, names, roles, f"{where} proposers")
        if not plist:
            w.add(
                ppos,
                f"{where}: `proposers` is empty, so nobody could propose; "
                "remove it to let anyone propose",
            )
        proposers = frozenset(plist)
    veto: frozenset[str] = frozenset()
    if "veto" in body:
        vpos = value_pos(body, "veto", pos)
        names = w.name_list(body["veto"], f"{where} veto", vpos)
        veto = frozenset(_role_refs(w, names, roles, f"{where} veto"))
    require = _require(w, body, pos, where, roles, people)
    reject_after: int | None = None
    if "reject_after_denials" in body:
        raw_n = body["reject_after_denials"]
        if not is_int(raw_n) or raw_n < 1:
            w.add(
                value_pos(body, "reject_after_denials", pos),
                f"{where}: `reject_after_denials` must be an integer of at least 1, "
                f"got `{show(raw_n)}`",
            )
        else:
            reject_after = raw_n
    when, program = _condition(w, body, pos, where, applies, roles, actions)

    if not valid or len(w.issues) > start:
        return None, None
    rule = Rule(
        id=str(rid),
        description=desc if isinstance(desc, str) else "",
        applies_to=frozenset(applies),
        when=when,
        proposers=proposers,
        require=tuple(require),
        veto=veto,
        reject_after_denials=reject_after,
    )
    return rule, program


def _applies_to(
    w: Walker, body: Mapping[Any, Any], pos: Pos, where: str, actions: Mapping[str, Action]
) -> set[str]:
    applies: set[str] = set()
    apos = value_pos(body, "applies_to", pos)
    if "applies_to" not in body:
        w.add(pos, f'{where}: missing `applies_to`; name an action, a list of actions, or "*"')
        return applies
    raw = body["applies_to"]
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        w.add(apos, f'{where}: `applies_to` must be an action, a list of actions, or "*"')
        return applies
    for j, name in enumerate(items):
        jpos = apos if isinstance(raw, str) else item_pos(items, j, apos)
        if name == ALL_ACTIONS:
            applies.add(ALL_ACTIONS)
        elif not isinstance(name, str) or name not in actions:
            w.add(jpos, f"{where}: unknown action `{show(name)}`{suggest(str(name), actions)}")
        else:
            applies.add(name)
    return applies


def _require(
    w: Walker,
    body: Mapping[Any, Any],
    pos: Pos,
    where: str,
    roles: frozenset[str],
    people: Mapping[str, Person],
) -> list[Requirement]:
    """Seats; `require` must be explicit: an empty list is a choice, never an accident."""
    require: list[Requirement] = []
    if "require" not in body:
        w.add(
            pos,
            f"{where}: missing `require`; list the seats, or write `require: []` "
            "if matching orders need no confirmation",
        )
        return require
    qpos = value_pos(body, "require", pos)
    qnode = body["require"]
    if not isinstance(qnode, list):
        w.add(qpos, f"{where}: `require` must be a list of {{role, count}} seats")
        return require
    seen_roles: set[str] = set()
    for j, raw_seat in enumerate(qnode):
        spos = item_pos(qnode, j, qpos)
        seat = {"role": raw_seat} if isinstance(raw_seat, str) else raw_seat
        sbody = w.mapping(seat, f"{where} seat #{j + 1}", spos)
        if sbody is None:
            continue
        w.keys(sbody, SEAT_KEYS, f"{where} seat", spos)
        role = sbody.get("role")
        count = sbody.get("count", 1)
        cpos = value_pos(sbody, "count", spos) if "count" in sbody else spos
        if not isinstance(role, str) or role not in roles:
            w.add(
                value_pos(sbody, "role", spos),
                f"{where}: unknown role `{show(role)}` in `require`{suggest(str(role), roles)}",
            )
        elif not is_int(count) or count < 1:
            w.add(cpos, f"{where}: seat `{role}` needs `count` of at least 1, got `{show(count)}`")
        elif role in seen_roles:
            w.add(
                spos,
                f"{where}: role `{role}` is listed twice in `require`; use one seat with a `count`",
            )
        else:
            seen_roles.add(role)
            holders = sum(1 for p in people.values() if role in p.roles)
            if count > holders:
                who = "person holds" if holders == 1 else "people hold"
                w.add(
                    cpos,
                    f"{where}: seat `{role}` needs {count} but only {holders} {who} "
                    "that role: it can never be filled",
                )
            else:
                require.append(Requirement(role=role, count=count))
    return require


def _condition(
    w: Walker,
    body: Mapping[Any, Any],
    pos: Pos,
    where: str,
    applies: set[str],
    roles: frozenset[str],
    actions: Mapping[str, Action],
) -> tuple[str | None, Any]:
    """Compile `when` once, then dry-run it on a sample order of each action it covers."""
    if "when" not in body:
        return None, None
    when = body["when"]
    if not isinstance(when, str):
        w.add(
            value_pos(body, "when", pos),
            f"{where}: `when` must be a CEL expression string, got `{show(when)}`",
        )
        return None, None
    try:
        program = compile_condition(when)
    except ConditionSyntaxError as e:
        w.add(_cel_pos(body, pos, e.line, e.col), f"{where}: {e.message} in `{show(when)}`")
        return when, None
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
                f"{where}: condition `{show(when)}` fails on a sample `{aname}` order: {e.message}",
            )
            break
    return when, program
