"""The replay: lawful histories pass; correctly hashed histories that break a rule do not.

Each named case builds a history with `History` (the service's events, decided by the
real engine), then breaks one rule with a raw `emit` or an edited entry, and names the
entry the replay must stop at and what it must say.
"""

from __future__ import annotations

import dataclasses
import io
import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from cosignatory.core.audit import replay, verify_export
from cosignatory.core.audit.entry import AuditEntry
from cosignatory.core.events import EventKind
from cosignatory.core.lifecycle import OrderState

from .history import CHANGE_CONTROL, FIELD_COMMAND, VERIFIER, History, export_bytes, random_history

MOVE = {"unit": "A1", "destination": "hill-412"}
DETAIN = {"person": "pvt. so", "reason": "desertion"}


def test_random_lawful_histories_replay_cleanly_and_cover_every_event_kind() -> None:
    kinds: Counter[str] = Counter()
    states: Counter[OrderState] = Counter()
    for seed in range(25):
        h = random_history(random.Random(seed), steps=50)
        summary = replay(h.entries)
        assert summary.ok, (seed, summary.problem)
        assert summary.entries == len(h.entries)
        kinds.update(e.kind.value for e in h.entries)
        states.update({s: n for s, n in summary.orders.items()})
    lifecycle_kinds = {k.value for k in EventKind} - {EventKind.TOKEN_REVOKED.value}
    assert lifecycle_kinds <= set(kinds), lifecycle_kinds - set(kinds)
    assert all(states[s] > 0 for s in OrderState if s is not OrderState.EXECUTING)


def test_a_lawful_history_with_every_in_flight_mode_replays() -> None:
    h = History()
    h.publish(FIELD_COMMAND)
    kept = h.propose("move", MOVE, "kim")
    voided = h.propose("detain", DETAIN, "kim")
    assert kept and voided
    h.review(voided, "pak", "approve")
    h.publish(FIELD_COMMAND.replace("ttl: 24h", "ttl: 30h"), in_flight="keep")
    h.advance(timedelta(hours=1))
    h.publish(FIELD_COMMAND.replace("ttl: 24h", "ttl: 20h"), in_flight="reevaluate")
    h.review(voided, "ri", "approve")  # re-pinned to version 3, now approved
    late = h.propose("move", MOVE, "jo")
    assert late
    h.advance(timedelta(hours=21))
    h.publish(FIELD_COMMAND, in_flight="void")  # `late` is overdue: expired, not cancelled
    h.token("kim")
    h.revoke("tok_0004", "kim")
    summary = replay(h.entries)
    assert summary.ok, summary.problem
    assert summary.policies == 4
    assert summary.orders[OrderState.EXPIRED] >= 1


# --- rule-breaking histories ------------------------------------------------------------


def _edit(h: History, index: int, **payload_changes: object) -> None:
    """Rewrite entry `index` in place (the test then hashes the edited log correctly)."""
    old = h.entries[index]
    h.entries[index] = dataclasses.replace(old, payload={**old.payload, **payload_changes})


def _move_pending() -> tuple[History, str]:
    h = History()
    h.publish(FIELD_COMMAND)
    order = h.propose("move", MOVE, "kim", "reinforce the flank")
    assert order
    h.advance(timedelta(minutes=5))
    return h, order


def _move_approved() -> tuple[History, str]:
    h, order = _move_pending()
    assert h.review(order, "pak", "approve")
    h.advance(timedelta(minutes=5))
    return h, order


def _review_payload(
    h: History, order: str, who: str, decision: str = "approve"
) -> dict[str, object]:
    from cosignatory.core.orders import format_timestamp

    return {
        "order_id": order,
        "reviewer": who,
        "decision": decision,
        "comment": "",
        "at": format_timestamp(h.now),
        "seat": None,
        "counted": False,
    }


def _execution_without_approval() -> tuple[History, AuditEntry]:
    h, order = _move_pending()
    bad = h.emit(
        EventKind.ORDER_CLAIMED,
        "kim",
        order,
        {"order_id": order, "from_state": "pending", "claimed_by": "kim", "claimed_at": "x"},
    )
    return h, bad


