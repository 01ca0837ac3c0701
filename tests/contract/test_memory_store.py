"""The in-memory store (for other suites' unit tests) runs the same lifecycle and races."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cosignatory.core.lifecycle import OrderState
from cosignatory.service import Service
from cosignatory.storage import Store, memory_store
from tests.conftest import Clock
from tests.contract.policies import SQUAD
from tests.contract.support import approved_launch, assert_log_consistent
from tests.contract.test_races import race


@pytest.fixture
def memory() -> Iterator[Store]:
    store = memory_store()
    yield store
    store.close()


def test_a_lifecycle_in_memory(memory: Store) -> None:
    service = Service(memory, clock=Clock())
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = approved_launch(service)
    results = race(8, lambda i: service.claim(order_id=order.id, by="cmd"))
    assert [kind for kind, _ in results].count("ok") == 1
    assert service.get_order(order.id).state is OrderState.EXECUTING
    assert_log_consistent(service)


def test_memory_stores_are_private(memory: Store) -> None:
    other = memory_store()
    try:
        Service(memory).publish_policy(yaml_text=SQUAD, by="admin")
        assert Service(other).policy_versions() == []
    finally:
        other.close()
