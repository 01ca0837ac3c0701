"""The HTTP edge in-process (ASGI transport): problem details, schemas, client errors, CLI params."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from cosignatory.api import ApiSettings, create_app
from cosignatory.api.problems import status_for
from cosignatory.api.schemas import InFlightChoice, OrderStateName, OutcomeChoice, ReviewChoice
from cosignatory.cli.demo import example_params
from cosignatory.cli.params import parse_params
from cosignatory.client import ApiError, Client, ClientError
from cosignatory.core.errors import ErrorCode, InputError
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.policy import OrderInput, ReviewDecision, check_proposal, load_policy
from cosignatory.service import InFlight, Outcome, Service
from tests.api.serverproc import FIELD_COMMAND, prepare_database


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, dict[str, str]]]:
    db = tmp_path_factory.mktemp("edge") / "edge.db"
    service, tokens = prepare_database(f"sqlite:///{db}")
    yield service, tokens
    service.store.close()


async def _chunks() -> Any:
    yield b"["
    yield b" " * 2_000_000
    yield b"]"


def _request(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    if kwargs.get("content") == "chunked":  # a body sent without Content-Length
        kwargs["content"] = _chunks()

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://edge") as http:
            return await http.request(method, path, **kwargs)

    return asyncio.run(go())


def _boom() -> None:
    raise RuntimeError("secret internal detail: password=hunter2")


def test_every_error_code_has_one_status() -> None:
    for code in ErrorCode:
        assert 400 <= status_for(code) < 500, code


def test_api_vocabularies_match_the_service() -> None:
    assert {c.value for c in ReviewChoice} == {d.value for d in ReviewDecision}
    assert {c.value for c in OutcomeChoice} == {o.value for o in Outcome}
    assert {c.value for c in InFlightChoice} == {i.value for i in InFlight}
    assert set(OrderStateName.__args__) == {s.value for s in OrderState}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        pytest.param("GET", "/nowhere", {}, 404, "not_found", id="unknown path"),
        pytest.param("DELETE", "/v1/orders", {}, 405, "method_not_allowed", id="wrong method"),
        pytest.param(
            "POST", "/v1/orders", {"content": b"{not json"}, 422, "invalid_input", id="broken JSON"
        ),
        pytest.param(
            "POST", "/v1/orders", {"content": b"\xff\xfe\x00"}, 422, "invalid_input", id="not UTF-8"
        ),
        pytest.param(
            "POST", "/v1/orders", {"json": {"params": {}}}, 422, "invalid_input", id="missing field"
        ),
        pytest.param(
            "POST",
            "/v1/orders",
            {"json": {"action": "move", "extra": 1}},
            422,
            "invalid_input",
            id="unknown field",
        ),
        pytest.param(
            "GET", "/v1/orders?limit=100000", {}, 422, "invalid_input", id="limit too large"
        ),
        pytest.param(
            "GET", "/v1/orders?awaiting=you", {}, 422, "invalid_input", id="awaiting other than me"
        ),
        pytest.param("GET", "/boom", {}, 500, "internal", id="unexpected exception"),
        pytest.param(
            "POST",
            "/v1/orders",
            {"content": b"[" + b" " * 2_000_000 + b"]"},
            413,
            "payload_too_large",
            id="body too large",
        ),
        pytest.param(
            "POST",
            "/v1/orders",
            {"content": "chunked"},
            413,
            "payload_too_large",
            id="chunked body too large",
        ),
        pytest.param(
            "POST",
            "/v1/orders",
            {
                "content": b'{"action": "move", "params": {"a": '
                + b"[" * 100_000
                + b"]" * 100_000
                + b"}}"
            },
            422,
            "invalid_input",
            id="deeply nested JSON",
        ),
    ],
)
def test_problem_details(
    service: tuple[Service, dict[str, str]],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    svc, tokens = service
    boom = APIRouter()
    boom.add_api_route("/boom", _boom, methods=["GET"])
    app = create_app(svc, ApiSettings(sweep_interval=0), routers=[boom])
    headers = {"Authorization": f"Bearer {tokens['kim']}", "Content-Type": "application/json"}
    response = _request(app, method, path, headers=headers, **kwargs)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {k: problem[k] for k in ("status", "code")} == {"status": status, "code": code}
    assert problem["type"] == f"urn:cosignatory:problem:{code}"
    assert problem["title"] and problem["detail"]
    assert "hunter2" not in response.text and "Traceback" not in response.text


def test_root_is_a_placeholder_until_a_web_router_claims_it(
    service: tuple[Service, dict[str, str]],
) -> None:
    svc, _ = service
    plain = _request(create_app(svc, ApiSettings(sweep_interval=0)), "GET", "/")
    assert plain.status_code == 200 and "/docs" in plain.text
    web = APIRouter()
    web.add_api_route("/", lambda: HTMLResponse("<h1>inbox</h1>"), methods=["GET"])
    claimed = _request(create_app(svc, ApiSettings(sweep_interval=0), routers=[web]), "GET", "/")
    assert claimed.text == "<h1>inbox</h1>"


def test_openapi_documents_problems_and_bearer_auth(
    service: tuple[Service, dict[str, str]],
) -> None:
    spec = _request(
        create_app(service[0], ApiSettings(sweep_interval=0)), "GET", "/openapi.json"
    ).json()
    assert "Problem" in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    review = spec["paths"]["/v1/orders/{order_id}/reviews"]["post"]
    assert set(review["responses"]) == {"201", "401", "403", "404", "409", "413", "422"}
    assert list(review["responses"]["409"]["content"]) == ["application/problem+json"]
    # Routes check the token themselves (`auth.caller_of`): each declares the scheme, and
    # exactly the public operations declare none.
    public = {
        (path, method)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") != [{"HTTPBearer": []}]
    }
    assert public == {("/healthz", "get"), ("/metrics", "get"), ("/v1/audit/checkpoint", "get")}


def _client_for(handler: Any) -> Client:
    return Client("http://mock", "tok_x.y", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("status", "body", "code", "problem_code"),
    [
        pytest.param(
            409,
            {"code": "already_executed", "detail": "twice"},
            ErrorCode.ALREADY_EXECUTED,
            "already_executed",
            id="known code",
        ),
        pytest.param(
            418,
            {"code": "teapot", "detail": "short and stout"},
            ErrorCode.CONFLICT,
            "teapot",
            id="unknown code",
        ),
        pytest.param(
            403,
            {"code": "from_the_future"},
            ErrorCode.FORBIDDEN,
            "from_the_future",
            id="unknown 403",
        ),
        pytest.param(
            502, "<html>bad gateway</html>", ErrorCode.CONFLICT, "internal", id="proxy page"
        ),
    ],
)
def test_client_errors_carry_the_problem_code(
    status: int, body: Any, code: ErrorCode, problem_code: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok_x.y"
        if isinstance(body, dict):
            return httpx.Response(status, json=body)
        return httpx.Response(status, text=body)

    with _client_for(handler) as client, pytest.raises(ApiError) as raised:
        client.get_order("ord_1")
    assert (raised.value.status, raised.value.code, raised.value.problem_code) == (
        status,
        code,
        problem_code,
    )
    assert raised.value.message


def test_client_refuses_ids_that_would_change_the_route() -> None:
    with _client_for(lambda _r: httpx.Response(200, json={})) as client:
        for bad in ("", "../v1/policy", "a/b", "x?y", "%2e%2e"):
            with pytest.raises(ClientError) as raised:
                client.get_order(bad)
            assert raised.value.code is ErrorCode.INVALID_INPUT


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        pytest.param(["unit=3rd-battalion"], {"unit": "3rd-battalion"}, id="text"),
        pytest.param(["amount=1500"], {"amount": 1500}, id="integer"),
        pytest.param(["urgent=true"], {"urgent": True}, id="boolean"),
        pytest.param(['tags=["a","b"]'], {"tags": ["a", "b"]}, id="list"),
        pytest.param(['code="007"'], {"code": "007"}, id="quoted number stays text"),
        pytest.param(["note=a=b"], {"note": "a=b"}, id="value with ="),
        pytest.param(["empty="], {"empty": ""}, id="empty value"),
        pytest.param(["x=NaN"], {"x": "NaN"}, id="NaN is not JSON"),
    ],
)
def test_param_parsing(pairs: list[str], expected: dict[str, Any]) -> None:
    assert parse_params(pairs) == expected
    json.dumps(expected, allow_nan=False)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        pytest.param(["unit"], "is not key=value", id="no ="),
        pytest.param(["=x"], "is not a parameter name", id="empty key"),
        pytest.param(["a=1", "a=2"], "given twice", id="duplicate"),
    ],
)
def test_param_parsing_refusals(pairs: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_params(pairs)


def test_demo_example_params_fit_the_policy() -> None:
    policy = load_policy(FIELD_COMMAND.read_text(), filename="policy.yaml")
    for action in policy.actions.values():
        params, why = example_params(action)
        parsed = parse_params(f"{k}={v}" for k, v in params.items())
        order = OrderInput(action=action.name, params=parsed, proposer="kim", justification=why)
        check_proposal(
            policy, order, __import__("datetime").datetime.now(__import__("datetime").UTC)
        )


def test_order_bodies_are_the_json_of_their_views(
    service: tuple[Service, dict[str, str]],
) -> None:
    """Order responses are spliced from each view's memoized encoding: the same bytes
    JSONResponse would send for `to_json()`, alone and in a page."""
    svc, tokens = service
    app = create_app(svc, ApiSettings(sweep_interval=0))
    kim = {"Authorization": f"Bearer {tokens['kim']}"}
    made = svc.propose(
        action="move",
        params={"unit": "unit-7", "destination": "hill"},
        proposer="kim",
        justification="über «quoted»",
    )
    one = _request(app, "GET", f"/v1/orders/{made.id}", headers=kim)
    assert one.headers["content-type"] == "application/json"
    assert one.content == JSONResponse(svc.get_order(made.id).to_json()).body
    page = _request(app, "GET", "/v1/orders?limit=2", headers=kim)
    items, cursor = svc.list_orders(limit=2)
    expected = {"items": [v.to_json() for v in items], "next_cursor": cursor}
    assert page.content == JSONResponse(expected).body
    assert json.loads(page.content) == expected


@pytest.mark.parametrize("file_backed", [True, False])
def test_an_order_read_runs_on_the_event_loop_only_on_a_sqlite_file(
    service: tuple[Service, dict[str, str]], file_backed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`GET /v1/orders/{id}` reads a SQLite file on the event loop (no thread hop); any
    other store (PostgreSQL across a network, the shared in-memory connection) is read
    from the thread pool, so the loop never waits on it."""
    svc, tokens = service
    made = svc.propose(
        action="move", params={"unit": "u-loop", "destination": "hill"}, proposer="kim"
    )
    monkeypatch.setattr(type(svc.store), "local_reads", property(lambda _store: file_backed))
    on_loop: list[bool] = []
    real = svc.get_order_as

    def spy(secret: str, order_id: str) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return real(secret, order_id)

    monkeypatch.setattr(svc, "get_order_as", spy)
    app = create_app(svc, ApiSettings(sweep_interval=0))
    kim = {"Authorization": f"Bearer {tokens['kim']}"}
    shown = _request(app, "GET", f"/v1/orders/{made.id}", headers=kim)
    assert shown.status_code == 200 and shown.json()["id"] == made.id
    assert on_loop == [file_backed]
    missing = _request(app, "GET", "/v1/orders/ord_nope", headers=kim)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    unauthenticated = _request(app, "GET", f"/v1/orders/{made.id}")
    assert unauthenticated.status_code == 401


def test_local_reads_means_a_sqlite_file(service: tuple[Service, dict[str, str]]) -> None:
    from cosignatory.storage import memory_store

    assert service[0].store.local_reads
    store = memory_store()
    try:
        assert not store.local_reads
    finally:
        store.close()
