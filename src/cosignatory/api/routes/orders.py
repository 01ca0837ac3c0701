"""`/v1/orders`: propose, list, show, review, cancel, execute, record the result.

Handlers are thin: authenticate, call one service use case, serialize its view. The
service decides everything (eligibility, state moves); its typed errors become
problem+json in `api.problems`. Responses are built straight from `OrderView.json_bytes`
(the response models document them; FastAPI does not re-validate a returned Response):
a read hands out the same view until the order changes, so it is encoded once.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from cosignatory.api.auth import SECURED, bearer_token, caller_of, service_of
from cosignatory.api.metrics import ApiMetrics
from cosignatory.api.responses import problems
from cosignatory.api.schemas import (
    CancelRequest,
    ExecuteRequest,
    Execution,
    Order,
    OrderPage,
    OrderStateName,
    ProposeRequest,
    ResultRequest,
    ReviewRequest,
)
from cosignatory.core.lifecycle import OrderState
from cosignatory.core.policy import ReviewDecision
from cosignatory.service import OrderView, Outcome

__all__ = ["router"]

router = APIRouter(prefix="/v1/orders", tags=["orders"])

OrderId = Annotated[str, Path(min_length=1, max_length=64, description="An `ord_…` id.")]
_DECIDED = frozenset({OrderState.APPROVED, OrderState.REJECTED})


def _order(view: OrderView, status_code: int = 200) -> Response:
    return Response(view.json_bytes, status_code=status_code, media_type="application/json")


def _metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


@router.post(
    "",
    status_code=201,
    response_model=Order,
    responses=problems(401, 403, 409, 413, 422),
    summary="Propose an order",
    openapi_extra=SECURED,
)
def propose(body: ProposeRequest, request: Request) -> Response:
    caller = caller_of(request)
    view = service_of(request).propose(
        action=body.action,
        params=body.params,
        proposer=caller.person,
        justification=body.justification,
    )
    _metrics(request).proposals.inc()
    return _order(view, status_code=201)


@router.get(
    "",
    response_model=OrderPage,
    responses=problems(401, 422),
    summary="List orders, newest first (cursor-paged)",
    openapi_extra=SECURED,
)
def list_orders(
    *,
    request: Request,
    state: Annotated[OrderStateName | None, Query()] = None,
    proposer: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    awaiting: Annotated[
        Literal["me"] | None,
        Query(description="`me`: orders where you could still fill a seat or veto"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="opaque; from `next_cursor`")
    ] = None,
) -> Response:
    caller = caller_of(request)
    items, next_cursor = service_of(request).list_orders(
        state=OrderState(state) if state is not None else None,
        proposer=proposer,
        action=action,
        awaiting=caller.person if awaiting == "me" else None,
        limit=limit,
        cursor=cursor,
    )
    # The page is spliced from each view's encoded JSON: the same document, composed.
    body = b",".join(v.json_bytes for v in items)
    tail = json.dumps(next_cursor).encode()
    return Response(
        b'{"items":[' + body + b'],"next_cursor":' + tail + b"}", media_type="application/json"
    )


@router.get(
    "/{order_id}",
    response_model=Order,
    responses=problems(401, 404, 422),
    summary="Show an order",
    openapi_extra=SECURED,
)
async def get_order(order_id: OrderId, request: Request) -> Response:
    # Any authenticated person may read any order: token and order in one read.
    service, token = service_of(request), bearer_token(request)
    if service.store.local_reads:
        # A SQLite file: the read (a token and an order by key, ~0.2 ms) runs here on the
        # event loop. In the thread pool, the GIL changed hands at every sqlite3 call
        # (50-60 context switches a request), which halved the rate of this endpoint.
        _caller, view = service.get_order_as(token, order_id)
    else:  # a database across the network: never block the loop on it
        _caller, view = await anyio.to_thread.run_sync(service.get_order_as, token, order_id)
    return _order(view)


@router.post(
    "/{order_id}/reviews",
    status_code=201,
    response_model=Order,
    responses=problems(401, 403, 404, 409, 413, 422),
    summary="Approve or deny an order",
    openapi_extra=SECURED,
)
def review(
    order_id: OrderId,
    body: ReviewRequest,
    request: Request,
) -> Response:
    caller = caller_of(request)
    view = service_of(request).review(
        order_id=order_id,
        reviewer=caller.person,
        decision=ReviewDecision(body.decision.value),
        comment=body.comment,
    )
    metrics = _metrics(request)
    metrics.reviews.labels(body.decision.value).inc()
    if view.state in _DECIDED:  # reviews are accepted only while pending: this one decided it
        metrics.decisions.labels(view.state.value).inc()
    return _order(view, status_code=201)


@router.post(
    "/{order_id}/cancel",
    response_model=Order,
    responses=problems(401, 403, 404, 409, 413, 422),
    summary="Cancel an order (its proposer, or an administrator)",
    openapi_extra=SECURED,
)
def cancel(
    order_id: OrderId,
    request: Request,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> Response:
    caller = caller_of(request)
    view = service_of(request).cancel(
        order_id=order_id,
        by=caller.person,
        reason=body.reason if body is not None else "",
        as_admin=caller.is_admin,
    )
    return _order(view)


@router.post(
    "/{order_id}/execute",
    response_model=Execution,
    responses=problems(401, 403, 404, 409, 413, 422),
    summary="Claim the single-use ticket of an approved order",
    openapi_extra=SECURED,
)
def execute(
    order_id: OrderId,
    request: Request,
    body: Annotated[ExecuteRequest | None, Body()] = None,
) -> JSONResponse:
    del body  # nothing to say: the caller's identity is the whole request
    caller = caller_of(request)
    view, ticket = service_of(request).claim(order_id=order_id, by=caller.person)
    _metrics(request).executions.labels("claimed").inc()
    return JSONResponse({"order": view.to_json(), "ticket": ticket})


@router.post(
    "/{order_id}/result",
    response_model=Order,
    responses=problems(401, 403, 404, 409, 413, 422),
    summary="Record how the execution went (needs the ticket)",
    openapi_extra=SECURED,
)
def record_result(
    order_id: OrderId,
    body: ResultRequest,
    request: Request,
) -> Response:
    caller_of(request)  # the ticket is the authority; a token must still be valid
    view = service_of(request).record_result(
        order_id=order_id,
        ticket=body.ticket,
        outcome=Outcome(body.outcome.value),
        detail=body.detail,
    )
    _metrics(request).executions.labels(body.outcome.value).inc()
    return _order(view)
