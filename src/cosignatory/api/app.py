"""The FastAPI application factory.

    app = create_app(service, ApiSettings(sweep_interval=5.0), routers=[web.router])

`create_app` wires one `Service` into the HTTP edge: the routers of `/v1`, the problem
handlers, request metrics, `/healthz`, `/metrics`, and the background expiry sweep
(started and stopped with the app's lifespan). Other frontends (the web inbox) are
plain routers passed in `routers`; they find the service at `request.app.state.service`.
`/` stays free for them; without one, it serves a tiny page pointing at the API docs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from cosignatory import __version__
from cosignatory.api import audit_routes
from cosignatory.api.auth import BEARER_SCHEME, BEARER_SCHEME_NAME
from cosignatory.api.limits import BodySizeLimit
from cosignatory.api.metrics import ApiMetrics, MetricsMiddleware
from cosignatory.api.problems import install_problem_handlers
from cosignatory.api.responses import problem_component_schemas
from cosignatory.api.routes import ops, orders, policy
from cosignatory.api.stats import count_orders_by_state
from cosignatory.api.sweeper import sweep_forever
from cosignatory.core.lifecycle import OrderState
from cosignatory.service import Service

__all__ = ["MAX_BODY_BYTES", "ApiSettings", "create_app"]

MAX_BODY_BYTES = 2_000_000  # a policy may be up to 1 MB of YAML; nothing else comes close

_DESCRIPTION = """\
No order takes effect until its cosignatories confirm it.

Authenticate with `Authorization: Bearer <token>` (`cosignatory token create PERSON`);
a token acts as exactly one person. Errors are RFC 9457 `application/problem+json`
with a stable `code`.
"""

_PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cosignatory</title></head>
<body><h1>cosignatory</h1>
<p>No order takes effect until its cosignatories confirm it.</p>
<p>API: <a href="/docs">/docs</a> · <a href="/openapi.json">/openapi.json</a>
 · <a href="/healthz">/healthz</a></p></body></html>
"""


@dataclass(frozen=True, kw_only=True)
class ApiSettings:
    """How the HTTP edge behaves; `config.py` builds it from flags and the environment."""

    sweep_interval: float = 5.0  # seconds between expiry sweeps; 0 disables the sweeper
    docs: bool = True  # serve /docs and /redoc


def create_app(
    service: Service,
    settings: ApiSettings | None = None,
    *,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    settings = settings or ApiSettings()
    group = service.store.group_commit
    metrics = ApiMetrics(
        count_orders_by_state=functools.partial(count_orders_by_state, service.store),
        states=[s.value for s in OrderState],
        write_counts=(lambda: (group.functions, group.batches)) if group is not None else None,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task: asyncio.Task[None] | None = None
        if settings.sweep_interval > 0:
            task = asyncio.create_task(
                sweep_forever(service.expire_due, metrics, interval=settings.sweep_interval),
                name="cosignatory-expiry-sweeper",
            )
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="cosignatory",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if settings.docs else None,
        redoc_url="/redoc" if settings.docs else None,
        # We export Prometheus metrics ourselves; FastAPI's OpenTelemetry hooks would
        # otherwise configure themselves from the environment (read only in config.py).
        telemetry={
            "tracing": False,
            "metrics": False,
            "logs": False,
            "operation_spans": False,
            "auto_configure": False,
        },
    )
    app.state.service = service
    app.state.metrics = metrics
    app.state.ping_database = service.store.ping
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    app.include_router(orders.router)
    app.include_router(policy.router)
    app.include_router(ops.router)
    app.include_router(audit_routes.router)
    for router in routers:
        app.include_router(router)
    if not any(isinstance(r, APIRoute) and r.path == "/" for r in app.routes):
        app.add_api_route(
            "/", _placeholder, methods=["GET"], include_in_schema=False, response_class=HTMLResponse
        )
    app.openapi = _openapi_with_problems(app)  # type: ignore[method-assign]
    return app


async def _placeholder() -> HTMLResponse:
    return HTMLResponse(_PLACEHOLDER)


def _openapi_with_problems(app: FastAPI) -> Any:
    """FastAPI's schema plus the `Problem` component our problem+json responses refer to."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {}).update(problem_component_schemas())
            # Routes read the token themselves (`auth.caller_of`) and declare the scheme
            # per operation (`auth.SECURED`); the scheme itself is declared here.
            components.setdefault("securitySchemes", {})[BEARER_SCHEME_NAME] = BEARER_SCHEME
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi
