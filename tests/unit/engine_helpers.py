"""Small builders shared by the engine tests."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from typing import Any

from cosignatory.core.policy import (
    Decision,
    OrderInput,
    Policy,
    ReviewDecision,
    ReviewInput,
    evaluate,
    load_policy,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def policy(text: str) -> Policy:
    return load_policy(textwrap.dedent(text), filename="test.yaml")


def decide(
    pol: Policy,
    action: str,
    proposer: str,
    reviews: list[tuple[str, str]] | None = None,
    params: dict[str, Any] | None = None,
    *,
    now: datetime = NOW,
    created_at: datetime | None = None,
) -> Decision:
    order = OrderInput(action=action, params=params or {}, proposer=proposer, created_at=created_at)
    revs = [ReviewInput(reviewer=r, decision=ReviewDecision(d)) for r, d in (reviews or [])]
    return evaluate(pol, order, revs, now)


TREASURY = """
cosignatory: 1
name: treasury
people:
  ann: {roles: [clerk]}
  eve: {roles: [treasurer, risk]}
  bob: {roles: [treasurer]}
  cat: {roles: [treasurer]}
  dan: {roles: [risk]}
  zed: {roles: [auditor]}
actions:
  wire:
    params:
      amount: {type: integer, required: true, minimum: 0}
      to: {type: string, required: true}
rules:
  - id: wires
    applies_to: wire
    proposers: [clerk]
    require: [{role: treasurer, count: 2}, {role: risk}]
"""
