"""CSRF protection: every POST must carry the session's token and come from this site.

The session cookie is SameSite=Strict, so a cross-site form post arrives without it;
the token is the second, independent guard (synchronizer-token pattern): it lives in
the signed session cookie and in a hidden field of every form we render, and the two
must match. A browser that sends `Origin` or `Sec-Fetch-Site` must also say the
request came from this site.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.requests import Request

from cosignatory.web.sessions import Session

__all__ = ["CSRF_FIELD", "CsrfRefused", "require_csrf"]

CSRF_FIELD = "csrf_token"


class CsrfRefused(Exception):
    """A POST that may not have come from one of our own forms."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _same_origin(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    # Hosts only: behind a TLS-terminating proxy our own scheme may read as http.
    return urlsplit(origin).netloc.lower() == request.url.netloc.lower()


def require_csrf(request: Request, session: Session | None, unverified_token: str) -> Session:
    """The session, if this POST carries its CSRF token and came from this site."""
    if session is None:
        raise CsrfRefused(
            "your session cookie was not sent (it may have expired, or cookies are blocked "
            "for this site); reload the page and try again"
        )
    if not _same_origin(request):
        raise CsrfRefused("the form was sent from another site; use the form on this site")
    if not unverified_token or not hmac.compare_digest(
        unverified_token.encode(), session.csrf.encode()
    ):
        raise CsrfRefused(
            "the form's security token is missing or out of date (did you sign in or out "
            "in another tab?); reload the page and try again"
        )
    return session
