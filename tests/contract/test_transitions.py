"""Every move of the lifecycle, as named cases, on every database.

Each case drives one order from proposal to the state under test and checks the final
state, the exact events of that order, and the log invariants (`assert_log_consistent`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from cosignatory.core.errors import ErrorCode
from cosignatory.core.lifecycle import TRANSITIONS, OrderState
from cosignatory.service import Outcome, Service
from tests.conftest import Clock
from tests.contract.policies import CHANGE, SQUAD
from tests.contract.support import (
    approve,
    approved_launch,
    assert_log_consistent,
    deny,
    kinds,
    launch,
    refused,
)

S = OrderState


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[Service, Clock], str]  # returns the order id
    state: OrderState
    events: tuple[str, ...]
    policy: str = SQUAD


def _pending(service: Service, clock: Clock) -> str:
    return launch(service).id


def _no_seats(service: Service, clock: Clock) -> str:
    return service.propose(action="drill", params={}, proposer="cmd").id


def _two_officers(service: Service, clock: Clock) -> str:
    return approved_launch(service).id


def _veto(service: Service, clock: Clock) -> str:
    order = launch(service)
    return deny(service, order.id, "insp").id


def _veto_after_approval(service: Service, clock: Clock) -> str:
    order = approve(service, launch(service).id, "o1")
    return deny(service, order.id, "insp").id


def _deny_threshold(service: Service, clock: Clock) -> str:
    order = service.propose(
        action="deploy",
        params={"service": "api", "version": "1.2", "environment": "prod"},
        proposer="ana",
    )
    deny(service, order.id, "cho")
    return deny(service, order.id, "dev").id


def _ttl_swept(service: Service, clock: Clock) -> str:
    order = launch(service)
    clock.advance(hours=1)
    assert service.expire_due() == [order.id]
    return order.id


def _ttl_on_review(service: Service, clock: Clock) -> str:
    order = launch(service)
    clock.advance(hours=1, seconds=1)
    refused(ErrorCode.ORDER_CLOSED, lambda: approve(service, order.id, "o1"))
    return order.id


def _cancel_by_proposer(service: Service, clock: Clock) -> str:
    return service.cancel(order_id=launch(service).id, by="cmd", reason="changed plans").id


def _cancel_by_admin(service: Service, clock: Clock) -> str:
    order = launch(service)
    return service.cancel(order_id=order.id, by="root", reason="stop", as_admin=True).id


def _claimed(service: Service, clock: Clock) -> str:
    return service.claim(order_id=approved_launch(service).id, by="cmd")[0].id


def _window_swept(service: Service, clock: Clock) -> str:
    order = approved_launch(service)
    clock.advance(minutes=10)
    assert service.expire_due() == [order.id]
    return order.id


def _window_on_claim(service: Service, clock: Clock) -> str:
    order = approved_launch(service)
    clock.advance(minutes=11)
    refused(ErrorCode.ORDER_CLOSED, lambda: service.claim(order_id=order.id, by="cmd"))
    return order.id


def _cancel_approved(service: Service, clock: Clock) -> str:
    order = approved_launch(service)
    return service.cancel(order_id=order.id, by="cmd").id


def _result(outcome: Outcome) -> Callable[[Service, Clock], str]:
    def run(service: Service, clock: Clock) -> str:
        order, ticket = service.claim(order_id=approved_launch(service).id, by="cmd")
        clock.advance(seconds=30)
        return service.record_result(order_id=order.id, ticket=ticket, outcome=outcome).id

    return run


P, R, A = "order:proposed", "order:reviewed", "order:approved"
CASES = [
    Case("propose: pending while seats are empty", _pending, S.PENDING, (P,)),
    Case("propose: no seat to fill, approved at once", _no_seats, S.APPROVED, (P, A)),
    Case("pending → approved: the second officer fills the last seat", _two_officers,
         S.APPROVED, (P, R, R, A)),
    Case("pending → rejected: the inspector vetoes", _veto, S.REJECTED, (P, R, "order:rejected")),
    Case("pending → rejected: a veto after an approval", _veto_after_approval, S.REJECTED,
         (P, R, R, "order:rejected")),
    Case("pending → rejected: two release managers deny (reject_after_denials)",
         _deny_threshold, S.REJECTED, (P, R, R, "order:rejected"), CHANGE),
    Case("pending → expired: the sweeper after the ttl", _ttl_swept, S.EXPIRED,
         (P, "order:expired")),
    Case("pending → expired: a review after the ttl expires it and is refused", _ttl_on_review,
         S.EXPIRED, (P, "order:expired")),
    Case("pending → cancelled: by its proposer", _cancel_by_proposer, S.CANCELLED,
         (P, "order:cancelled")),
    Case("pending → cancelled: by an admin", _cancel_by_admin, S.CANCELLED,
         (P, "order:cancelled")),
    Case("approved → executing: the ticket is claimed", _claimed, S.EXECUTING,
         (P, R, R, A, "order:claimed")),
    Case("approved → expired: the sweeper after the execution window", _window_swept,
         S.EXPIRED, (P, R, R, A, "order:expired")),
    Case("approved → expired: a claim after the window expires it and is refused",
         _window_on_claim, S.EXPIRED, (P, R, R, A, "order:expired")),
    Case("approved → cancelled: by its proposer before execution", _cancel_approved,
         S.CANCELLED, (P, R, R, A, "order:cancelled")),
    Case("executing → executed: the result says succeeded", _result(Outcome.SUCCEEDED),
         S.EXECUTED, (P, R, R, A, "order:claimed", "order:executed")),
    Case("executing → failed: the result says failed", _result(Outcome.FAILED), S.FAILED,
         (P, R, R, A, "order:claimed", "order:failed")),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case, service: Service, clock: Clock) -> None:
    service.publish_policy(yaml_text=case.policy, by="admin")
    order_id = case.run(service, clock)
    view = service.get_order(order_id)
    assert view.state is case.state
    assert tuple(kinds(service, order_id)) == case.events
    assert list(view.event_seqs) == [e.seq for e in service.events(order_id=order_id)]
    assert_log_consistent(service)


def test_every_transition_of_the_table_has_a_case() -> None:
    moves = {(s, t) for s, targets in TRANSITIONS.items() for t in targets}
    covered = {
        (S.PENDING, S.APPROVED), (S.PENDING, S.REJECTED), (S.PENDING, S.EXPIRED),
        (S.PENDING, S.CANCELLED), (S.APPROVED, S.EXECUTING), (S.APPROVED, S.EXPIRED),
        (S.APPROVED, S.CANCELLED), (S.EXECUTING, S.EXECUTED), (S.EXECUTING, S.FAILED),
    }  # fmt: skip
    assert moves == covered, "a transition was added to core.lifecycle: add its case above"
    assert {c.state for c in CASES} >= {t for _, t in moves}


def test_approved_order_records_its_window(service: Service, clock: Clock) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = launch(service)
    clock.advance(minutes=5)
    order = approve(service, order.id, "o1", "o2")
    assert order.approved_at == clock.now
    assert order.execute_by == clock.now.replace(minute=15)
    assert order.expires_at == order.created_at.replace(hour=10)
    assert [s.filled_by for s in order.seats] == [("o1", "o2")]
    assert order.missing == ()


def test_results_carry_detail_and_times(service: Service, clock: Clock) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order, ticket = service.claim(order_id=approved_launch(service).id, by="o3")
    clock.advance(seconds=42)
    done = service.record_result(
        order_id=order.id, ticket=ticket, outcome=Outcome.FAILED, detail="exit status 3"
    )
    assert (done.outcome, done.outcome_detail) == (Outcome.FAILED, "exit status 3")
    assert done.claimed_by == "o3"
    assert done.executed_at == clock.now
    assert done.closed_at == clock.now
    executed = service.events(order_id=order.id)[-1]
    assert executed.actor == "o3"
    assert executed.payload["detail"] == "exit status 3"
