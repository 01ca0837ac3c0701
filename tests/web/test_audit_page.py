"""The audit page over the service's real audit log (stored tree, signed checkpoints)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import text as sql

from cosignatory.api.app import ApiSettings, create_app
from cosignatory.core.audit import key_from_seed
from cosignatory.service import ReviewDecision, Service
from cosignatory.web import WebSettings, create_web_router
from tests.web.conftest import TestClient, sign_in
from tests.web.test_pages import Browser, text

MOVE = {"unit": "alpha-1", "destination": "hill 204"}
ORIGIN = "test.example/cosignatory"
SIGNER, VERIFIER = key_from_seed(ORIGIN, bytes(range(32)))


@pytest.fixture
def audit_client(service: Service, tokens: dict[str, str]) -> Iterator[TestClient]:
    service.audit = service.audit.with_signer(SIGNER)
    router = create_web_router(WebSettings(secret_key=b"k" * 32))
    app: FastAPI = create_app(service, ApiSettings(sweep_interval=0), routers=[router])
    with TestClient(app, base_url="http://testserver") as client:
        yield sign_in(client, tokens["pak"])


def approved_move(service: Service) -> str:
    order = service.propose(action="move", params=MOVE, proposer="kim")
    service.review(order_id=order.id, reviewer="pak", decision=ReviewDecision.APPROVE)
    service.audit.sign()
    return order.id


def test_without_an_audit_log_the_page_says_so(browser_as: Browser) -> None:
    page = browser_as("pak").get("/audit")  # no key, no checkpoint signed
    assert page.status_code == 200
    assert "The audit log is not available on this server." in text(page.text)


def test_the_checkpoint_and_entries_are_listed_and_filtered(
    audit_client: TestClient, service: Service
) -> None:
    approved_move(service)
    page = text(audit_client.get("/audit").text)
    assert f"Log {ORIGIN}" in page
    assert f"Signature valid, by {ORIGIN} (checked by the server)" in page
    assert "order:approved" in page and "policy:published" in page
    entry_kinds = r"<td><code>([a-z]+:[a-z_]+)</code></td>"
    filtered = audit_client.get("/audit", params={"kind": "order"}).text
    assert set(re.findall(entry_kinds, filtered)) == {
        "order:proposed",
        "order:reviewed",
        "order:approved",
    }
    by_actor = audit_client.get("/audit", params={"actor": "kim"}).text
    assert set(re.findall(entry_kinds, by_actor)) == {"order:proposed"}


def test_an_orders_entries_are_proven_against_the_checkpoint(
    audit_client: TestClient, service: Service
) -> None:
    order_id = approved_move(service)
    page = audit_client.get("/audit", params={"order": order_id}).text
    assert page.count("Verified by the server") == 3
    assert len(re.findall(r'data-audit-entry="[A-Za-z0-9+/=]+"', page)) == 3
    assert f'data-audit-key="{VERIFIER}"' in page


def test_entries_after_the_checkpoint_wait_for_the_next_one(
    audit_client: TestClient, service: Service
) -> None:
    service.audit.sign()
    order = service.propose(action="move", params=MOVE, proposer="kim")
    page = text(audit_client.get("/audit", params={"order": order.id}).text)
    assert "is in the latest checkpoint yet; it is covered from the next one on" in page


def test_an_entry_altered_in_the_database_fails_its_proof(
    audit_client: TestClient, service: Service
) -> None:
    order_id = approved_move(service)
    proposed = service.get_order(order_id).event_seqs[0]
    with service.store.begin_write() as conn:  # what someone with database access might do
        conn.execute(
            sql(
                "UPDATE events SET payload = replace(payload, 'hill 204', 'hill 205') WHERE seq = :s"
            ),
            {"s": proposed},
        )
    page = text(audit_client.get("/audit", params={"order": order_id}).text)
    assert page.count("NOT verified by the server") == 1
    assert "does not lead to the root" in page


def test_verifying_an_unknown_order_is_a_not_found_page(audit_client: TestClient) -> None:
    response = audit_client.get("/audit", params={"order": "ord_nope"})
    assert response.status_code == 404
    assert "No order ord_nope." in text(response.text)
