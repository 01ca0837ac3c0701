"""Who is calling: bearer tokens resolved by the service, one person per token.

A token is looked up by the service (stored hashed, compared in constant time); this
module only extracts it from the `Authorization` header and never logs or echoes it.
Missing, malformed, unknown, expired and revoked tokens all get 401 `unauthenticated`
(with `WWW-Authenticate: Bearer`).

Routes take the `Request` (handed over by FastAPI, not solved) and call `caller_of`
(or `admin_of`) as their first step, in the thread pool where they run anyway: one
thread hop per request. They declare the scheme with `openapi_extra=SECURED`, which
documents it in the OpenAPI schema exactly as a security dependency would (the
`HTTPBearer` component comes from `BEARER_SCHEME`). No dependency does this work:
FastAPI solves every dependency of every request anew, and the token dependency cost
50-80 µs a request, a sixth of reading an order; `ServiceDep` likewise cost 10-50 µs.
So the token is checked after FastAPI validated the request: a malformed request gets
its 422 with or without a token (nothing runs for it either way).
"""

from __future__ import annotations

from typing import Any, Final, NewType

from fastapi import Request
from fastapi.security.utils import get_authorization_scheme_param

from cosignatory.core.errors import DomainError, ErrorCode
from cosignatory.service import Principal, Service

__all__ = [
    "BEARER_SCHEME",
    "BEARER_SCHEME_NAME",
    "SECURED",
    "UnverifiedToken",
    "admin_of",
    "bearer_token",
    "caller_of",
    "service_of",
]

UnverifiedToken = NewType("UnverifiedToken", str)

BEARER_SCHEME_NAME: Final = "HTTPBearer"
BEARER_SCHEME: Final[dict[str, Any]] = {
    "type": "http",
    "scheme": "bearer",
    "description": "A token from `cosignatory token create PERSON`; it acts as that person.",
}
# `openapi_extra` of every route that calls `caller_of` / `admin_of`.
SECURED: Final[dict[str, Any]] = {"security": [{BEARER_SCHEME_NAME: []}]}


def bearer_token(request: Request) -> UnverifiedToken:
    """The token of `Authorization: Bearer <token>`, not yet verified."""
    scheme, credentials = get_authorization_scheme_param(request.headers.get("Authorization"))
    if scheme.lower() != "bearer" or not credentials:
        raise DomainError(
            "send `Authorization: Bearer <token>` with a token from `cosignatory token create`",
            code=ErrorCode.UNAUTHENTICATED,
        )
    return UnverifiedToken(credentials)


def service_of(request: Request) -> Service:
    """The app's `Service` (what `create_app` was given)."""
    service: Service = request.app.state.service
    return service


def caller_of(request: Request) -> Principal:
    """The person the request's token acts as (blocking: from the endpoint's thread)."""
    return service_of(request).authenticate(bearer_token(request))


def admin_of(request: Request) -> Principal:
    """`caller_of`, refused with 403 unless the token is an administrator's."""
    principal = caller_of(request)
    if not principal.is_admin:
        raise DomainError(
            f"`{principal.person}` is not an administrator; this needs a token created "
            "with `cosignatory token create PERSON --admin`",
            code=ErrorCode.FORBIDDEN,
        )
    return principal
