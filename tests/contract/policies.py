"""Policies the contract tests run under.

`SQUAD` is built for races and edge cases: ten officers (so eight can review at once
and a seat of nine stays open), an inspector who may veto, a free drill, an action no
rule covers and one whose condition fails at run time.
"""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FIELD = (EXAMPLES / "field-command" / "policy.yaml").read_text(encoding="utf-8")
CHANGE = (EXAMPLES / "change-control" / "policy.yaml").read_text(encoding="utf-8")

OFFICERS = [f"o{i}" for i in range(1, 11)]


def squad(*, ttl: str = "1h", window: str = "10m", launch_officers: int = 2) -> str:
    people = "\n".join(f"  {o}: {{roles: [officer]}}" for o in OFFICERS)
    return f"""\
cosignatory: 1
name: squad
settings: {{ttl: {ttl}, execution_window: {window}, proposer_may_approve: false}}
people:
  cmd: {{name: Commander, roles: [commander]}}
  cmd2: {{roles: [commander]}}
  insp: {{name: Inspector, roles: [inspector]}}
  clerk: {{roles: [clerk]}}
{people}
actions:
  launch:
    params:
      target: {{type: string, required: true}}
  drill:
    params:
      note: {{type: string}}
  mass:
    params:
      size: {{type: integer, minimum: 1}}
  unruled:
    params:
      x: {{type: string}}
  probe:
    params:
      mode: {{type: string}}
rules:
  - id: launch-officers
    applies_to: launch
    proposers: [commander]
    require: [{{role: officer, count: {launch_officers}}}]
    veto: [inspector]
  - id: drills-free
    applies_to: drill
    proposers: [commander]
    require: []
  - id: mass-nine
    applies_to: mass
    proposers: [commander]
    require: [{{role: officer, count: 9}}]
  - id: probe-mode
    applies_to: probe
    proposers: [commander]
    when: params.mode == "deep"
    require: [{{role: officer}}]
"""


SQUAD = squad()