def _approval_by_ineligible_person() -> tuple[History, AuditEntry]:
    h, order = _move_pending()
    payload = _review_payload(h, order, "ri") | {"seat": "political_officer", "counted": True}
    bad = h.emit(EventKind.ORDER_REVIEWED, "ri", order, payload)
    return h, bad


def _approved_with_a_seat_missing() -> tuple[History, AuditEntry]:
    h = History()
    h.publish(FIELD_COMMAND)
    order = h.propose("detain", DETAIN, "kim")
    assert order and h.review(order, "pak", "approve")
    bad = h.emit(
        EventKind.ORDER_APPROVED,
        "pak",
        order,
        {
            "order_id": order,
            "from_state": "pending",
            "approved_at": "x",
            "execute_by": "x",
            "seats": [],
        },
    )
    return h, bad


def _self_approval() -> tuple[History, AuditEntry]:
    h = History()
    h.publish(
        FIELD_COMMAND.replace("roles: [commander]}", "roles: [commander, political_officer]}", 1)
    )
    order = h.propose("move", MOVE, "kim")
    assert order
    bad = h.emit(EventKind.ORDER_REVIEWED, "kim", order, _review_payload(h, order, "kim"))
    return h, bad


def _reviewer_not_in_roster() -> tuple[History, AuditEntry]:
    h, order = _move_pending()
    bad = h.emit(EventKind.ORDER_REVIEWED, "mallory", order, _review_payload(h, order, "mallory"))
    return h, bad


def _reviewed_twice() -> tuple[History, AuditEntry]:
    h = History()
    h.publish(FIELD_COMMAND)
    order = h.propose("detain", DETAIN, "kim")
    assert order and h.review(order, "pak", "approve")
    bad = h.emit(EventKind.ORDER_REVIEWED, "pak", order, _review_payload(h, order, "pak"))
    return h, bad


def _review_after_expiry() -> tuple[History, AuditEntry]:
    h, order = _move_pending()
    h.advance(timedelta(hours=25))
    payload = _review_payload(h, order, "pak") | {"seat": "political_officer", "counted": True}
    bad = h.emit(EventKind.ORDER_REVIEWED, "pak", order, payload)
    return h, bad


def _vetoer_approves() -> tuple[History, AuditEntry]:
    h = History()
    h.publish(CHANGE_CONTROL.replace("    veto: [security]", "    veto: [security, engineer]"))
    order = h.propose("deploy", {"service": "auth", "version": "2", "environment": "prod"}, "ben")
    assert order
    bad = h.emit(EventKind.ORDER_REVIEWED, "ana", order, _review_payload(h, order, "ana"))
    return h, bad


def _claim_after_the_window() -> tuple[History, AuditEntry]:
    h, order = _move_approved()
    h.advance(timedelta(hours=2))
    bad = h.emit(
        EventKind.ORDER_CLAIMED,
        "kim",
        order,
        {"order_id": order, "from_state": "approved", "claimed_by": "kim", "claimed_at": "x"},
    )
    return h, bad


def _result_by_someone_else() -> tuple[History, AuditEntry]:
    h, order = _move_approved()
    assert h.claim(order, "kim")
    bad = h.emit(
        EventKind.ORDER_EXECUTED,
        "jo",
        order,
        {"order_id": order, "from_state": "executing", "outcome": "succeeded", "detail": ""},
    )
    return h, bad


def _executed_twice() -> tuple[History, AuditEntry]:
    h, order = _move_approved()
    assert h.claim(order, "kim") and h.result(order)
    bad = h.emit(
        EventKind.ORDER_EXECUTED,
        "kim",
        order,
        {"order_id": order, "from_state": "executed", "outcome": "succeeded", "detail": ""},
    )
    return h, bad


def _approval_not_recorded() -> tuple[History, AuditEntry]:
    h, order = _move_pending()
    payload = _review_payload(h, order, "pak") | {"seat": "political_officer", "counted": True}
    h.emit(EventKind.ORDER_REVIEWED, "pak", order, payload)  # the service would approve now
    bad = h.emit(EventKind.TOKEN_CREATED, "admin", "tok_9", {"token_id": "tok_9", "person": "kim"})
    return h, bad


