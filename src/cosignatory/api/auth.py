"""Who is calling: bearer tokens resolved by the service, one person per token.

A token is looked up by the service (stored hashed, compared in constant time); this
module only extracts it from the `Authorization` header and never logs or echoes it.
Missing, malformed, unknown, expired and revoked tokens all get the same 401
`unauthenticated`, so a caller cannot probe which tokens once existed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cosignatory.core.errors import DomainError, ErrorCode

if TYPE_CHECKING:
    from cosignatory.service import Principal, Service

__all__ = ["AdminPrincipal", "CallerPrincipal", "ServiceDep", "bearer_scheme", "get_service"]

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A token from `cosignatory token create PERSON`; it acts as that person.",
)


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _unauthenticated() -> DomainError:
    return DomainError(
        "send `Authorization: Bearer <token>` with a token from `cosignatory token create`",
        code=ErrorCode.UNAUTHENTICATED,
    )


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise _unauthenticated()
    return get_service(request).authenticate(credentials.credentials)


def admin_principal(
    principal: Annotated[Principal, Depends(current_principal)],
) -> Principal:
    if not principal.is_admin:
        raise DomainError(
            f"`{principal.person}` is not an administrator; this needs a token created "
            "with `cosignatory token create PERSON --admin`",
            code=ErrorCode.FORBIDDEN,
        )
    return principal


ServiceDep = Annotated["Service", Depends(get_service)]
CallerPrincipal = Annotated["Principal", Depends(current_principal)]
AdminPrincipal = Annotated["Principal", Depends(admin_principal)]
