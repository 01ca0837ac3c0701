"""The per-process memos of decisions and views (`service.memo`, `service.build`).

A remembered value must be exactly what recomputing would give: the named cases read
orders through the service and compare with a fresh computation; the engine cases pin
the one assumption the decision key makes (the clock matters only as "before or after
the ttl"); the `Memo` cases check its bound, its order and its locking.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from cosignatory.core.policy import OrderInput, ReviewDecision, ReviewInput, evaluate
from cosignatory.service import OrderView, Service, build
from cosignatory.service.memo import Memo
from cosignatory.storage import memory_store
from tests.conftest import T0, Clock
from tests.contract.policies import squad
from tests.contract.support import approve, deny, launch, setup_squad
from tests.unit.engine_helpers import policy

APPROVE, DENY = ReviewDecision.APPROVE, ReviewDecision.DENY
TTL = timedelta(hours=1)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(clock: Clock) -> Iterator[Service]:
    service = Service(memory_store(), clock=clock)
    setup_squad(service, squad(launch_officers=3))
    yield service
    service.store.close()


def fresh(service: Service, order_id: str) -> OrderView:
    """The view computed from scratch, bypassing (and then restoring) the memos."""
    views, decisions = build._views, build._decisions
    build._views, build._decisions = Memo(1), Memo(1)
    try:
        return service.get_order(order_id)
    finally:
        build._views, build._decisions = views, decisions


# ---- reads through the service --------------------------------------------------


def test_unchanged_order_is_remembered_and_encoded_once(service: Service) -> None:
    order = approve(service, launch(service).id, "o1")
    first = service.get_order(order.id)
    again = service.get_order(order.id)
    assert again is first
    assert again.json_bytes is first.json_bytes
    assert again == fresh(service, order.id)


def test_new_review_is_a_new_key(service: Service) -> None:
    order = approve(service, launch(service).id, "o1")
    before = service.get_order(order.id)
    approve(service, order.id, "o2")
    after = service.get_order(order.id)
    assert after is not before
    assert [r.reviewer for r in after.reviews] == ["o1", "o2"]
    assert after == fresh(service, order.id)


def test_veto_is_seen_at_once(service: Service) -> None:
    order = approve(service, launch(service).id, "o1")
    assert service.get_order(order.id).state.value == "pending"
    deny(service, order.id, "insp")
    assert service.get_order(order.id).state.value == "rejected"


def test_pending_view_holds_until_the_ttl_and_not_at_it(service: Service, clock: Clock) -> None:
    order = approve(service, launch(service).id, "o1")
    pending = service.get_order(order.id)
    clock.now = order.expires_at - timedelta(microseconds=1)
    assert service.get_order(order.id) is pending
    clock.now = order.expires_at
    expired = service.get_order(order.id)
    assert expired.state.value == "expired"
    assert expired == fresh(service, order.id)
    assert any("expired at" in r for r in expired.reasons)
    clock.advance(days=3)
    assert service.get_order(order.id) is expired  # past the ttl, time no longer matters


def test_settled_states_read_as_computed(service: Service, clock: Clock) -> None:
    order = approve(service, launch(service).id, "o1", "o2", "o3")
    approved = service.get_order(order.id)
    assert approved.state.value == "approved"
    assert approved == fresh(service, order.id)
    service.claim(order_id=order.id, by="cmd")
    claimed = service.get_order(order.id)
    assert claimed.state.value == "executing"
    assert claimed == fresh(service, order.id)
    cancelled = launch(service, target="south")
    service.cancel(order_id=cancelled.id, by="cmd", reason="wrong target")
    clock.advance(hours=2)  # cancelled before its ttl, read after it
    assert service.get_order(cancelled.id) == fresh(service, cancelled.id)


def test_views_are_bounded() -> None:
    assert build._views.maxsize <= 4096 and build._decisions.maxsize <= 4096


# ---- the engine's use of the clock (what the decision key assumes) -------------

COUNCIL = policy(
    """
    cosignatory: 1
    name: council
    settings: {ttl: 1h}
    people:
      kim: {roles: [commander]}
      ann: {roles: [officer]}
      bob: {roles: [officer]}
      cat: {roles: [officer]}
      dan: {roles: [officer, inspector]}
      zed: {roles: [inspector]}
    actions:
      move: {params: {unit: {type: string}}}
    rules:
      - id: council
        applies_to: move
        proposers: [commander]
        require: [{role: officer, count: 2}]
        veto: [inspector]
        reject_after_denials: 2
    """
)
REVIEW_SETS = {
    "none": [],
    "one approval": [("ann", APPROVE, 5)],
    "approved": [("ann", APPROVE, 5), ("bob", APPROVE, 10)],
    "approval after the ttl": [("ann", APPROVE, 5), ("bob", APPROVE, 61)],
    "vetoed": [("ann", APPROVE, 5), ("zed", DENY, 7)],
    "veto after the ttl": [("ann", APPROVE, 5), ("zed", DENY, 90)],
    "two denials": [("ann", DENY, 1), ("bob", DENY, 2)],
    "duplicate and stranger": [("ann", APPROVE, 1), ("ann", DENY, 2), ("eve", APPROVE, 3)],
    "officer-inspector denies": [("dan", DENY, 4), ("cat", APPROVE, 8)],
}
BEFORE = [0, 1, 30, 59.99]  # minutes after creation
AFTER = [60, 60.01, 120, 60 * 24 * 30]


@pytest.mark.parametrize("name", list(REVIEW_SETS))
def test_engine_reads_the_clock_only_against_the_ttl(name: str) -> None:
    order = OrderInput(action="move", params={"unit": "u"}, proposer="kim", created_at=T0)
    reviews = [
        ReviewInput(reviewer=who, decision=d, at=T0 + timedelta(minutes=m))
        for who, d, m in REVIEW_SETS[name]
    ]
    for side in (BEFORE, AFTER):
        decisions = [evaluate(COUNCIL, order, reviews, T0 + timedelta(minutes=m)) for m in side]
        assert all(d == decisions[0] for d in decisions), name


# ---- Memo -----------------------------------------------------------------------


def test_memo_evicts_the_least_recently_used() -> None:
    memo: Memo[int, str] = Memo(3)
    for k in (1, 2, 3):
        memo.put(k, str(k))
    assert memo.get(1) == "1"  # 1 is now the most recent
    memo.put(4, "4")
    assert len(memo) == 3
    assert memo.get(2) is None
    assert [memo.get(k) for k in (1, 3, 4)] == ["1", "3", "4"]


def test_memo_needs_room() -> None:
    with pytest.raises(RuntimeError):
        Memo(0)


def test_memo_under_threads_stays_bounded_and_right() -> None:
    memo: Memo[int, int] = Memo(64)
    wrong: list[tuple[int, int]] = []

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(5000):
            key = rng.randrange(200)
            value = memo.get(key)
            if value is None:
                memo.put(key, key * 7)
            elif value != key * 7:
                wrong.append((key, value))

    threads = [threading.Thread(target=hammer, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    assert len(memo) == 64
