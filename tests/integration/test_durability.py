"""An acknowledged review survives SIGKILL of the process that wrote it.

The child (`durable_child.py`) approves orders in a loop and prints `acked ID` only
after each approval returned. We kill it with SIGKILL in the middle of its next write,
reopen the database from scratch, and find every acknowledged review, a log that still
replays, and nothing half-written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cosignatory.core.lifecycle import OrderState
from cosignatory.service import Service
from cosignatory.storage import open_store
from tests.contract.policies import SQUAD
from tests.contract.support import assert_log_consistent

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ACKS = 4


def test_acknowledged_reviews_survive_sigkill(
    store_url: str, service: Service, tmp_path: Path
) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    service.store.close()
    with (tmp_path / "child.log").open("w") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.durable_child", store_url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        acked: list[str] = []
        assert child.stdout is not None
        try:
            while len(acked) < ACKS:
                line = child.stdout.readline()
                assert line, f"the child died early; see {log.name}"
                acked.append(line.split()[1])
        finally:
            os.kill(child.pid, signal.SIGKILL)  # at once: mid-way through its next write
            child.wait()
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    reopened = open_store(store_url)  # a new process would start exactly like this
    try:
        after = Service(reopened)
        for order_id in acked:
            order = after.get_order(order_id)
            assert [(r.reviewer, r.decision.value) for r in order.reviews] == [("o1", "approve")]
            assert order.state is OrderState.PENDING  # one of two officers
        all_orders = after.list_orders(limit=500)[0]
        assert {o.id for o in all_orders} >= set(acked)
        assert len(all_orders) <= ACKS + 1  # at most the one it was writing when killed
        assert_log_consistent(after)
    finally:
        reopened.close()