def _log_ends_before_the_approval() -> tuple[History, AuditEntry]:
    h, order = _move_pending()
    payload = _review_payload(h, order, "pak") | {"seat": "political_officer", "counted": True}
    bad = h.emit(EventKind.ORDER_REVIEWED, "pak", order, payload)
    return h, bad


def _proposal_under_an_old_version() -> tuple[History, AuditEntry]:
    h, _order = _move_pending()
    h.publish(FIELD_COMMAND.replace("ttl: 24h", "ttl: 12h"))
    second = h.propose("move", MOVE, "jo")
    assert second
    index = next(e.seq for e in h.entries if e.subject == second)
    _edit(h, index, policy_version=1, policy_digest=h.policy(1).digest)
    return h, h.entries[index]


def _proposal_with_a_forged_digest() -> tuple[History, AuditEntry]:
    h, _order = _move_pending()
    _edit(h, 2, params={"unit": "A1", "destination": "the capital"})
    return h, h.entries[2]


def _event_with_another_orders_digest() -> tuple[History, AuditEntry]:
    h, order = _move_pending()
    bad = h.emit(
        EventKind.ORDER_REVIEWED,
        "pak",
        order,
        _review_payload(h, order, "pak"),
        order_digest="sha256:" + "0" * 64,
    )
    return h, bad


def _policy_version_skipped() -> tuple[History, AuditEntry]:
    h, _ = _move_pending()
    h.publish(FIELD_COMMAND.replace("ttl: 24h", "ttl: 12h"))
    index = len(h.entries) - 2
    _edit(h, index, version=3)
    return h, h.entries[index]


def _policy_text_swapped() -> tuple[History, AuditEntry]:
    h = History()
    h.publish(FIELD_COMMAND)
    _edit(h, 0, yaml=FIELD_COMMAND.replace("pak: {name: Maj. Pak", "kim2: {name: Maj. Pak"))
    return h, h.entries[0]


def _in_flight_forgets_an_order() -> tuple[History, AuditEntry]:
    h, _order = _move_pending()
    h.publish(FIELD_COMMAND.replace("ttl: 24h", "ttl: 12h"), in_flight="void")
    index = max(e.seq for e in h.entries if e.kind is EventKind.POLICY_IN_FLIGHT)
    _edit(h, index, orders=[])
    return h, h.entries[index]


def _expired_early() -> tuple[History, AuditEntry]:
    h, order = _move_pending()
    bad = h.emit(
        EventKind.ORDER_EXPIRED,
        "system:expiry",
        order,
        {"order_id": order, "from_state": "pending", "deadline": "x", "reason": ""},
    )
    return h, bad


def _rejected_without_a_veto() -> tuple[History, AuditEntry]:
    h, order = _move_pending()
    bad = h.emit(
        EventKind.ORDER_REJECTED,
        "pak",
        order,
        {"order_id": order, "from_state": "pending", "rejected_by": [], "reasons": []},
    )
    return h, bad


def _cancelled_by_a_stranger() -> tuple[History, AuditEntry]:
    h, order = _move_pending()
    bad = h.emit(
        EventKind.ORDER_CANCELLED,
        "pak",
        order,
        {"order_id": order, "from_state": "pending", "by": "pak", "reason": "", "as_admin": False},
    )
    return h, bad


def _from_state_lies() -> tuple[History, AuditEntry]:
    h, order = _move_approved()
    assert h.claim(order, "kim")
    index = len(h.entries) - 1
    _edit(h, index, from_state="pending")
    return h, h.entries[index]


def _event_for_an_unknown_order() -> tuple[History, AuditEntry]:
    h, _ = _move_pending()
    bad = h.emit(
        EventKind.ORDER_CANCELLED,
        "kim",
        "ord_999999",
        {"order_id": "ord_999999", "from_state": "pending", "by": "kim"},
        order_digest="sha256:" + "1" * 64,
    )
    return h, bad


