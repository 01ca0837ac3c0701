"""RFC 9457 problem details: the one place that turns errors into HTTP responses.

Every error leaves the API as `application/problem+json` with `type`, `title`,
`status`, `detail` and our stable `code`. Domain errors map by their `ErrorCode`;
request validation errors become 422 `invalid_input`; framework errors (unknown
route, wrong method) keep their status; anything unexpected is a bare 500 `internal`
whose detail never carries the exception text or a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from cosignatory.core.errors import CosignatoryError, ErrorCode, PolicyError

__all__ = [
    "EXTRA_CODES",
    "PAYLOAD_TOO_LARGE",
    "PROBLEM_MEDIA_TYPE",
    "install_problem_handlers",
    "problem_response",
    "status_for",
    "type_uri",
]

log = logging.getLogger("cosignatory.api")

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
_TYPE_PREFIX: Final = "urn:cosignatory:problem:"

# Codes that only the HTTP edge produces (no domain error carries them).
INTERNAL: Final = "internal"
METHOD_NOT_ALLOWED: Final = "method_not_allowed"
PAYLOAD_TOO_LARGE: Final = "payload_too_large"
UNAVAILABLE: Final = "unavailable"
EXTRA_CODES: Final = frozenset({INTERNAL, METHOD_NOT_ALLOWED, PAYLOAD_TOO_LARGE, UNAVAILABLE})

_STATUS: Final[Mapping[ErrorCode, int]] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_ELIGIBLE: 403,
    ErrorCode.SELF_APPROVAL: 403,
    ErrorCode.NOT_PROPOSER: 403,
    ErrorCode.NO_RULE: 403,
    ErrorCode.INVALID_TICKET: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.ALREADY_REVIEWED: 409,
    ErrorCode.ORDER_CLOSED: 409,
    ErrorCode.NOT_APPROVED: 409,
    ErrorCode.ALREADY_EXECUTED: 409,
    ErrorCode.NO_POLICY: 409,
    ErrorCode.CONFLICT: 409,
    ErrorCode.UNKNOWN_ACTION: 422,
    ErrorCode.INVALID_PARAMS: 422,
    ErrorCode.CONDITION_ERROR: 422,
    ErrorCode.POLICY_INVALID: 422,
    ErrorCode.INVALID_INPUT: 422,
}

_TITLE: Final[Mapping[str, str]] = {
    ErrorCode.UNAUTHENTICATED: "missing, unknown, expired or revoked bearer token",
    ErrorCode.FORBIDDEN: "not allowed for this person",
    ErrorCode.NOT_ELIGIBLE: "not eligible to review this order",
    ErrorCode.SELF_APPROVAL: "the proposer may not approve their own order",
    ErrorCode.NOT_PROPOSER: "not allowed to propose this action",
    ErrorCode.NO_RULE: "no rule authorizes this order",
    ErrorCode.INVALID_TICKET: "invalid ticket",
    ErrorCode.NOT_FOUND: "not found",
    ErrorCode.ALREADY_REVIEWED: "already reviewed",
    ErrorCode.ORDER_CLOSED: "order closed",
    ErrorCode.NOT_APPROVED: "order not approved",
    ErrorCode.ALREADY_EXECUTED: "already executed",
    ErrorCode.NO_POLICY: "no policy published",
    ErrorCode.CONFLICT: "conflict",
    ErrorCode.UNKNOWN_ACTION: "unknown action",
    ErrorCode.INVALID_PARAMS: "invalid parameters",
    ErrorCode.CONDITION_ERROR: "a rule condition failed to evaluate",
    ErrorCode.POLICY_INVALID: "invalid policy",
    ErrorCode.INVALID_INPUT: "invalid input",
    INTERNAL: "internal error",
    METHOD_NOT_ALLOWED: "method not allowed",
    PAYLOAD_TOO_LARGE: "request body too large",
    UNAVAILABLE: "service unavailable",
}


def status_for(code: ErrorCode) -> int:
    """The HTTP status of a domain error code (one code, one status)."""
    return _STATUS[code]


def type_uri(code: str) -> str:
    return _TYPE_PREFIX + code


def problem_response(
    *,
    status: int,
    code: str,
    detail: str,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_uri(code),
        "title": _TITLE.get(code) or HTTPStatus(status).phrase.lower(),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


async def _domain_error(_request: Request, exc: Exception) -> Response:
    if not isinstance(exc, CosignatoryError):  # pragma: no cover - registered for this type only
        raise TypeError(type(exc).__name__)
    extra: dict[str, Any] = {}
    if isinstance(exc, PolicyError):
        extra["issues"] = [str(issue) for issue in exc.issues]
    headers = {"WWW-Authenticate": "Bearer"} if exc.code is ErrorCode.UNAUTHENTICATED else None
    return problem_response(
        status=status_for(exc.code),
        code=exc.code.value,
        detail=exc.message,
        extra=extra,
        headers=headers,
    )


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


async def _validation_error(_request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise TypeError(type(exc).__name__)
    errors = [
        {"loc": _location(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
        for e in exc.errors()
    ]
    detail = "; ".join(f"`{e['loc']}`: {e['message'].lower()}" for e in errors[:5])
    return problem_response(
        status=422,
        code=ErrorCode.INVALID_INPUT.value,
        detail=detail or "the request is malformed",
        extra={"errors": errors},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        raise TypeError(type(exc).__name__)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else ""
    if status == 404:
        code = ErrorCode.NOT_FOUND.value
        detail = f"no such path `{request.url.path}`; the API is described at /docs"
    elif status == 405:
        code = METHOD_NOT_ALLOWED
        detail = f"`{request.method}` is not allowed on `{request.url.path}`; see /docs"
    elif status == 413:
        code = PAYLOAD_TOO_LARGE
    elif status == 401:
        code = ErrorCode.UNAUTHENTICATED.value
    elif status == 403:
        code = ErrorCode.FORBIDDEN.value
    elif status == 400:
        # FastAPI's "error parsing the body" (bytes that are not UTF-8 JSON): one status
        # for every malformed request, as for validation errors.
        status, code = 422, ErrorCode.INVALID_INPUT.value
        detail = "the request body is not valid JSON; send UTF-8 encoded JSON"
    elif 400 <= status < 500:
        code = ErrorCode.INVALID_INPUT.value
    else:
        code = INTERNAL
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = f"http {status}"
    return problem_response(status=status, code=code, detail=detail or phrase, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Logged server-side with its traceback; the client learns nothing about internals.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        status=500, code=INTERNAL, detail="an internal error occurred; it has been logged"
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CosignatoryError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
