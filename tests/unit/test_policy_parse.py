"""Policy validation: every error at once, as FILE:LINE:COL: message."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from cosignatory.core.errors import PolicyError
from cosignatory.core.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]

BASE = """\
cosignatory: 1
name: t
people:
  kim: {roles: [commander]}
  pak: {roles: [political_officer]}
actions:
  move:
    params:
      unit: {type: string, required: true}
      amount: {type: integer}
rules:
  - id: political
    applies_to: "*"
    proposers: [commander]
    require: [{role: political_officer}]
"""


def issues(text: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(text, filename="p.yaml")
    return [str(i) for i in info.value.issues]


@pytest.mark.parametrize("path", sorted(ROOT.glob("examples/*/policy.yaml")))
def test_examples_are_valid(path: Path) -> None:
    pol = load_policy(path.read_text(), filename=str(path))
    assert pol.rules and pol.people and pol.digest.startswith("sha256:")


def test_base_is_valid() -> None:
    pol = load_policy(BASE)
    assert pol.settings.ttl == timedelta(hours=24)
    assert pol.holders("political_officer") == {"pak"}


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        (
            "typo in a rule key",
            ("    require:", "    requires:"),
            "p.yaml:15:5: unknown key `requires` in rule `political`; did you mean `require`?",
        ),
        (
            "unknown role in require",
            ("role: political_officer", "role: politcal_officer"),
            "p.yaml:15:22: rule `political`: unknown role `politcal_officer` in `require`; did you mean `political_officer`?",
        ),
        (
            "unknown proposer role",
            ("proposers: [commander]", "proposers: [comander]"),
            "p.yaml:14:17: rule `political` proposers: unknown role `comander`: nobody holds it; did you mean `commander`?",
        ),
        (
            "unknown action",
            ('applies_to: "*"', "applies_to: mvoe"),
            "p.yaml:13:17: rule `political`: unknown action `mvoe`; did you mean `move`?",
        ),
        (
            "count below one",
            ("{role: political_officer}", "{role: political_officer, count: 0}"),
            "p.yaml:15:48: rule `political`: seat `political_officer` needs `count` of at least 1, got `0`",
        ),
        (
            "seat that can never be filled",
            ("{role: political_officer}", "{role: political_officer, count: 2}"),
            "p.yaml:15:48: rule `political`: seat `political_officer` needs 2 but only 1 person holds that role: it can never be filled",
        ),
        (
            "bad version",
            ("cosignatory: 1", "cosignatory: 2"),
            "p.yaml:1:14: unsupported format version `2`; this cosignatory reads `cosignatory: 1`",
        ),
        (
            "bad param type",
            ("{type: integer}", "{type: int}"),
            "p.yaml:10:22: param `move.amount`: unknown type `int`; use one of string, integer, boolean, list; did you mean `integer`?",
        ),
        (
            "missing require",
            ("    require: [{role: political_officer}]\n", ""),
            "p.yaml:12:5: rule `political`: missing `require`; list the seats, or write `require: []` if matching orders need no confirmation",
        ),
    ],
)
def test_single_errors(name: str, edit: tuple[str, str], expected: str) -> None:
    text = BASE.replace(*edit)
    assert text != BASE, name
    assert expected in issues(text), name


def test_bad_durations_and_settings() -> None:
    text = BASE.replace(
        "people:",
        "settings: {ttl: 24 hours, execution_window: 0s, proposer_may_approve: maybe}\npeople:",
    )
    found = issues(text)
    assert any(
        f.startswith("p.yaml:3:17: settings.ttl: `24 hours` is not a duration") for f in found
    ), found
    assert any("settings.execution_window: `0s` must be longer than zero" in f for f in found), (
        found
    )
    assert any("proposer_may_approve must be true or false, got `maybe`" in f for f in found), found


def test_duplicate_rule_ids() -> None:
    text = (
        BASE
        + """\
  - id: political
    applies_to: move
    require: []
"""
    )
    assert any("duplicate rule id `political` (first at line 12)" in f for f in issues(text))


def test_all_errors_reported_at_once() -> None:
    text = (
        BASE.replace("requires", "x")
        .replace("    require:", "    requires:")
        .replace("proposers: [commander]", "proposers: [nobody_role]")
        .replace("cosignatory: 1", "cosignatory: 3")
    )
    assert len(issues(text)) >= 3


def test_cel_syntax_error_is_positioned_inside_the_yaml() -> None:
    text = (
        BASE
        + """\
  - id: big
    applies_to: move
    when: params.amount >
    require: []
"""
    )
    found = issues(text)
    assert any(f.startswith("p.yaml:18:") and "invalid CEL" in f for f in found), found


def test_cel_quoted_column_offset() -> None:
    text = (
        BASE
        + """\
  - id: big
    applies_to: move
    when: "params.amount >> 3"
    require: []
"""
    )
    found = [f for f in issues(text) if "invalid CEL" in f]
    assert found and found[0].startswith("p.yaml:18:2"), found


def test_cel_unknown_variable_and_undeclared_param() -> None:
    text = (
        BASE
        + """\
  - id: big
    applies_to: move
    when: amount > 3
    require: []
  - id: speed
    applies_to: move
    when: params.speed > 3
    require: []
"""
    )
    found = issues(text)
    assert any("unknown variable `amount`" in f for f in found), found
    assert any("fails on a sample `move` order: no such key `speed`" in f for f in found), found


def test_cel_non_boolean_result() -> None:
    text = (
        BASE
        + """\
  - id: big
    applies_to: move
    when: params.unit
    require: []
"""
    )
    assert any("not a boolean" in f for f in issues(text))


def test_cel_expression_size_is_bounded() -> None:
    long = " || ".join(["params.unit == 'x'"] * 200)
    text = (
        BASE
        + f"""\
  - id: big
    applies_to: move
    when: "{long}"
    require: []
"""
    )
    assert any("the limit is 2000" in f for f in issues(text))


def test_yaml_syntax_error_has_a_position() -> None:
    found = issues("cosignatory: 1\nname: [oops\n")
    assert found[0].startswith("p.yaml:") and "yaml syntax error" in found[0]


def test_duplicate_yaml_keys() -> None:
    found = issues(BASE.replace("  pak:", "  kim: {roles: [x]}\n  pak:"))
    assert any("duplicate key" in f for f in found), found


def test_not_a_mapping() -> None:
    assert issues("- a\n- b\n") == [
        "p.yaml:1:1: a policy must be a yaml mapping starting with `cosignatory: 1`"
    ]


def test_param_constraints() -> None:
    pol = load_policy(
        textwrap.dedent("""
        cosignatory: 1
        name: t
        people: {a: {roles: [x]}}
        actions:
          go:
            params:
              env: {type: string, enum: [staging, prod]}
              n: {type: integer, minimum: 1, maximum: 5}
              tag: {type: string, pattern: "v[0-9]+"}
              hosts: {type: list}
              dry: {type: boolean}
        rules: [{id: r, applies_to: go, require: []}]
    """)
    )
    from cosignatory.core.policy.params import check_params

    action = pol.actions["go"]
    assert (
        check_params(action, {"env": "prod", "n": 3, "tag": "v1", "hosts": ["a"], "dry": True})
        == []
    )
    problems = check_params(action, {"env": "dev", "n": 9, "tag": "x1", "hosts": "a", "dry": 1})
    assert len(problems) == 5, problems