def _sequence_gap() -> tuple[History, AuditEntry]:
    h, _order = _move_pending()
    h.entries[-1] = dataclasses.replace(h.entries[-1], seq=h.entries[-1].seq + 1)
    return h, h.entries[-1]


# (name, builder, fragment of the message)
CASES: list[tuple[str, Callable[[], tuple[History, AuditEntry]], str]] = [
    (
        "execution with no approval",
        _execution_without_approval,
        "cannot move from `pending` to `executing`",
    ),
    (
        "approval by an ineligible person",
        _approval_by_ineligible_person,
        "`ri` holds no role that fills a seat",
    ),
    ("approved with a seat missing", _approved_with_a_seat_missing, "the engine says `pending`"),
    ("self-approval", _self_approval, "`kim` reviewed their own order"),
    (
        "reviewer not in the roster",
        _reviewer_not_in_roster,
        "`mallory` is not in the roster of policy version 1",
    ),
    ("reviewed twice", _reviewed_twice, "reviewed this order twice"),
    ("review after expiry", _review_after_expiry, "review after the order expired"),
    ("a vetoer approves", _vetoer_approves, "may only veto this order, yet approved it"),
    ("claim after the window", _claim_after_the_window, "claimed outside the execution window"),
    ("result reported by someone else", _result_by_someone_else, "but `kim` claimed it"),
    ("executed twice", _executed_twice, "cannot move from `executed` to `executed`"),
    ("approval not recorded", _approval_not_recorded, "expected the `order:approved` of"),
    (
        "log ends before the approval",
        _log_ends_before_the_approval,
        "the log ends before the `order:approved`",
    ),
    (
        "proposal under an old policy version",
        _proposal_under_an_old_version,
        "the current version is 2",
    ),
    (
        "proposal fields changed under its digest",
        _proposal_with_a_forged_digest,
        "does not match its fields",
    ),
    (
        "event with another order's digest",
        _event_with_another_orders_digest,
        "differs from the order's",
    ),
    ("policy version skipped", _policy_version_skipped, "the next version is 2"),
    (
        "policy text swapped under its digest",
        _policy_text_swapped,
        "is not the digest of the logged text",
    ),
    (
        "in-flight list forgets an order",
        _in_flight_forgets_an_order,
        "pending orders missing from the list",
    ),
    ("expired before its deadline", _expired_early, "expired before its deadline"),
    ("rejected without a veto", _rejected_without_a_veto, "the engine says `pending`"),
    (
        "cancelled by a stranger",
        _cancelled_by_a_stranger,
        "`pak` cancelled an order proposed by `kim`",
    ),
    ("from_state lies", _from_state_lies, "from_state `pending` but the order is `approved`"),
    ("event for an unknown order", _event_for_an_unknown_order, "which was never proposed"),
    ("sequence gap", _sequence_gap, "expected entry"),
]


@pytest.mark.parametrize(("build", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_breaking_history_is_rejected_at_the_bad_entry(
    build: Callable[[], tuple[History, AuditEntry]], fragment: str
) -> None:
    h, bad = build()
    summary = replay(h.entries)
    assert summary.problem is not None
    assert summary.problem.index == h.entries.index(bad)
    assert fragment in summary.problem.message, summary.problem.message
    # everything before the bad entry was lawful
    before = replay(h.entries[: h.entries.index(bad)]).problem
    assert before is None or before.kind == "end of log"


@pytest.mark.parametrize("build", [c[1] for c in CASES[:4]], ids=[c[0] for c in CASES[:4]])
def test_verify_rejects_a_correctly_hashed_and_signed_but_unlawful_log(
    build: Callable[[], tuple[History, AuditEntry]],
) -> None:
    h, bad = build()
    if bad.seq != h.entries.index(bad):  # keep the seq valid for the integrity pass
        pytest.skip("not a hashing case")
    report = verify_export(io.BytesIO(export_bytes(h.entries)), verifier_key=VERIFIER)
    assert report.problem is not None
    assert report.problem.tampered
    assert report.problem.index == bad.seq
    assert report.problem.line == bad.seq + 2
    assert "breaks the rules" in report.problem.message
