"""Operations endpoints: `/healthz` (the database answers) and `/metrics` (Prometheus).

Both are unauthenticated, like most load-balancer and scraper targets; neither reveals
anything about individual orders. Bind the server to loopback or a private network.
"""

from __future__ import annotations

import logging

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from cosignatory.api.metrics import ApiMetrics
from cosignatory.api.problems import UNAVAILABLE, problem_response
from cosignatory.api.responses import problems
from cosignatory.api.schemas import Health

__all__ = ["router"]

log = logging.getLogger("cosignatory.api")

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    response_model=Health,
    responses=problems(503),
    summary="Liveness and database check",
)
def healthz(request: Request) -> JSONResponse:
    try:
        request.app.state.ping_database()
    except Exception:  # any failure to reach the database means "not healthy"
        log.exception("health check: the database does not answer")
        return problem_response(
            status=503, code=UNAVAILABLE, detail="the database does not answer; see the server log"
        )
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}
    },
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    registry: ApiMetrics = request.app.state.metrics
    body = await anyio.to_thread.run_sync(registry.render)  # the orders gauge reads the database
    return Response(body, media_type=CONTENT_TYPE_LATEST)
