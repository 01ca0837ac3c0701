"""Who is calling: bearer tokens resolved by the service, one person per token.

A token is looked up by the service (stored hashed, compared in constant time); this
module only extracts it from the `Authorization` header and never logs or echoes it.
Missing, malformed, unknown, expired and revoked tokens all get 401 `unauthenticated`
(with `WWW-Authenticate: Bearer`).

The dependencies here are `async` and do no I/O: a missing token is refused on the event
loop, and the endpoint (which runs in the thread pool anyway) verifies the token with
`authenticate` as its first step. One thread hop per request, not three. The header is
read by one dependency that is also the OpenAPI security scheme: FastAPI solves every
dependency of every request anew, and a chain of two cost as much as the read itself.
For the same reason the order routes find the service with `service_of(request)` (a
`Request` parameter is handed over, not solved) rather than the `ServiceDep` dependency,
which cost 10-50 µs a request (one more dependency solved on the event loop).
"""

from __future__ import annotations

from typing import Annotated, NewType

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param

from cosignatory.core.errors import DomainError, ErrorCode
from cosignatory.service import Principal, Service

__all__ = [
    "BearerScheme",
    "BearerToken",
    "ServiceDep",
    "UnverifiedToken",
    "authenticate",
    "authenticate_admin",
    "bearer_scheme",
    "get_service",
    "service_of",
]

UnverifiedToken = NewType("UnverifiedToken", str)


class BearerScheme(SecurityBase):
    """`Authorization: Bearer <token>`, documented as the `HTTPBearer` security scheme."""

    def __init__(self, *, description: str) -> None:
        self.model = HTTPBearerModel(description=description)
        self.scheme_name = "HTTPBearer"

    async def __call__(self, request: Request) -> UnverifiedToken:
        scheme, credentials = get_authorization_scheme_param(request.headers.get("Authorization"))
        if scheme.lower() != "bearer" or not credentials:
            raise DomainError(
                "send `Authorization: Bearer <token>` with a token from `cosignatory token create`",
                code=ErrorCode.UNAUTHENTICATED,
            )
        return UnverifiedToken(credentials)


bearer_scheme = BearerScheme(
    description="A token from `cosignatory token create PERSON`; it acts as that person."
)


def service_of(request: Request) -> Service:
    """The app's `Service` (what `create_app` was given)."""
    service: Service = request.app.state.service
    return service


async def get_service(request: Request) -> Service:
    return service_of(request)


def authenticate(service: Service, token: UnverifiedToken) -> Principal:
    """The person the token acts as (blocking: call it from the endpoint's thread)."""
    return service.authenticate(token)


def authenticate_admin(service: Service, token: UnverifiedToken) -> Principal:
    principal = authenticate(service, token)
    if not principal.is_admin:
        raise DomainError(
            f"`{principal.person}` is not an administrator; this needs a token created "
            "with `cosignatory token create PERSON --admin`",
            code=ErrorCode.FORBIDDEN,
        )
    return principal


ServiceDep = Annotated[Service, Depends(get_service)]
BearerToken = Annotated[UnverifiedToken, Depends(bearer_scheme)]
