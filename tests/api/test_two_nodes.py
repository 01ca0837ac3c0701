"""Two server processes on one PostgreSQL database: no double work, one ticket.

Needs `COSIGNATORY_TEST_PG_URL` (exported by `scripts/with-postgres.sh`); each test
module run gets its own throwaway database on that cluster.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.api.serverproc import (
    FIELD_COMMAND,
    PEOPLE,
    Deployment,
    ServerProcess,
    prepare_database,
)

PG_URL = os.environ.get("COSIGNATORY_TEST_PG_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(
        not PG_URL, reason="COSIGNATORY_TEST_PG_URL is not set (run under scripts/with-postgres.sh)"
    ),
]


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    assert PG_URL is not None
    name = f"cosignatory_api_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def two_nodes(
    pg_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Deployment, Deployment]]:
    root = tmp_path_factory.mktemp("two-nodes")
    service, tokens = prepare_database(pg_database)
    args = ("--sweep-interval", "0.1")
    first = ServerProcess(db_url=pg_database, log_path=root / "a.log", extra_args=args).start()
    second = ServerProcess(db_url=pg_database, log_path=root / "b.log", extra_args=args).start()
    nodes = (
        Deployment(server=first, service=service, tokens=tokens),
        Deployment(server=second, service=service, tokens=tokens),
    )
    try:
        yield nodes
    finally:
        for node in nodes:
            for client in node._clients.values():
                client.close()
        first.stop()
        second.stop()
        service.store.close()


def _race_execute(racers: list[tuple[Deployment, str]], order_id: str) -> list[tuple[int, str]]:
    """Every racer POSTs execute at the same instant; (status, ticket or code) each."""
    barrier = threading.Barrier(len(racers))
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def claim(node: Deployment, person: str) -> None:
        with httpx.Client(base_url=node.url, timeout=30) as http:
            headers = {"Authorization": f"Bearer {node.tokens[person]}"}
            barrier.wait()
            response = http.post(f"/v1/orders/{order_id}/execute", json={}, headers=headers)
        body = response.json()
        with lock:
            outcomes.append((response.status_code, body.get("ticket") or body.get("code")))

    threads = [threading.Thread(target=claim, args=racer) for racer in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_racing_execute_across_nodes_gives_exactly_one_ticket(
    two_nodes: tuple[Deployment, Deployment],
) -> None:
    a, b = two_nodes
    racers = [(node, person) for node in (a, b) for person in PEOPLE]  # 12 claimants, 2 nodes
    for _round in range(5):
        order = a.approved()
        outcomes = _race_execute(racers, order.id)
        statuses = Counter(status for status, _ in outcomes)
        assert statuses == {200: 1, 409: len(racers) - 1}, outcomes
        assert {code for status, code in outcomes if status == 409} == {"already_executed"}
        assert a.service.get_order(order.id).state == "executing"
        kinds = [e.kind for e in a.service.events(order_id=order.id)]
        assert kinds.count("order:claimed") == 1


def test_a_review_on_one_node_is_seen_on_the_other(
    two_nodes: tuple[Deployment, Deployment],
) -> None:
    a, b = two_nodes
    order = a.client("kim").propose("detain", {"person": "pvt-lee", "reason": "theft"})
    b.client("ri").approve(order.id)
    seen = a.client("kim").get_order(order.id)
    assert [r.reviewer for r in seen.reviews] == ["ri"]
    assert order.id in {o.id for o in b.client("pak").iter_orders(awaiting_me=True)}


def test_sweepers_on_both_nodes_expire_each_order_once(
    two_nodes: tuple[Deployment, Deployment], tmp_path: Path
) -> None:
    a, _b = two_nodes
    short = FIELD_COMMAND.read_text().replace("ttl: 24h", "ttl: 1s")
    a.service.publish_policy(yaml_text=short, by="admin", filename="short.yaml")
    try:
        ids = [a.pending("move", unit=f"unit-{i}", destination="hill").id for i in range(10)]
        deadline = time.monotonic() + 20
        expired: Counter[str] = Counter()
        while time.monotonic() < deadline:
            expired = Counter(
                e.subject
                for e in a.service.events(limit=10_000)
                if e.kind == "order:expired" and e.subject in ids
            )
            if len(expired) == len(ids):
                break
            time.sleep(0.2)
        time.sleep(0.5)  # a few more sweeps on both nodes: still nothing twice
        expired = Counter(
            e.subject
            for e in a.service.events(limit=10_000)
            if e.kind == "order:expired" and e.subject in ids
        )
        assert set(expired) == set(ids)
        assert set(expired.values()) == {1}
    finally:
        a.service.publish_policy(
            yaml_text=FIELD_COMMAND.read_text(), by="admin", filename="policy.yaml"
        )
    # The approve racing an expiry is refused cleanly, never a 5xx.
    late = httpx.post(
        f"{a.url}/v1/orders/{ids[0]}/reviews",
        json={"decision": "approve"},
        headers={"Authorization": f"Bearer {a.tokens['pak']}"},
    )
    assert (late.status_code, late.json()["code"]) == (409, "order_closed")
