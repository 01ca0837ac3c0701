"""Racing threads on one database: exactly-once claims, one approval event, no lost review.

Every racer waits on a barrier and then calls the service at once; each race is checked
against the stored state and the event log (`assert_log_consistent`).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from cosignatory.core.errors import CosignatoryError
from cosignatory.core.lifecycle import OrderState
from cosignatory.service import ReviewDecision, Service
from tests.contract.policies import OFFICERS, SQUAD
from tests.contract.support import (
    APPROVE,
    DENY,
    approve,
    approved_launch,
    assert_log_consistent,
    kinds,
    launch,
)

MOVES = [("o2", APPROVE), ("insp", DENY)]  # the last approval, and a veto
Outcome = tuple[str, object]  # ("ok", result) | ("refused", error code value)


def race(n: int, call: Callable[[int], object]) -> list[Outcome]:
    barrier = threading.Barrier(n)

    def run(i: int) -> Outcome:
        barrier.wait(timeout=30)
        try:
            return ("ok", call(i))
        except CosignatoryError as e:
            return ("refused", e.code.value)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_sixteen_racing_claims_give_one_ticket(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    for _ in range(2):
        order = approved_launch(service)
        results = race(16, lambda i, o=order.id: service.claim(order_id=o, by=f"o{i % 10 + 1}"))
        wins = [r for kind, r in results if kind == "ok"]
        assert len(wins) == 1
        assert Counter(r for kind, r in results if kind == "refused") == {"already_executed": 15}
        view, ticket = wins[0]  # type: ignore[misc]
        assert view.state is OrderState.EXECUTING
        claimed = [e for e in service.events(order_id=order.id) if e.kind.value == "order:claimed"]
        assert len(claimed) == 1
        assert claimed[0].payload["ticket_sha256"] == hashlib.sha256(ticket.encode()).hexdigest()
    assert_log_consistent(service)


def test_racing_final_approvals_give_one_approved_event(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    for _ in range(2):
        order = approve(service, launch(service).id, "o1")
        results = race(
            8,
            lambda i, o=order.id: service.review(
                order_id=o, reviewer=OFFICERS[1 + i], decision=APPROVE
            ),
        )
        assert Counter(kind for kind, _ in results) == {"ok": 1, "refused": 7}
        assert {r for kind, r in results if kind == "refused"} == {"order_closed"}
        assert kinds(service, order.id).count("order:approved") == 1
        view = service.get_order(order.id)
        assert view.state is OrderState.APPROVED
        assert len(view.reviews) == 2
    assert_log_consistent(service)


def test_approvals_racing_for_both_seats(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = launch(service)
    racers = OFFICERS[:8]
    results = race(
        8, lambda i: service.review(order_id=order.id, reviewer=racers[i], decision=APPROVE)
    )
    assert Counter(kind for kind, _ in results) == {"ok": 2, "refused": 6}
    assert kinds(service, order.id).count("order:approved") == 1
    assert kinds(service, order.id).count("order:reviewed") == 2
    assert_log_consistent(service)


def test_a_veto_racing_the_last_approval_has_one_outcome(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    outcomes = Counter()
    for _ in range(6):
        order = approve(service, launch(service).id, "o1")
        results = race(
            2,
            lambda i, o=order.id: service.review(
                order_id=o, reviewer=MOVES[i][0], decision=MOVES[i][1]
            ),
        )
        assert Counter(kind for kind, _ in results) == {"ok": 1, "refused": 1}
        view = service.get_order(order.id)
        log = kinds(service, order.id)
        if view.state is OrderState.APPROVED:
            assert "order:rejected" not in log and log.count("order:approved") == 1
            assert results[1] == ("refused", "order_closed")
        else:
            assert view.state is OrderState.REJECTED
            assert "order:approved" not in log and log.count("order:rejected") == 1
            assert results[0] == ("refused", "order_closed")
        assert log.count("order:reviewed") == 2  # o1's, and the winner's
        outcomes[view.state] += 1
    assert sum(outcomes.values()) == 6
    assert_log_consistent(service)


def test_eight_concurrent_reviewers_lose_no_review(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = service.propose(action="mass", params={"size": 3}, proposer="cmd")
    racers = OFFICERS[:8]
    results = race(
        8,
        lambda i: service.review(
            order_id=order.id, reviewer=racers[i], decision=ReviewDecision.APPROVE, comment=str(i)
        ),
    )
    assert all(kind == "ok" for kind, _ in results)
    view = service.get_order(order.id)
    assert sorted(r.reviewer for r in view.reviews) == sorted(racers)
    assert view.state is OrderState.PENDING
    assert view.missing[0].count == 1  # nine needed, eight given
    assert kinds(service, order.id).count("order:reviewed") == 8
    assert_log_consistent(service)


def test_concurrent_writers_keep_the_log_gapless(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")

    def work(i: int) -> object:
        if i % 4 == 0:
            return service.create_token(person=f"o{i % 10 + 1}", by="admin")
        order = launch(service, target=f"t{i}")
        return approve(service, order.id, "o1", "o2")

    results = race(12, work)
    assert all(kind == "ok" for kind, _ in results)
    events = assert_log_consistent(service)
    assert len(events) == 2 + 3 + 9 * 4  # policy (2), tokens (3 × 1), orders (9 × 4)
