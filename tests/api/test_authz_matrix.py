"""The authorization matrix: every endpoint × every kind of caller, exact status and code.

Callers, on a `detain` order (seats: political_officer, military_police; vetoers: the
political officers) proposed by `kim`:

    none        no Authorization header
    bad         a token that was never issued
    revoked     a token of `kim` that an admin revoked
    proposer    kim (commander)
    eligible    ri (military police: may fill a seat, may not veto)
    ineligible  choe (personnel: no seat, no veto)
    vetoer      pak (political officer: fills a seat, may veto)
    admin       an administrator token (`admin`, not in the policy's roster)

`execute` needs an approved order and `result` an executing one; each case gets a fresh
order in the right state, so no case depends on another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from cosignatory.core.audit import key_from_seed
from cosignatory.service.audit import AuditLog
from tests.api.serverproc import ADMIN, REVOKED, Deployment

CALLERS = {
    "none": None,
    "bad": "tok_01J00000000000000000000000.not-a-real-secret",
    "revoked": REVOKED,
    "proposer": "kim",
    "eligible": "ri",
    "ineligible": "choe",
    "vetoer": "pak",
    "admin": ADMIN,
}

UNAUTH = (401, "unauthenticated")
NOT_PROPOSER = (403, "not_proposer")
FORBIDDEN = (403, "forbidden")
NOT_ELIGIBLE = (403, "not_eligible")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: dict[str, Any] | None = None


Setup = Callable[[Deployment], Request]


def propose(_d: Deployment) -> Request:
    body = {"action": "detain", "params": {"person": "pvt-song", "reason": "desertion"}}
    return Request("POST", "/v1/orders", {**body, "justification": "matrix"})


def list_orders(_d: Deployment) -> Request:
    return Request("GET", "/v1/orders?limit=5")


def awaiting_me(_d: Deployment) -> Request:
    return Request("GET", "/v1/orders?awaiting=me&limit=5")


def show(d: Deployment) -> Request:
    return Request("GET", f"/v1/orders/{d.pending().id}")


def approve(d: Deployment) -> Request:
    path = f"/v1/orders/{d.pending().id}/reviews"
    return Request("POST", path, {"decision": "approve", "comment": "matrix"})


def deny(d: Deployment) -> Request:
    path = f"/v1/orders/{d.pending().id}/reviews"
    return Request("POST", path, {"decision": "deny", "comment": "matrix"})


def cancel(d: Deployment) -> Request:
    return Request("POST", f"/v1/orders/{d.pending().id}/cancel", {"reason": "matrix"})


def execute(d: Deployment) -> Request:
    return Request("POST", f"/v1/orders/{d.approved().id}/execute", {})


def result(d: Deployment) -> Request:
    order, ticket = d.executing()
    body = {"ticket": ticket, "outcome": "succeeded", "detail": "matrix"}
    return Request("POST", f"/v1/orders/{order.id}/result", body)


def get_policy(_d: Deployment) -> Request:
    return Request("GET", "/v1/policy")


def put_policy(d: Deployment) -> Request:
    # The text in force, republished: a valid request whose effect is a no-op.
    return Request("PUT", "/v1/policy", {"yaml": d.service.current_policy().yaml_text})


def healthz(_d: Deployment) -> Request:
    return Request("GET", "/healthz")


def metrics(_d: Deployment) -> Request:
    return Request("GET", "/metrics")


AUDIT_SIGNER, _ = key_from_seed("matrix.test/audit", bytes(32))


def audit_checkpoint(d: Deployment) -> Request:
    AuditLog(d.service.store, signer=AUDIT_SIGNER).sign()  # public, once there is one
    return Request("GET", "/v1/audit/checkpoint")


def audit_entries(_d: Deployment) -> Request:
    return Request("GET", "/v1/audit/entries?start=0&end=5")


def audit_inclusion(_d: Deployment) -> Request:
    return Request("GET", "/v1/audit/proof/inclusion?index=0&tree_size=2")


def audit_consistency(_d: Deployment) -> Request:
    return Request("GET", "/v1/audit/proof/consistency?first=1&second=2")


def _authenticated(
    ok: tuple[int, str | None], **overrides: tuple[int, str | None]
) -> dict[str, tuple[int, str | None]]:
    """401 for the three bad credentials; `ok` for everyone else unless overridden."""
    table = {"none": UNAUTH, "bad": UNAUTH, "revoked": UNAUTH}
    for caller in ("proposer", "eligible", "ineligible", "vetoer", "admin"):
        table[caller] = overrides.get(caller, ok)
    return table


def _public() -> dict[str, tuple[int, str | None]]:
    return dict.fromkeys(CALLERS, (200, None))


MATRIX: dict[str, tuple[Setup, dict[str, tuple[int, str | None]]]] = {
    "POST /v1/orders": (
        propose,
        _authenticated(
            (201, None),
            eligible=NOT_PROPOSER,
            ineligible=NOT_PROPOSER,
            vetoer=NOT_PROPOSER,
            admin=NOT_PROPOSER,  # an administrator is no commander
        ),
    ),
    "GET /v1/orders": (list_orders, _authenticated((200, None))),
    "GET /v1/orders?awaiting=me": (awaiting_me, _authenticated((200, None))),
    "GET /v1/orders/{id}": (show, _authenticated((200, None))),
    "POST /v1/orders/{id}/reviews approve": (
        approve,
        _authenticated(
            (201, None),
            proposer=(403, "self_approval"),
            ineligible=NOT_ELIGIBLE,
            admin=NOT_ELIGIBLE,  # administrators hold no seat
        ),
    ),
    "POST /v1/orders/{id}/reviews deny": (
        deny,
        _authenticated(
            (201, None),
            proposer=(403, "self_approval"),
            ineligible=NOT_ELIGIBLE,
            admin=NOT_ELIGIBLE,
        ),
    ),
    "POST /v1/orders/{id}/cancel": (
        cancel,
        _authenticated((200, None), eligible=FORBIDDEN, ineligible=FORBIDDEN, vetoer=FORBIDDEN),
    ),
    # Anyone authenticated may claim the single ticket of an approved order (the service
    # records who did); the ticket, not the token, then authorizes the result.
    "POST /v1/orders/{id}/execute": (execute, _authenticated((200, None))),
    "POST /v1/orders/{id}/result": (result, _authenticated((200, None))),
    "GET /v1/policy": (get_policy, _authenticated((200, None))),
    "PUT /v1/policy": (
        put_policy,
        _authenticated(FORBIDDEN, admin=(200, None)),
    ),
    "GET /v1/audit/checkpoint": (audit_checkpoint, _public()),
    "GET /v1/audit/entries": (audit_entries, _authenticated((200, None))),
    "GET /v1/audit/proof/inclusion": (audit_inclusion, _authenticated((200, None))),
    "GET /v1/audit/proof/consistency": (audit_consistency, _authenticated((200, None))),
    "GET /healthz": (healthz, _public()),
    "GET /metrics": (metrics, _public()),
}

CASES = [
    pytest.param(endpoint, caller, id=f"{endpoint} as {caller}")
    for endpoint in MATRIX
    for caller in CALLERS
]


def _headers(d: Deployment, caller: str) -> dict[str, str]:
    key = CALLERS[caller]
    if key is None:
        return {}
    token = d.tokens.get(key, key)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def http(deployment: Deployment) -> httpx.Client:
    with httpx.Client(base_url=deployment.url, timeout=30.0) as client:
        yield client


@pytest.mark.slow
@pytest.mark.parametrize(("endpoint", "caller"), CASES)
def test_authorization_matrix(
    deployment: Deployment, http: httpx.Client, endpoint: str, caller: str
) -> None:
    setup, expected = MATRIX[endpoint]
    request = setup(deployment)
    response = http.request(
        request.method, request.path, json=request.json, headers=_headers(deployment, caller)
    )
    status, code = expected[caller]
    assert response.status_code == status, response.text
    if code is not None:
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == code
        assert problem["status"] == status
        assert problem["type"] == f"urn:cosignatory:problem:{code}"
        assert problem["title"] and problem["detail"]
        if status == 401:
            assert response.headers["www-authenticate"] == "Bearer"
    elif endpoint != "GET /metrics":
        assert response.headers["content-type"] == "application/json"


def test_matrix_covers_every_route(deployment: Deployment, http: httpx.Client) -> None:
    """Every operation in the OpenAPI document appears in the matrix."""
    spec = http.get("/openapi.json").json()
    operations = {
        f"{method.upper()} {path.replace('{order_id}', '{id}')}"
        for path, item in spec["paths"].items()
        for method in item
    }
    covered = {name.split(" approve")[0].split(" deny")[0].split("?")[0] for name in MATRIX}
    assert operations == covered


def test_wrong_ticket_is_refused(deployment: Deployment, http: httpx.Client) -> None:
    order, _ticket = deployment.executing()
    response = http.post(
        f"/v1/orders/{order.id}/result",
        json={"ticket": "not-the-ticket", "outcome": "succeeded"},
        headers=_headers(deployment, "proposer"),
    )
    assert (response.status_code, response.json()["code"]) == (403, "invalid_ticket")
    assert deployment.service.get_order(order.id).state == "executing"


def test_a_token_acts_only_as_its_person(deployment: Deployment, http: httpx.Client) -> None:
    """Nothing in a request can name another person: the reviewer is the token's owner."""
    order = deployment.pending()
    response = http.post(
        f"/v1/orders/{order.id}/reviews",
        json={"decision": "approve", "reviewer": "pak"},
        headers=_headers(deployment, "eligible"),
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_input")
    response = http.post(
        "/v1/orders",
        json={"action": "move", "params": {"unit": "a", "destination": "b"}, "proposer": "kim"},
        headers=_headers(deployment, "vetoer"),
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_input")
    assert deployment.service.get_order(order.id).reviews == ()
