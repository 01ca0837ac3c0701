"""Policy versions: pinning at proposal, and what keep / reevaluate / void do in flight."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cosignatory.core.errors import ErrorCode
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.orders import order_digest_of
from cosignatory.core.policy import load_policy
from cosignatory.service import InFlight, Service
from tests.conftest import Clock
from tests.contract.policies import FIELD, SQUAD, squad
from tests.contract.support import approve, assert_log_consistent, deny, launch, refused


def test_versions_are_numbered_and_kept(service: Service, clock: Clock) -> None:
    first = service.publish_policy(yaml_text=SQUAD, by="admin", filename="squad.yaml")
    clock.advance(minutes=1)
    second = service.publish_policy(yaml_text=FIELD, by="ops")
    assert (first.version, second.version) == (1, 2)
    assert service.current_policy() == second
    assert [v.version for v in service.policy_versions()] == [1, 2]
    assert second.name == "field-command"
    assert second.digest == load_policy(FIELD).digest
    assert second.yaml_text == FIELD
    assert (second.published_by, second.published_at) == ("ops", clock.now)
    published = service.events(subject="policy/2")
    assert [e.kind.value for e in published] == ["policy:published", "policy:in_flight"]
    assert published[0].payload["yaml"] == FIELD
    assert published[0].payload["previous_version"] == 1


def test_publishing_the_same_text_again_changes_nothing(service: Service) -> None:
    first = service.publish_policy(yaml_text=SQUAD, by="admin")
    again = service.publish_policy(yaml_text=SQUAD, by="someone-else")
    assert again == first
    assert len(service.policy_versions()) == 1
    assert len(service.events()) == 2


def test_an_order_pins_the_version_in_force(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = launch(service)
    service.publish_policy(yaml_text=squad(launch_officers=3), by="admin")
    # keep: still governed by v1 (two officers), though v2 wants three
    order = approve(service, order.id, "o1", "o2")
    assert order.state is OrderState.APPROVED
    assert order.policy_version == 1
    newer = launch(service)
    assert newer.policy_version == 2
    assert [s.count for s in newer.seats] == [3]


def test_a_version_published_by_another_service_governs_the_next_proposal(
    service: Service, clock: Clock
) -> None:
    """A `Service` remembers the policy head between proposals; another process (here,
    another `Service` on the same database) publishing must still win at once."""
    service.publish_policy(yaml_text=SQUAD, by="admin")
    assert launch(service).policy_version == 1  # the head is now remembered
    other = Service(service.store, clock=clock)
    other.publish_policy(yaml_text=squad(launch_officers=3), by="admin")
    newer = launch(service)
    assert newer.policy_version == 2
    assert [s.count for s in newer.seats] == [3]
    other.publish_policy(yaml_text=FIELD, by="admin")  # no `launch` action at all
    refused(ErrorCode.UNKNOWN_ACTION, lambda: launch(service))
    assert_log_consistent(service)


def test_keep_records_the_choice_and_the_orders(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    a, b = launch(service), launch(service)
    service.publish_policy(yaml_text=squad(ttl="2h"), by="admin", in_flight=InFlight.KEEP)
    in_flight = service.events(subject="policy/2")[-1]
    assert in_flight.kind.value == "policy:in_flight"
    assert in_flight.payload["mode"] == "keep"
    assert sorted(o["id"] for o in in_flight.payload["orders"]) == sorted([a.id, b.id])
    assert {o["result"] for o in in_flight.payload["orders"]} == {"kept"}
    assert service.get_order(a.id).expires_at == a.expires_at  # still v1's ttl
    assert_log_consistent(service)


def test_void_cancels_every_pending_order(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    pending = launch(service)
    approved = approve(service, launch(service).id, "o1", "o2")
    service.publish_policy(yaml_text=FIELD, by="admin", in_flight=InFlight.VOID)
    voided = service.get_order(pending.id)
    assert voided.state is OrderState.CANCELLED
    assert voided.closed_by == "admin"
    assert voided.close_reason == "voided by policy version 2"
    assert service.get_order(approved.id).state is OrderState.APPROVED  # only pending ones
    kinds = [e.kind.value for e in service.events(start=0)][-3:]
    assert kinds == ["policy:published", "policy:in_flight", "order:cancelled"]
    assert_log_consistent(service)


def test_reevaluate_decides_again_under_the_new_version(service: Service, clock: Clock) -> None:
    service.publish_policy(yaml_text=squad(launch_officers=3), by="admin")
    nearly = approve(service, launch(service).id, "o1", "o2")  # 2 of 3
    waiting = approve(service, launch(service).id, "o1")  # 1 of 3
    untouched = launch(service)
    clock.advance(minutes=1)
    service.publish_policy(
        yaml_text=squad(launch_officers=2, ttl="3h"), by="admin", in_flight=InFlight.REEVALUATE
    )
    now_approved = service.get_order(nearly.id)
    assert now_approved.state is OrderState.APPROVED
    assert now_approved.approved_at == clock.now
    assert now_approved.policy_version == 2
    still = service.get_order(waiting.id)
    assert (still.state, still.policy_version) == (OrderState.PENDING, 2)
    assert still.expires_at - still.created_at == timedelta(hours=3)
    assert still.digest != waiting.digest  # the digest covers the governing policy
    fresh = service.get_order(untouched.id)
    entries = {e["id"]: e for e in service.events(subject="policy/2")[-1].payload["orders"]}
    assert entries[nearly.id]["result"] == "approved"
    assert entries[waiting.id]["result"] == "pending"
    # An auditor recomputes the new digest from the proposal and the in-flight entry.
    proposed = service.events(order_id=waiting.id)[0].payload
    recomputed = order_digest_of({**proposed, **entries[waiting.id]})
    assert recomputed == still.digest == entries[waiting.id]["digest"]
    assert fresh.digest == entries[untouched.id]["digest"]
    assert_log_consistent(service)


def test_reevaluate_cancels_orders_the_new_version_refuses(service: Service) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = launch(service)
    tighter = SQUAD.replace(
        "proposers: [commander]\n    require: [{role: officer, count: 2}]",
        "proposers: [clerk]\n    require: [{role: officer, count: 2}]",
    )
    assert tighter != SQUAD
    service.publish_policy(yaml_text=tighter, by="admin", in_flight=InFlight.REEVALUATE)
    view = service.get_order(order.id)
    assert view.state is OrderState.CANCELLED
    assert view.close_reason is not None and "refused under policy version 2" in view.close_reason
    entry = service.events(subject="policy/2")[-1].payload["orders"][0]
    assert entry == {"id": order.id, "from_version": 1, "result": "cancelled",
                     "refusal": "not_proposer"}  # fmt: skip
    assert_log_consistent(service)


def test_reevaluate_with_a_shorter_ttl_expires_old_orders(service: Service, clock: Clock) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    old = launch(service)
    clock.advance(minutes=40)
    young = launch(service)
    clock.advance(minutes=5)
    service.publish_policy(yaml_text=squad(ttl="30m"), by="admin", in_flight=InFlight.REEVALUATE)
    assert service.get_order(old.id).state is OrderState.EXPIRED
    assert service.get_order(young.id).state is OrderState.PENDING
    assert_log_consistent(service)


def test_reevaluate_rejects_on_a_new_veto_role(service: Service) -> None:
    service.publish_policy(yaml_text=FIELD, by="admin")
    order = service.propose(
        action="requisition", params={"item": "fuel", "amount": 10}, proposer="kim"
    )
    refused(ErrorCode.NOT_ELIGIBLE, lambda: deny(service, order.id, "ri"))
    vetoing = FIELD.replace(
        "veto: [political_officer]", "veto: [political_officer, military_police]"
    )
    service.publish_policy(yaml_text=vetoing, by="admin", in_flight=InFlight.REEVALUATE)
    view = deny(service, order.id, "ri")
    assert view.state is OrderState.REJECTED
    assert view.vetoers == ("han", "pak", "ri")


@pytest.mark.parametrize("mode", list(InFlight))
def test_overdue_pending_orders_expire_on_publish(
    mode: InFlight, service: Service, clock: Clock
) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = launch(service)
    clock.advance(hours=2)
    service.publish_policy(yaml_text=FIELD, by="admin", in_flight=mode)
    entries = service.events(subject="policy/2")[-1].payload["orders"]
    expected = (
        [] if mode is InFlight.KEEP else [{"id": order.id, "from_version": 1, "result": "expired"}]
    )
    assert entries == expected  # keep lists only what reads as pending
    assert service.get_order(order.id).state is OrderState.EXPIRED
    assert_log_consistent(service)
