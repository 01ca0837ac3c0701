"""Who is calling: bearer tokens resolved by the service, one person per token.

A token is looked up by the service (stored hashed, compared in constant time); this
module only extracts it from the `Authorization` header and never logs or echoes it.
Missing, malformed, unknown, expired and revoked tokens all get 401 `unauthenticated`
(with `WWW-Authenticate: Bearer`).

The dependencies here are `async` and do no I/O: a missing token is refused on the event
loop, and the endpoint (which runs in the thread pool anyway) verifies the token with
`authenticate` as its first step. One thread hop per request, not three.
"""

from __future__ import annotations

from typing import Annotated, NewType

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cosignatory.core.errors import DomainError, ErrorCode
from cosignatory.service import Principal, Service

__all__ = [
    "BearerToken",
    "ServiceDep",
    "UnverifiedToken",
    "authenticate",
    "authenticate_admin",
    "bearer_scheme",
    "get_service",
]

UnverifiedToken = NewType("UnverifiedToken", str)

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A token from `cosignatory token create PERSON`; it acts as that person.",
)


async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> UnverifiedToken:
    if credentials is None or not credentials.credentials:
        raise DomainError(
            "send `Authorization: Bearer <token>` with a token from `cosignatory token create`",
            code=ErrorCode.UNAUTHENTICATED,
        )
    return UnverifiedToken(credentials.credentials)


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
BearerToken = Annotated[UnverifiedToken, Depends(bearer_token)]
