"""End-to-end flows through the Python client against a real server process."""

from __future__ import annotations

import re
import socket
import time

import httpx
import pytest

from cosignatory.client import ApiError, Client, TransportFailure
from cosignatory.core.errors import ErrorCode
from tests.api.serverproc import FIELD_COMMAND, Deployment, ServerProcess, prepare_database

pytestmark = pytest.mark.slow

MOVE = {"unit": "3rd-battalion", "destination": "hill-412"}
DETAIN = {"person": "pvt-song", "reason": "desertion"}


def test_propose_confirm_execute_record(deployment: Deployment) -> None:
    kim, pak = deployment.client("kim"), deployment.client("pak")
    order = kim.propose("move", MOVE, justification="reinforce the flank")
    assert order.state == "pending"
    assert order.proposer == "kim"
    assert [(s.role, s.count, s.filled_by) for s in order.seats] == [("political_officer", 1, [])]
    assert sorted(order.seats[0].eligible) == ["han", "pak"]
    assert [(m.role, m.count) for m in order.missing] == [("political_officer", 1)]
    assert order.matched_rules == ["political-confirmation"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", order.digest)

    approved = pak.approve(order.id, comment="confirmed")
    assert approved.state == "approved"
    assert approved.seats[0].filled_by == ["pak"]
    assert approved.missing == []
    assert [(r.reviewer, r.decision, r.seat) for r in approved.reviews] == [
        ("pak", "approve", "political_officer")
    ]

    claimed = kim.execute(order.id)
    assert claimed.order.state == "executing"
    assert len(claimed.ticket) >= 22  # ≥ 128 bits, url-safe

    with pytest.raises(ApiError) as again:
        pak.execute(order.id)
    assert (again.value.status, again.value.code) == (409, ErrorCode.ALREADY_EXECUTED)

    done = kim.record_result(order.id, ticket=claimed.ticket, outcome="succeeded", detail="moved")
    assert (done.state, done.outcome, done.outcome_detail) == ("executed", "succeeded", "moved")
    assert kim.get_order(order.id) == done


def test_veto_rejects_and_closes_the_order(deployment: Deployment) -> None:
    order = deployment.client("kim").propose("detain", DETAIN, justification="test")
    after_ri = deployment.client("ri").approve(order.id)
    assert after_ri.state == "pending"
    assert [m.role for m in after_ri.missing] == ["political_officer"]
    vetoed = deployment.client("pak").deny(order.id, comment="no evidence")
    assert vetoed.state == "rejected"
    assert any("pak" in reason for reason in vetoed.reasons)
    with pytest.raises(ApiError) as late:
        deployment.client("han").approve(order.id)
    assert (late.value.status, late.value.problem_code) == (409, "order_closed")
    with pytest.raises(ApiError) as twice:
        deployment.client("ri").approve(order.id)
    assert twice.value.code in (ErrorCode.ORDER_CLOSED, ErrorCode.ALREADY_REVIEWED)


def test_refusals_carry_their_codes(deployment: Deployment) -> None:
    kim = deployment.client("kim")
    cases = [
        (lambda: kim.propose("launch", {}), 422, ErrorCode.UNKNOWN_ACTION),
        (
            lambda: kim.propose("move", {"unit": "a b", "destination": "x"}),
            422,
            ErrorCode.INVALID_PARAMS,
        ),
        (lambda: deployment.client("ri").propose("move", MOVE), 403, ErrorCode.NOT_PROPOSER),
        (lambda: kim.get_order("ord_00000000000000000000000000"), 404, ErrorCode.NOT_FOUND),
        (lambda: kim.list_orders(cursor="not-a-cursor"), 422, ErrorCode.INVALID_INPUT),
        (lambda: kim.publish_policy("cosignatory: 1\n"), 403, ErrorCode.FORBIDDEN),
    ]
    for call, status, code in cases:
        with pytest.raises(ApiError) as refused:
            call()
        assert (refused.value.status, refused.value.code) == (status, code), refused.value
        assert refused.value.detail


def test_listing_pages_filters_and_awaiting_me(deployment: Deployment) -> None:
    kim, ri = deployment.client("kim"), deployment.client("ri")
    mine = {kim.propose("detain", {**DETAIN, "person": f"pvt-{i}"}).id for i in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        page = kim.list_orders(action="detain", limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen += [o.id for o in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)), "a page repeated an order"
    assert mine <= set(seen)
    assert seen == sorted(seen, reverse=True), "newest first"
    assert {o.id for o in kim.iter_orders(action="detain", page_size=3)} == set(seen)

    awaiting = {o.id for o in ri.iter_orders(awaiting_me=True)}
    assert mine <= awaiting
    reviewed = next(iter(mine))
    ri.approve(reviewed)
    assert reviewed not in {o.id for o in ri.iter_orders(awaiting_me=True)}
    assert not mine & {o.id for o in deployment.client("choe").iter_orders(awaiting_me=True)}
    assert all(o.state == "pending" for o in kim.list_orders(state="pending", limit=50).items)


def test_policy_read_and_publish(deployment: Deployment) -> None:
    admin, kim = deployment.client("admin"), deployment.client("kim")
    current = kim.get_policy()
    assert current.name == "field-command"
    assert current.yaml == FIELD_COMMAND.read_text()
    same = admin.publish_policy(current.yaml)
    assert same.version == current.version, "republishing the same text is a no-op"
    with pytest.raises(ApiError) as invalid:
        admin.publish_policy("cosignatory: 1\nname: broken\n")
    assert (invalid.value.status, invalid.value.code) == (422, ErrorCode.POLICY_INVALID)
    issues = invalid.value.body["issues"]
    assert issues and all(re.match(r"policy\.yaml:\d+:\d+: ", i) for i in issues)
    assert kim.get_policy().version == current.version


def test_health_and_metrics(deployment: Deployment) -> None:
    kim = deployment.client("kim")
    assert kim.health().database == "ok"
    order = kim.propose("move", MOVE)
    deployment.client("pak").approve(order.id)
    text = httpx.get(f"{deployment.url}/metrics").text
    assert re.search(r'^cosignatory_reviews_total\{decision="approve"\} [1-9]', text, re.M)
    assert re.search(r'^cosignatory_decisions_total\{state="approved"\} [1-9]', text, re.M)
    assert re.search(r'^cosignatory_orders\{state="approved"\} [1-9]', text, re.M)
    # SQLite group commit: writes, and the transactions (fsyncs) they shared.
    writes = re.search(r"^cosignatory_store_writes_total ([0-9.]+)$", text, re.M)
    commits = re.search(r"^cosignatory_store_write_transactions_total ([0-9.]+)$", text, re.M)
    assert writes and commits, text
    assert float(writes[1]) >= float(commits[1]) >= 2  # at least the proposal and the review
    assert re.search(
        r'^cosignatory_http_request_duration_seconds_count\{method="POST",'
        r'route="/v1/orders/\{order_id\}/reviews",status="201"\} [1-9]',
        text,
        re.M,
    )
    assert order.id not in text, "metrics are labelled by route template, never by raw path"


def test_unreachable_server_is_a_transport_failure() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        Client(f"http://127.0.0.1:{port}", "tok_x.y", timeout=2) as client,
        pytest.raises(TransportFailure, match="cannot reach"),
    ):
        client.health()


def test_background_sweep_expires_overdue_orders(tmp_path: pytest.TempPathFactory) -> None:
    """With a 1 s ttl and a fast sweep, the server itself writes the expiry, once."""
    db_url = f"sqlite:///{tmp_path}/sweep.db"
    text = FIELD_COMMAND.read_text().replace("ttl: 24h", "ttl: 1s")
    service, tokens = prepare_database(db_url, policy_text=text)
    server = ServerProcess(
        db_url=db_url, log_path=tmp_path / "server.log", extra_args=("--sweep-interval", "0.2")
    ).start()
    try:
        with Client(server.url, tokens["kim"]) as kim:
            order = kim.propose("move", MOVE)
        deadline = time.monotonic() + 15
        expired_events: list[object] = []
        while time.monotonic() < deadline:
            expired_events = [
                e for e in service.events(order_id=order.id) if e.kind == "order:expired"
            ]
            if expired_events:
                break
            time.sleep(0.1)
        assert len(expired_events) == 1
        metrics = httpx.get(f"{server.url}/metrics").text
        assert re.search(r"^cosignatory_expired_total [1-9]", metrics, re.M)
        assert re.search(r'^cosignatory_orders\{state="expired"\} 1\.0$', metrics, re.M)
    finally:
        server.stop()
        service.store.close()
