"""Helpers for the contract suite: short use-case calls and log invariants."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from cosignatory.core.audit import leaf_hash, root_from_entries
from cosignatory.core.canonical import canonical_json
from cosignatory.core.errors import CosignatoryError, ErrorCode
from cosignatory.core.events import EventKind, replay_order_states
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import order_digest_of
from cosignatory.core.policy import policy_digest
from cosignatory.service import EventView, OrderView, Outcome, ReviewDecision, Service
from cosignatory.storage.audit import iter_entries, read_head
from cosignatory.storage.tables import orders
from tests.contract.policies import SQUAD

APPROVE, DENY = ReviewDecision.APPROVE, ReviewDecision.DENY


def launch(service: Service, *, by: str = "cmd", target: str = "north") -> OrderView:
    return service.propose(
        action="launch", params={"target": target}, proposer=by, justification="j"
    )


def approve(service: Service, order_id: str, *who: str) -> OrderView:
    view = service.get_order(order_id)
    for person in who:
        view = service.review(order_id=order_id, reviewer=person, decision=APPROVE)
    return view


def deny(service: Service, order_id: str, who: str) -> OrderView:
    return service.review(order_id=order_id, reviewer=who, decision=DENY)


def approved_launch(service: Service) -> OrderView:
    order = launch(service)
    return approve(service, order.id, "o1", "o2")


def executed(service: Service, outcome: Outcome = Outcome.SUCCEEDED) -> OrderView:
    order = approved_launch(service)
    order, ticket = service.claim(order_id=order.id, by="cmd")
    return service.record_result(order_id=order.id, ticket=ticket, outcome=outcome)


def setup_squad(service: Service, yaml_text: str = SQUAD) -> None:
    service.publish_policy(yaml_text=yaml_text, by="admin")


def refused(code: ErrorCode, fn: Callable[[], Any]) -> CosignatoryError:
    """Run `fn`, expecting a refusal with `code`; returns the error for more checks."""
    with pytest.raises(CosignatoryError) as info:
        fn()
    assert info.value.code is code, f"expected `{code}`, got `{info.value.code}`: {info.value}"
    return info.value


def all_events(service: Service) -> list[EventView]:
    events: list[EventView] = []
    while True:
        page = service.events(start=len(events), limit=1000)
        if not page:
            return events
        events.extend(page)


def kinds(service: Service, order_id: str) -> list[str]:
    return [e.kind.value for e in service.events(order_id=order_id)]


def stored_states(service: Service) -> dict[str, OrderState]:
    with service.store.begin_read() as conn:
        rows = conn.execute(select(orders.c.id, orders.c.state)).all()
    return {row.id: OrderState(row.state) for row in rows}


def assert_log_consistent(service: Service) -> list[EventView]:
    """The event log invariants every test may lean on:

    gapless `seq` from 0; payloads stored as RFC 8785 canonical JSON; every order's
    state replayed from its events equals the stored state; proposal payloads recompute
    the order digest; published policies recompute their digest from the YAML; the audit
    tree holds one leaf per event, each the hash of the entry rebuilt from its event row,
    and its head's root is the root of those leaves.
    """
    events = all_events(service)
    assert [e.seq for e in events] == list(range(len(events)))
    stored = service.store.read(lambda conn: list(iter_entries(conn, 0, len(events))))
    assert service.audit.size() == len(stored) == len(events)
    assert all(s.leaf_hash == leaf_hash(s.entry) for s in stored)
    with service.store.begin_read() as conn:
        assert read_head(conn).root() == root_from_entries([s.entry for s in stored])
    for e in events:
        assert canonical_json(json.loads(e.payload_json)).decode() == e.payload_json
        if e.kind is EventKind.ORDER_PROPOSED:
            assert order_digest_of(e.payload) == e.payload["digest"]
        if e.kind is EventKind.POLICY_PUBLISHED:
            assert policy_digest(e.payload["yaml"]) == e.payload["digest"]
    replayed = replay_order_states((e.kind, e.subject, e.payload) for e in events)
    assert replayed == stored_states(service)
    return events
