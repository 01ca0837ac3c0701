"""Writes remember their decisions (`build.decide_and_remember`): a key a write makes
must be the key a later read makes from the stored rows, and the decision must be what
the engine says for those rows."""

from __future__ import annotations

from cosignatory.service import Service, build
from cosignatory.storage.orders import load_order
from tests.conftest import Clock
from tests.contract.support import approve, deny, launch, setup_squad


def _remembered_matches_stored(service: Service, order_id: str) -> None:
    with service.store.begin_read() as conn:
        found = load_order(conn, order_id)
    assert found is not None
    record, reviews = found
    policy = service.policy(record.policy_version)
    now = service.now()
    key = build._decision_key(policy, record, reviews, now)
    remembered = build._decisions.get(key)
    assert remembered is not None, "the write did not remember its decision"
    assert remembered == build.decide(policy, record, reviews, now)


def test_a_proposal_and_each_review_remember_what_a_read_would_decide(
    service: Service, clock: Clock
) -> None:
    setup_squad(service)
    order = launch(service)
    _remembered_matches_stored(service, order.id)
    clock.advance(seconds=1.5)
    approve(service, order.id, "o1")
    _remembered_matches_stored(service, order.id)
    clock.advance(microseconds=7)
    approve(service, order.id, "o2")  # approves it
    _remembered_matches_stored(service, order.id)
    denied = launch(service, target="south")
    deny(service, denied.id, "insp")  # a veto rejects it
    _remembered_matches_stored(service, denied.id)


def test_views_after_a_write_equal_views_built_afresh(service: Service, clock: Clock) -> None:
    setup_squad(service)
    order = launch(service)
    approve(service, order.id, "o1", "o2")
    claimed, _ticket = service.claim(order_id=order.id, by="cmd")
    seen = service.get_order(order.id)
    build._decisions.clear()
    build._views.clear()
    assert service.get_order(order.id) == seen
    assert (claimed.seats, claimed.missing, claimed.reasons) == (
        seen.seats,
        seen.missing,
        seen.reasons,
    )
