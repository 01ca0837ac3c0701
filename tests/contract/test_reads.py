"""Reads: one order, pages of orders (filters, `awaiting`, cursors), counts, overdue display."""

from __future__ import annotations

import pytest

from cosignatory.core.errors import ErrorCode
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import order_digest
from cosignatory.service import Service
from tests.conftest import Clock
from tests.contract.policies import CHANGE, FIELD, SQUAD
from tests.contract.support import approve, approved_launch, deny, launch, refused


def test_order_json_has_the_documented_shape(service: Service, clock: Clock) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = approve(service, launch(service).id, "o1")
    body = order.to_json()
    documented = {
        "id", "action", "params", "proposer", "justification", "state", "created_at",
        "expires_at", "policy_digest", "digest", "matched_rules", "seats", "missing",
        "vetoers", "reviews", "executed_at", "outcome",
    }  # fmt: skip
    assert documented <= set(body)
    assert body["state"] == "pending"
    assert body["created_at"] == "2030-01-01T09:00:00.000000Z"
    assert body["seats"] == [
        {"role": "officer", "count": 2, "filled_by": ["o1"], "eligible": [f"o{i}" for i in
                                                                           (10, 2, 3, 4, 5, 6, 7, 8, 9)]}
    ]  # fmt: skip
    assert body["missing"] == [{"role": "officer", "count": 1}]
    assert body["vetoers"] == ["insp"]
    assert body["reviews"][0] | {"at": None} == {
        "reviewer": "o1", "decision": "approve", "comment": "", "at": None, "seat": "officer",
        "counted": True, "note": "",
    }  # fmt: skip
    assert body["digest"] == order_digest(
        id=order.id, action="launch", params={"target": "north"}, proposer="cmd",
        justification="j", created_at=order.created_at, expires_at=order.expires_at,
        policy_digest=order.policy_digest,
    )  # fmt: skip


def test_ids_are_prefixed_and_sortable(service: Service, clock: Clock) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    ids = [launch(service).id for _ in range(5)]
    assert all(i.startswith("ord_") and len(i) == 30 for i in ids)
    assert ids == sorted(ids)


def test_get_unknown_order(service: Service) -> None:
    refused(ErrorCode.NOT_FOUND, lambda: service.get_order("ord_nope"))


def test_overdue_orders_read_as_expired_before_the_sweep(service: Service, clock: Clock) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    pending = launch(service)
    approved = approved_launch(service)
    clock.advance(minutes=10)
    window_passed = service.get_order(approved.id)
    assert window_passed.state is OrderState.EXPIRED
    assert window_passed.closed_at == approved.execute_by
    assert service.get_order(pending.id).state is OrderState.PENDING
    clock.advance(minutes=50)
    ttl_passed = service.get_order(pending.id)
    assert ttl_passed.state is OrderState.EXPIRED
    assert any("expired at" in r for r in ttl_passed.reasons)
    assert service.count_orders_by_state()["expired"] == 2
    listed, _ = service.list_orders(state=OrderState.EXPIRED)
    assert {o.id for o in listed} == {pending.id, approved.id}
    assert service.list_orders(state=OrderState.PENDING)[0] == []
    assert sorted(service.expire_due()) == sorted([pending.id, approved.id])
    assert service.expire_due() == []
    assert service.get_order(pending.id).state is OrderState.EXPIRED


def test_list_filters(service: Service, clock: Clock) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    a = launch(service)
    b = launch(service, by="cmd2")
    c = service.propose(action="drill", params={}, proposer="cmd")
    deny(service, a.id, "insp")

    def ids(**filters: object) -> list[str]:
        return [o.id for o in service.list_orders(**filters)[0]]  # type: ignore[arg-type]

    assert ids() == [c.id, b.id, a.id]  # newest first
    assert ids(state=OrderState.REJECTED) == [a.id]
    assert ids(state=OrderState.APPROVED) == [c.id]
    assert ids(proposer="cmd2") == [b.id]
    assert ids(action="launch") == [b.id, a.id]
    assert ids(action="launch", proposer="cmd") == [a.id]
    assert ids(state=OrderState.EXECUTED) == []
    counts = service.count_orders_by_state()
    assert (counts["pending"], counts["approved"], counts["rejected"]) == (1, 1, 1)
    assert set(counts) == {s.value for s in OrderState}


def test_pages_follow_the_cursor_to_the_end(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    made = [launch(service).id for _ in range(7)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page, cursor = service.list_orders(limit=3, cursor=cursor)
        seen.extend(o.id for o in page)
        pages += 1
        if cursor is None:
            break
    assert seen == list(reversed(made))
    assert pages == 3


@pytest.mark.parametrize("bad", ["%%%", "b3Jk", "eHl6XzE"])
def test_bad_cursor_is_bad_input(bad: str, service: Service) -> None:
    refused(ErrorCode.INVALID_INPUT, lambda: service.list_orders(cursor=bad))


@pytest.mark.parametrize("limit", [0, 501])
def test_page_size_is_bounded(limit: int, service: Service) -> None:
    refused(ErrorCode.INVALID_INPUT, lambda: service.list_orders(limit=limit))


def test_awaiting_means_could_still_act(service: Service) -> None:
    service.publish_policy(yaml_text=FIELD, by="admin")
    move = service.propose(action="move", params={"unit": "a", "destination": "b"}, proposer="kim")
    detain = service.propose(action="detain", params={"person": "x", "reason": "y"}, proposer="kim")
    transfer = service.propose(action="transfer", params={"person": "x", "to_unit": "z"},
                               proposer="jo")  # fmt: skip
    approve(service, detain.id, "pak")

    def awaiting(person: str) -> set[str]:
        return {o.id for o in service.list_orders(awaiting=person)[0]}

    assert awaiting("pak") == {move.id, transfer.id}  # already reviewed the detention
    # han's seat on the detention is taken by pak, but han may still veto it
    assert awaiting("han") == {move.id, detain.id, transfer.id}
    assert awaiting("ri") == {detain.id}
    assert awaiting("choe") == {transfer.id}
    assert awaiting("kim") == set()  # proposer of two; holds no seat or veto role of jo's
    assert awaiting("nobody") == set()
    assert service.list_orders(awaiting="ri", state=OrderState.APPROVED) == ([], None)


def test_awaiting_pages_through_many_non_matching_orders(service: Service) -> None:
    service.publish_policy(yaml_text=CHANGE, by="admin")
    wanted = []
    for i in range(12):
        env = "prod" if i % 4 == 0 else "staging"
        order = service.propose(
            action="deploy", params={"service": f"s{i}", "version": "1", "environment": env},
            proposer="ana",
        )  # fmt: skip
        if env == "prod":
            wanted.append(order.id)
    page, cursor = service.list_orders(awaiting="cho", limit=2)
    rest, end = service.list_orders(awaiting="cho", limit=2, cursor=cursor)
    assert [o.id for o in page + rest] == list(reversed(wanted))
    assert end is None
