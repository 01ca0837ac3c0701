"""The write hot path on the driver's cursor: same errors, same guards, same rows as
SQLAlchemy's own execution, on both databases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from cosignatory.core.audit import leaf_hash, root_from_entries
from cosignatory.core.errors import ErrorCode
from cosignatory.core.events import EventKind
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.policy import ReviewDecision
from cosignatory.service import Outcome, Service
from cosignatory.storage import open_store
from cosignatory.storage import orders as order_rows
from cosignatory.storage.audit import read_head
from cosignatory.storage.driver import DriverCursor, driver_cursor, pipeline
from cosignatory.storage.events import append_event, append_event_if
from tests.conftest import Clock
from tests.contract.audit_support import SIGNER, export, verify
from tests.contract.support import (
    approve,
    assert_log_consistent,
    launch,
    refused,
    setup_squad,
)


def _bare_review_event(
    conn: Connection, service: Service, order_id: str, actor: str, digest: str | None = None
) -> int:
    """An `order:reviewed` event appended directly (no review row, a minimal payload)."""
    return append_event(
        conn,
        kind=EventKind.ORDER_REVIEWED,
        actor=actor,
        subject=order_id,
        payload={"order_id": order_id},
        at=service.now(),
        order_digest=digest,
    )


def test_a_failing_statement_in_a_pipeline_raises_its_own_error_class(service: Service) -> None:
    """The duplicate review is sent with the event append behind it (one round trip on
    PostgreSQL); its unique violation still arrives as `IntegrityError`, and nothing of
    the transaction stays."""
    setup_squad(service)
    order = launch(service)
    approve(service, order.id, "o1")
    found = service.store.read(lambda conn: order_rows.load_order(conn, order.id))
    assert found is not None
    _, reviews = found
    events_before = len(service.events())

    def body(conn: Connection) -> None:
        with pipeline(conn):
            order_rows.insert_review(conn, reviews[0])
            _bare_review_event(conn, service, order.id, "o1")

    with pytest.raises(IntegrityError):
        service.store.write(body)
    assert len(service.events()) == events_before


def test_loaded_order_matches_what_the_service_wrote(service: Service, clock: Clock) -> None:
    setup_squad(service)
    order = approve(service, launch(service).id, "o1")
    found = service.store.read(lambda conn: order_rows.load_order(conn, order.id))
    assert found is not None
    record, reviews = found
    assert record.state is OrderState.PENDING
    assert record.created_at == order.created_at and record.created_at.utcoffset() == timedelta(0)
    assert record.params == {"target": "north"}
    assert record.event_seqs == order.event_seqs
    assert [(r.reviewer, r.decision) for r in reviews] == [("o1", ReviewDecision.APPROVE)]
    assert reviews[0].at == order.reviews[0].at
    with service.store.begin_write() as conn:
        assert order_rows.load_order(conn, "ord_missing", for_update=True) is None


def test_guards_with_literal_states_still_guard(service: Service, clock: Clock) -> None:
    """`Guard.OVERDUE` compiles to SQL with bound literal states: the driver path must
    bind them, or nothing would ever expire (and a fresh order must not)."""
    setup_squad(service)
    order = launch(service)
    with service.store.begin_write() as conn, DriverCursor(conn) as cursor:
        move = order_rows.move_statement(
            conn, order.id, OrderState.EXPIRED, guard=order_rows.Guard.OVERDUE, now=clock()
        )
        assert cursor.execute(move.sql, move.params).rowcount == 0
    clock.advance(days=30)
    assert service.expire_due() == [order.id]
    refused(
        ErrorCode.ORDER_CLOSED,
        lambda: service.review(order_id=order.id, reviewer="o2", decision=ReviewDecision.APPROVE),
    )
    assert service.get_order(order.id).state is OrderState.EXPIRED


# --- appends on a guessed audit head (PostgreSQL; SQLite takes the usual path) -----------


def _audited(store_url: str, clock: Clock) -> Service:
    return Service(open_store(store_url), clock=clock, audit_signer=SIGNER)


def _log_verifies(service: Service) -> None:
    service.audit.sign()
    report = verify(export(service))
    assert report.ok, report.problem
    assert report.entries == len(service.events(limit=10_000))


def test_two_processes_taking_turns_keep_one_tree(store_url: str, clock: Clock) -> None:
    """Each engine's remembered head goes stale with every append of the other: every
    guess misses, and the append falls back to reading the head."""
    first, second = _audited(store_url, clock), _audited(store_url, clock)
    try:
        setup_squad(first)
        for _ in range(3):
            order = launch(first)
            approve(second, order.id, "o1")
            approve(first, order.id, "o2")
            claimed, ticket = second.claim(order_id=order.id, by="cmd")
            first.record_result(order_id=claimed.id, ticket=ticket, outcome=Outcome.SUCCEEDED)
        _log_verifies(first)
        assert first.audit.size() == second.audit.size()
    finally:
        first.store.close()
        second.store.close()


def test_a_rolled_back_append_leaves_a_stale_guess_that_costs_nothing(
    store_url: str, clock: Clock
) -> None:
    service = _audited(store_url, clock)
    try:
        setup_squad(service)
        order = launch(service)
        size = service.audit.size()

        def body(conn: Connection) -> None:
            _bare_review_event(conn, service, order.id, "o1", order.digest)
            raise RuntimeError("roll back")

        with pytest.raises(RuntimeError, match="roll back"):
            service.store.write(body)
        assert service.audit.size() == size
        approve(service, order.id, "o1", "o2")
        _log_verifies(service)
    finally:
        service.store.close()


def test_a_wrong_order_digest_never_reaches_an_entry(store_url: str, clock: Clock) -> None:
    """The digest a caller passes is checked against the order row: the entry carries
    the stored one."""
    service = _audited(store_url, clock)
    try:
        setup_squad(service)
        order = launch(service)
        approve(service, order.id, "o1")  # the process remembers a head: the next one guesses
        seq = service.store.write(
            lambda conn: _bare_review_event(conn, service, order.id, "o2", "sha256:" + "0" * 64)
        )
        (entry,) = service.audit.entries(seq, seq + 1)
        assert json.loads(entry)["order_digest"] == order.digest
        stored = service.audit.stored_entries(0, service.audit.size())
        assert all(s.leaf_hash == leaf_hash(s.entry) for s in stored)
        with service.store.begin_read() as conn:
            assert read_head(conn).root() == root_from_entries([s.entry for s in stored])
    finally:
        service.store.close()


def test_an_append_on_a_condition_writes_nothing_when_the_row_does_not_change(
    service: Service, clock: Clock
) -> None:
    """A state move and its event go together: a move whose row is not in a source state
    (here: claiming a pending order) appends no event and grows no tree."""
    setup_squad(service)
    order = launch(service)
    size, events_before = service.audit.size(), len(service.events())

    def claim_pending(conn: Connection) -> int | None:
        move = order_rows.move_statement(
            conn,
            order.id,
            OrderState.EXECUTING,
            values={"claimed_by": "cmd", "claimed_at": clock(), "ticket_hash": "0" * 64},
            guard=order_rows.Guard.WINDOW_OPEN,
            now=clock(),
        )
        return append_event_if(
            conn,
            move,
            kind=EventKind.ORDER_CLAIMED,
            actor="cmd",
            subject=order.id,
            payload={"order_id": order.id},
            at=clock(),
            order_digest=order.digest,
        )

    assert service.store.write(claim_pending) is None
    assert service.audit.size() == size and len(service.events()) == events_before
    assert service.get_order(order.id).state is OrderState.PENDING
    approve(service, order.id, "o1", "o2")  # and the next appends still fit the tree
    assert_log_consistent(service)


def test_reviews_load_in_the_order_they_were_made(service: Service) -> None:
    """The load sorts the joined review rows by review id itself (SQLite returns them
    in its unique index's order, by reviewer): names that sort otherwise keep their
    order, in the record and in the view."""
    setup_squad(service)
    order = service.propose(action="mass", params={"size": 1}, proposer="cmd")
    made = ["o9", "o3", "o10", "o1"]
    view = approve(service, order.id, *made)
    found = service.store.read(lambda conn: order_rows.load_order(conn, order.id))
    assert found is not None
    record, reviews = found
    assert [r.reviewer for r in reviews] == made
    assert [r.reviewer for r in view.reviews] == made
    assert [r.reviewer for r in service.get_order(order.id).reviews] == made
    assert record.event_seqs == view.event_seqs and len(record.event_seqs) == 1 + len(made)


def test_a_write_transaction_shares_one_driver_cursor(service: Service) -> None:
    def cursors(conn: Connection) -> tuple[object, object]:
        with driver_cursor(conn) as first, driver_cursor(conn) as second:
            return first, second

    first, second = service.store.write(cursors)
    assert first is second
    with service.store.begin_read() as conn:  # outside a write: a cursor of its own each
        first, second = cursors(conn)
    assert first is not second


def test_an_append_after_a_rolled_back_one_builds_on_the_stored_head(
    service: Service,
) -> None:
    """The process remembers the frontier its last append left; after that append rolled
    back, the stored head differs, and the next append must build on the stored one."""
    setup_squad(service)
    order = launch(service)

    def append_then_fail(conn: Connection) -> None:
        _bare_review_event(conn, service, order.id, "o1", order.digest)
        raise RuntimeError("roll it back")

    with pytest.raises(RuntimeError):
        service.store.write(append_then_fail)
    approve(service, order.id, "o1", "o2")
    assert_log_consistent(service)
