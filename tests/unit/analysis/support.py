"""Builders and brute-force oracles shared by the analysis tests.

The oracles ask the engine itself (`check_proposal`, `evaluate`) rather than anything in
`core.analysis`, so agreement means the analysis has the engine's semantics.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from cosignatory.core.analysis.whatif import without
from cosignatory.core.errors import PolicyError, RefusedError
from cosignatory.core.policy import (
    DecisionStatus,
    OrderInput,
    Policy,
    ReviewDecision,
    ReviewInput,
    check_proposal,
    evaluate,
    load_policy,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]
FIELD = ROOT / "examples/field-command/policy.yaml"
CHANGE = ROOT / "examples/change-control/policy.yaml"


def policy(text: str) -> Policy:
    return load_policy(textwrap.dedent(text), filename="test.yaml")


def example(path: Path) -> Policy:
    return load_policy(path.read_text(encoding="utf-8"), filename=str(path))


def may_propose(pol: Policy, order: OrderInput) -> bool:
    try:
        check_proposal(pol, order, NOW)
    except RefusedError:
        return False
    return True


def approved_by(pol: Policy, order: OrderInput, group: Sequence[str]) -> bool:
    """Does the engine approve `order` when exactly `group` (proposer included) approves?"""
    created = NOW
    reviews = [
        ReviewInput(reviewer=p, decision=ReviewDecision.APPROVE, at=created + timedelta(seconds=1))
        for p in group
    ]
    decision = evaluate(pol, order_at(order, created), reviews, created + timedelta(seconds=2))
    return decision.status is DecisionStatus.APPROVED


def order_at(order: OrderInput, created: datetime) -> OrderInput:
    return OrderInput(
        action=order.action,
        params=order.params,
        proposer=order.proposer,
        justification=order.justification,
        created_at=created,
    )


def valid_coalition(pol: Policy, template: OrderInput, group: Sequence[str]) -> bool:
    """Some member may propose `template`'s order and the group then gets it approved."""
    for proposer in group:
        order = OrderInput(
            action=template.action,
            params=template.params,
            proposer=proposer,
            justification=template.justification,
        )
        if may_propose(pol, order) and approved_by(pol, order, group):
            return True
    return False


def brute_minimum(pol: Policy, template: OrderInput) -> tuple[int | None, list[tuple[str, ...]]]:
    """Smallest coalitions by trying every subset of the roster (the oracle)."""
    people = sorted(pol.people)
    for size in range(1, len(people) + 1):
        found = [
            g for g in itertools.combinations(people, size) if valid_coalition(pol, template, g)
        ]
        if found:
            return size, found
    return None, []


def brute_absence_blockers(pol: Policy, template: OrderInput) -> list[str]:
    """People without whom no coalition exists (validity is monotone: test the rest)."""
    people = sorted(pol.people)
    if not valid_coalition(pol, template, people):
        return []
    return [x for x in people if not valid_coalition(pol, template, [p for p in people if p != x])]


def brute_single_deny(pol: Policy, template: OrderInput, proposer: str) -> list[str]:
    """People whose one deny rejects the order even when everyone else approves."""
    order = OrderInput(
        action=template.action, params=template.params, proposer=proposer, created_at=NOW
    )
    out = []
    for x in sorted(pol.people):
        reviews = [
            ReviewInput(
                reviewer=p,
                decision=ReviewDecision.DENY if p == x else ReviewDecision.APPROVE,
                at=NOW + timedelta(seconds=1),
            )
            for p in sorted(pol.people)
        ]
        decision = evaluate(pol, order, reviews, NOW + timedelta(seconds=2))
        if decision.status is DecisionStatus.REJECTED:
            out.append(x)
    return out


# -- random small policies (hypothesis) ---------------------------------------------------

ROLES = ["r0", "r1", "r2"]


@st.composite
def small_policies(draw: st.DrawFn) -> Policy:
    n_people = draw(st.integers(1, 6))
    people = {
        f"p{i}": draw(st.lists(st.sampled_from(ROLES), unique=True, max_size=3))
        for i in range(n_people)
    }
    rules = []
    for i in range(draw(st.integers(1, 3))):
        seats = draw(st.lists(st.sampled_from(ROLES), unique=True, max_size=3))
        require = [{"role": r, "count": draw(st.integers(1, 2))} for r in seats]
        rule: dict[str, Any] = {"id": f"rule-{i}", "applies_to": "act", "require": require}
        proposers = draw(st.none() | st.lists(st.sampled_from(ROLES), unique=True, min_size=1))
        if proposers is not None:
            rule["proposers"] = proposers
        veto = draw(st.lists(st.sampled_from(ROLES), unique=True, max_size=2))
        if veto:
            rule["veto"] = veto
        if require and draw(st.booleans()):
            rule["reject_after_denials"] = draw(st.integers(1, 2))
        rules.append(rule)
    pma = draw(st.booleans())
    one_seat = draw(st.booleans())
    lines = [
        "cosignatory: 1",
        "name: random",
        f"settings: {{proposer_may_approve: {str(pma).lower()}, "
        f"one_seat_per_person: {str(one_seat).lower()}}}",
        f"roles: [{', '.join(ROLES)}]",
        "people:",
        *(f"  {p}: {{roles: [{', '.join(r)}]}}" for p, r in people.items()),
        "actions:",
        "  act: {}",
        "rules:",
    ]
    for rule in rules:
        lines.append(f"  - {rule}".replace("'", ""))
    try:
        loaded = policy("\n".join(lines) + "\n")
    except PolicyError:
        reject()  # e.g. a seat nobody can fill: the parser refuses it, no analysis needed
    # Then take people away (what-if), which can leave seats that can never be filled.
    gone = draw(st.lists(st.sampled_from(sorted(loaded.people)), unique=True, max_size=2))
    if len(gone) < len(loaded.people):
        loaded, _ = without(loaded, gone)
    return loaded
