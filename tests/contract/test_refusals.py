"""Every refusal, as named cases, on every database.

A refused call raises a typed error with a stable code, writes no event and changes no
order, except where the refusal itself notices an overdue order: that order is expired
(one `order:expired` event) and the call is still refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from cosignatory.core.errors import ErrorCode, PolicyError, RefusedError
from cosignatory.core.lifecycle import OrderState
from cosignatory.service import Outcome, Service
from tests.conftest import Clock
from tests.contract.policies import SQUAD
from tests.contract.support import (
    APPROVE,
    DENY,
    approve,
    approved_launch,
    assert_log_consistent,
    deny,
    launch,
    refused,
    stored_states,
)

E = ErrorCode
Setup = Callable[[Service, Clock], Callable[[], object]]  # prepares, returns the refused call


@dataclass(frozen=True)
class Case:
    name: str
    code: ErrorCode
    setup: Setup
    expires: bool = False  # the refusal expires an overdue order


def propose(action: str, by: str = "cmd", **params: object) -> Setup:
    return lambda s, c: lambda: s.propose(action=action, params=params, proposer=by)


def review_of(make: Callable[[Service, Clock], str], who: str, decision: str = "approve") -> Setup:
    def setup(s: Service, c: Clock) -> Callable[[], object]:
        order_id = make(s, c)
        choice = APPROVE if decision == "approve" else DENY
        return lambda: s.review(order_id=order_id, reviewer=who, decision=choice)

    return setup


def pending(s: Service, c: Clock) -> str:
    return launch(s).id


def approved(s: Service, c: Clock) -> str:
    return approved_launch(s).id


def rejected(s: Service, c: Clock) -> str:
    return deny(s, launch(s).id, "insp").id


def cancelled(s: Service, c: Clock) -> str:
    return s.cancel(order_id=launch(s).id, by="cmd").id


def executing(s: Service, c: Clock) -> str:
    return s.claim(order_id=approved_launch(s).id, by="cmd")[0].id


def overdue_pending(s: Service, c: Clock) -> str:
    order_id = launch(s).id
    c.advance(hours=2)
    return order_id


def overdue_approved(s: Service, c: Clock) -> str:
    order_id = approved_launch(s).id
    c.advance(minutes=10)
    return order_id


def reviewed_by_o1(s: Service, c: Clock) -> str:
    return approve(s, launch(s).id, "o1").id


def claim_of(make: Callable[[Service, Clock], str], by: str = "cmd") -> Setup:
    def setup(s: Service, c: Clock) -> Callable[[], object]:
        order_id = make(s, c)
        return lambda: s.claim(order_id=order_id, by=by)

    return setup


def cancel_of(make: Callable[[Service, Clock], str], by: str = "cmd", admin: bool = False) -> Setup:
    def setup(s: Service, c: Clock) -> Callable[[], object]:
        order_id = make(s, c)
        return lambda: s.cancel(order_id=order_id, by=by, as_admin=admin)

    return setup


def result_with(
    ticket: str | None,
    outcome: Outcome = Outcome.SUCCEEDED,
    *,
    twice: bool = False,
    make: Callable[[Service, Clock], str] | None = None,
) -> Setup:
    def setup(s: Service, c: Clock) -> Callable[[], object]:
        if make is not None:
            order_id, real = make(s, c), "x" * 43
        else:
            view, real = s.claim(order_id=approved_launch(s).id, by="cmd")
            order_id = view.id
        if twice:
            s.record_result(order_id=order_id, ticket=real, outcome=Outcome.SUCCEEDED)
        return lambda: s.record_result(order_id=order_id, ticket=ticket or real, outcome=outcome)

    return setup


CASES = [
    # propose
    Case("propose: unknown action", E.UNKNOWN_ACTION, propose("fly")),
    Case("propose: proposer not in the roster", E.NOT_PROPOSER, propose("launch", "zed", target="x")),
    Case("propose: proposer lacks the proposer role", E.NOT_PROPOSER,
         propose("launch", "o1", target="x")),
    Case("propose: required param missing", E.INVALID_PARAMS, propose("launch")),
    Case("propose: param of the wrong type", E.INVALID_PARAMS, propose("launch", target=7)),
    Case("propose: undeclared param", E.INVALID_PARAMS, propose("launch", target="x", speed=1)),
    Case("propose: no rule covers the action", E.NO_RULE, propose("unruled")),
    Case("propose: no rule matches these params", E.NO_RULE, propose("probe", mode="shallow")),
    Case("propose: a rule condition fails to evaluate", E.CONDITION_ERROR, propose("probe")),
    Case("propose: person id malformed", E.INVALID_INPUT, propose("launch", "Not A Person")),
    # review
    Case("review: no such order", E.NOT_FOUND,
         lambda s, c: lambda: s.review(order_id="ord_missing", reviewer="o1", decision=APPROVE)),
    Case("review: the proposer approves their own order", E.SELF_APPROVAL,
         review_of(pending, "cmd")),
    Case("review: the proposer denies their own order", E.SELF_APPROVAL,
         review_of(pending, "cmd", "deny")),
    Case("review: reviewer not in the roster", E.NOT_ELIGIBLE, review_of(pending, "zed")),
    Case("review: reviewer holds no seat role and no veto role", E.NOT_ELIGIBLE,
         review_of(pending, "clerk")),
    Case("review: a vetoer without a seat role approves", E.NOT_ELIGIBLE,
         review_of(pending, "insp")),
    Case("review: a second review by the same person", E.ALREADY_REVIEWED,
         review_of(reviewed_by_o1, "o1")),
    Case("review: a deny after one's own approval", E.ALREADY_REVIEWED,
         review_of(reviewed_by_o1, "o1", "deny")),
    Case("review: the order is already approved", E.ORDER_CLOSED, review_of(approved, "o3")),
    Case("review: the order was vetoed", E.ORDER_CLOSED, review_of(rejected, "o1")),
    Case("review: the order was cancelled", E.ORDER_CLOSED, review_of(cancelled, "o1")),
    Case("review: the order is executing", E.ORDER_CLOSED, review_of(executing, "o3")),
    Case("review: the ttl has passed", E.ORDER_CLOSED, review_of(overdue_pending, "o1"),
         expires=True),
    # cancel
    Case("cancel: no such order", E.NOT_FOUND, cancel_of(lambda s, c: "ord_missing")),
    Case("cancel: by someone who is neither proposer nor admin", E.FORBIDDEN,
         cancel_of(pending, by="o1")),
    Case("cancel: already rejected", E.ORDER_CLOSED, cancel_of(rejected)),
    Case("cancel: already cancelled", E.ORDER_CLOSED, cancel_of(cancelled, admin=True)),
    Case("cancel: executing", E.ORDER_CLOSED, cancel_of(executing)),
    Case("cancel: the ttl has passed", E.ORDER_CLOSED, cancel_of(overdue_pending), expires=True),
    # claim
    Case("claim: no such order", E.NOT_FOUND, claim_of(lambda s, c: "ord_missing")),
    Case("claim: not approved yet", E.NOT_APPROVED, claim_of(pending)),
    Case("claim: a second claim", E.ALREADY_EXECUTED, claim_of(executing)),
    Case("claim: after its result was recorded", E.ALREADY_EXECUTED,
         claim_of(lambda s, c: s.record_result(
             order_id=(v := s.claim(order_id=approved_launch(s).id, by="cmd"))[0].id,
             ticket=v[1], outcome=Outcome.SUCCEEDED).id)),
    Case("claim: vetoed", E.ORDER_CLOSED, claim_of(rejected)),
    Case("claim: cancelled", E.ORDER_CLOSED, claim_of(cancelled)),
    Case("claim: the execution window has passed", E.ORDER_CLOSED, claim_of(overdue_approved),
         expires=True),
    # record_result
    Case("result: no such order", E.NOT_FOUND,
         lambda s, c: lambda: s.record_result(order_id="ord_missing", ticket="t",
                                              outcome=Outcome.SUCCEEDED)),
    Case("result: a wrong ticket", E.INVALID_TICKET, result_with("not-the-ticket")),
    Case("result: before any claim", E.NOT_APPROVED, result_with(None, make=approved)),
    Case("result: on a pending order", E.NOT_APPROVED, result_with(None, make=pending)),
    Case("result: on a cancelled order", E.ORDER_CLOSED, result_with(None, make=cancelled)),
    Case("result: a different outcome after one was recorded", E.ALREADY_EXECUTED,
         result_with(None, Outcome.FAILED, twice=True)),
    Case("result: a wrong ticket after one was recorded", E.INVALID_TICKET,
         result_with("forged", twice=True)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refusal(case: Case, service: Service, clock: Clock) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    call = case.setup(service, clock)
    states_before = stored_states(service)
    events_before = len(assert_log_consistent(service))
    error = refused(case.code, call)
    assert error.message and error.message == error.message.strip()
    events = assert_log_consistent(service)
    states_after = stored_states(service)
    if case.expires:
        assert [e.kind.value for e in events[events_before:]] == ["order:expired"]
        changed = {k for k in states_after if states_after[k] != states_before.get(k)}
        assert len(changed) == 1
        assert states_after[changed.pop()] is OrderState.EXPIRED
    else:
        assert len(events) == events_before
        assert states_after == states_before


def test_refused_proposals_are_refused_errors_with_reasons(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    with pytest.raises(RefusedError) as info:
        service.propose(action="launch", params={}, proposer="cmd")
    assert "`target` is required" in info.value.message


def test_no_policy_yet(service: Service) -> None:
    refused(ErrorCode.NO_POLICY, lambda: service.propose(action="x", params={}, proposer="cmd"))
    refused(ErrorCode.NO_POLICY, service.current_policy)
    assert service.policy_versions() == []


def test_invalid_policy_is_refused_with_every_problem(service: Service) -> None:
    with pytest.raises(PolicyError) as info:
        service.publish_policy(yaml_text="cosignatory: 1\nname: x\n", by="admin", filename="p.yaml")
    assert all(str(issue).startswith("p.yaml:") for issue in info.value.issues)
    assert len(info.value.issues) >= 2
    assert service.policy_versions() == []
    assert service.events() == []


def test_result_is_idempotent_for_the_same_report(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order, ticket = service.claim(order_id=approved_launch(service).id, by="cmd")
    first = service.record_result(
        order_id=order.id, ticket=ticket, outcome=Outcome.SUCCEEDED, detail="ok"
    )
    again = service.record_result(
        order_id=order.id, ticket=ticket, outcome=Outcome.SUCCEEDED, detail="ok"
    )
    assert again.state is first.state is OrderState.EXECUTED
    assert [e.kind.value for e in service.events(order_id=order.id)].count("order:executed") == 1


def test_refusals_validate_text_sizes(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = launch(service)
    refused(
        ErrorCode.INVALID_INPUT,
        lambda: service.review(
            order_id=order.id, reviewer="o1", decision=APPROVE, comment="x" * 5000
        ),
    )
    refused(
        ErrorCode.INVALID_INPUT,
        lambda: service.propose(
            action="launch", params={"target": "x"}, proposer="cmd", justification="j" * 5000
        ),
    )
    refused(
        ErrorCode.INVALID_INPUT,
        lambda: service.propose(action="mass", params={"size": 2**60}, proposer="cmd"),
    )


def test_ticket_is_stored_only_as_a_hash(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    _, ticket = service.claim(order_id=approved_launch(service).id, by="cmd")
    assert len(ticket) >= 43  # 32 random bytes, base64url
    with service.store.begin_read() as conn:
        dump = "\n".join(
            str(value)
            for table in ("orders", "events")
            for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
            for value in row
        )
    assert ticket not in dump
