"""Races between separate processes, on every database (see `worker.py` for the protocol).

Threads share one engine and one interpreter; these racers share nothing but the
database, as several API nodes or CLI invocations would.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Iterator
from multiprocessing.context import BaseContext
from typing import Any

import pytest

from cosignatory.core.lifecycle import OrderState
from cosignatory.service import Service
from tests.contract.policies import OFFICERS, SQUAD
from tests.contract.support import approve, approved_launch, assert_log_consistent, kinds, launch
from tests.integration import worker

pytestmark = pytest.mark.slow

POOL = 16


class Worker:
    """One racer process and the pipe to it."""

    def __init__(self, ctx: BaseContext) -> None:
        self.pipe, child_end = ctx.Pipe()
        self.proc = ctx.Process(target=worker.serve, args=(child_end,), daemon=True)
        self.proc.start()
        child_end.close()

    def send(self, command: dict[str, Any]) -> None:
        self.pipe.send(command)

    def receive(self) -> dict[str, Any]:
        if not self.pipe.poll(60):
            raise RuntimeError(f"worker {self.proc.pid} did not answer within 60 s")
        answer: dict[str, Any] = self.pipe.recv()
        return answer


@pytest.fixture(scope="module")
def workers() -> Iterator[list[Worker]]:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.integration.worker"])
    pool = [Worker(ctx) for _ in range(POOL)]
    yield pool
    for w in pool:
        w.send({"op": "quit"})
    for w in pool:
        w.proc.join(timeout=10)
        if w.proc.is_alive():
            w.proc.kill()
            w.proc.join()
        w.proc.close()
        w.pipe.close()


def race(
    workers: list[Worker], url: str, calls: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Prepare one call per worker, wait until all are connected, then start them together."""
    chosen = workers[: len(calls)]
    for racer, (call, args) in zip(chosen, calls, strict=True):
        racer.send({"op": "prepare", "url": url, "call": call, "args": args})
    assert all(w.receive() == {"ready": True} for w in chosen)
    for racer in chosen:
        racer.send({"op": "go"})
    return [w.receive() for w in chosen]


def test_sixteen_processes_claim_once(
    workers: list[Worker], store_url: str, service: Service
) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = approved_launch(service)
    results = race(workers, store_url, [("claim", {"order_id": order.id, "by": "cmd"})] * POOL)
    assert sum(r["ok"] for r in results) == 1
    assert Counter(r.get("code") for r in results if not r["ok"]) == {"already_executed": POOL - 1}
    assert kinds(service, order.id).count("order:claimed") == 1
    assert service.get_order(order.id).state is OrderState.EXECUTING
    assert_log_consistent(service)


def test_processes_racing_final_approvals(
    workers: list[Worker], store_url: str, service: Service
) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = approve(service, launch(service).id, "o1")
    calls = [("review", {"order_id": order.id, "reviewer": o, "decision": "approve"})
             for o in OFFICERS[1:9]]  # fmt: skip
    results = race(workers, store_url, calls)
    assert sum(r["ok"] for r in results) == 1
    assert {r["code"] for r in results if not r["ok"]} == {"order_closed"}
    assert kinds(service, order.id).count("order:approved") == 1
    assert_log_consistent(service)


def test_process_veto_racing_last_approval(
    workers: list[Worker], store_url: str, service: Service
) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    for _ in range(3):
        order = approve(service, launch(service).id, "o1")
        results = race(workers, store_url, [
            ("review", {"order_id": order.id, "reviewer": "o2", "decision": "approve"}),
            ("review", {"order_id": order.id, "reviewer": "insp", "decision": "deny"}),
        ])  # fmt: skip
        assert sum(r["ok"] for r in results) == 1
        state = service.get_order(order.id).state
        log = kinds(service, order.id)
        winner = "order:approved" if state is OrderState.APPROVED else "order:rejected"
        assert state in (OrderState.APPROVED, OrderState.REJECTED)
        assert log.count(winner) == 1
        assert {"order:approved", "order:rejected"} - {winner} & set(log) == set()
    assert_log_consistent(service)


def test_eight_reviewer_processes_lose_no_review(
    workers: list[Worker], store_url: str, service: Service
) -> None:
    service.publish_policy(yaml_text=SQUAD, by="admin")
    order = service.propose(action="mass", params={}, proposer="cmd")
    calls = [("review", {"order_id": order.id, "reviewer": o, "decision": "approve"})
             for o in OFFICERS[:8]]  # fmt: skip
    results = race(workers, store_url, calls)
    assert all(r["ok"] for r in results), results
    view = service.get_order(order.id)
    assert sorted(r.reviewer for r in view.reviews) == sorted(OFFICERS[:8])
    assert kinds(service, order.id).count("order:reviewed") == 8
    assert_log_consistent(service)
