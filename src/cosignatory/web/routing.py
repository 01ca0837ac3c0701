"""The route class of every web page: errors become pages, and every response gets headers.

The API's handlers answer in problem+json; a person in a browser gets an HTML page
instead, with a message they can act on and never a stack trace. Unexpected errors are
logged with their traceback and shown as a plain apology.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from cosignatory.core.errors import CosignatoryError, ErrorCode
from cosignatory.web.context import SignInRequired, Web, safe_next
from cosignatory.web.csrf import CsrfRefused

__all__ = ["SECURITY_HEADERS", "error_page", "web_route_class"]

log = logging.getLogger("cosignatory.web")

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

_STATUS: Mapping[ErrorCode, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_ELIGIBLE: 403,
    ErrorCode.SELF_APPROVAL: 403,
    ErrorCode.NOT_PROPOSER: 403,
    ErrorCode.NO_RULE: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.ALREADY_REVIEWED: 409,
    ErrorCode.ORDER_CLOSED: 409,
    ErrorCode.NOT_APPROVED: 409,
    ErrorCode.ALREADY_EXECUTED: 409,
    ErrorCode.NO_POLICY: 409,
    ErrorCode.CONFLICT: 409,
}

_TITLES: Mapping[ErrorCode, str] = {
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.NO_POLICY: "No policy yet",
    ErrorCode.UNAUTHENTICATED: "Please sign in again",
}


def error_page(
    web: Web, request: Request, *, status: int, title: str, message: str, hint: str = ""
) -> Response:
    session = web.session(request)
    return web.render(
        request,
        "error.html",
        session=session,
        status=status,
        policy=None,
        title=title,
        message=message,
        hint=hint,
    )


def _bounce(path: str) -> Response:
    """Ask the browser to load `path` again, this time as a same-site navigation.

    A link from another site (a chat message, an email) arrives without the
    SameSite=Strict session cookie, so a signed-in person would be asked to sign in
    again. This page navigates once more from our own origin; that request carries
    the cookie. The second request is same-origin, so it never bounces twice.
    """
    target = html.escape(safe_next(path), quote=True)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;url={target}">'
        "<title>cosignatory</title></head>"
        f'<body><p><a href="{target}">Continue to cosignatory</a></p></body></html>'
    )
    return HTMLResponse(body)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _handle(web: Web, request: Request, exc: Exception) -> Response:
    if isinstance(exc, SignInRequired):
        target = web.sign_in_url(exc.next_path)
        if _is_htmx(request):  # a poll after the session ended: send the whole page there
            return Response(status_code=200, headers={"HX-Redirect": target})
        if request.method == "GET" and request.headers.get("sec-fetch-site") == "cross-site":
            return _bounce(exc.next_path)
        return web.redirect(request, target)
    if isinstance(exc, CsrfRefused):
        return error_page(
            web,
            request,
            status=403,
            title="Form refused",
            message=exc.reason,
            hint="Nothing was changed.",
        )
    if isinstance(exc, CosignatoryError):
        return error_page(
            web,
            request,
            status=_STATUS.get(exc.code, 400),
            title=_TITLES.get(exc.code, "That did not work"),
            message=exc.message,
        )
    if isinstance(exc, RequestValidationError):
        fields = ", ".join(
            f"`{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}`" for e in exc.errors()
        )
        return error_page(
            web,
            request,
            status=400,
            title="That did not work",
            message=f"the request had unexpected values in {fields}",
            hint="Go back, reload the page and try again.",
        )
    if isinstance(exc, HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "the request failed"
        return error_page(
            web, request, status=exc.status_code, title="That did not work", message=detail
        )
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    try:
        return error_page(
            web,
            request,
            status=500,
            title="Something went wrong",
            message="an internal error occurred; it has been logged",
            hint="Try again in a moment; if it persists, tell the operators the time it happened.",
        )
    except Exception:  # the error page itself failed (e.g. the database is down)
        log.exception("the error page failed too")
        return Response(
            "cosignatory: an internal error occurred; it has been logged.",
            status_code=500,
            media_type="text/plain",
        )


def web_route_class(web: Web) -> type[APIRoute]:
    """An APIRoute subclass whose handlers render errors as pages for `web`."""

    class WebRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            original = super().get_route_handler()

            async def handler(request: Request) -> Response:
                try:
                    response = await original(request)
                except Exception as exc:
                    response = _handle(web, request, exc)
                for name, value in SECURITY_HEADERS.items():
                    response.headers.setdefault(name, value)
                response.headers.setdefault("Cache-Control", "no-store")
                return response

            return handler

    return WebRoute
