"""The approver's web inbox: server-rendered pages (Jinja2 + htmx) served at `/`.

    app = create_app(service, routers=[create_web_router(WebSettings(secret_key=key))])

Modules:

    settings.py   WebSettings (cookie key, session lifetime, poll interval)
    sessions.py   Session, the SessionBackend seam, the signed-cookie backend
    csrf.py       the CSRF check every POST passes
    context.py    Web: sessions + templates + the service, shared by every page
    routing.py    the route class: errors become pages; security headers
    gate.py       what a person may do on an order, and why not
    audit_view.py the audit page's checkpoint, entries and proofs (checked on the server)
    audit_source.py  the audit log behind a `Service`
    forms.py      the propose form from an action's param schema
    sentences.py  policy rules as sentences
    timeline.py   an order's events as a timeline
    present.py    formatting filters for the templates
    static.py     vendored htmx, our stylesheet and scripts
    routes/       sign-in, inbox, orders, propose, policy, audit

The pages find the service at `request.app.state.service`, like the API's handlers.
"""

from __future__ import annotations

from fastapi import APIRouter

from cosignatory.web import static
from cosignatory.web.audit_source import service_audit_source
from cosignatory.web.audit_view import AuditSource
from cosignatory.web.context import Web
from cosignatory.web.routes import audit, auth, inbox, orders, policy, propose
from cosignatory.web.routes.audit import AuditSourceFactory
from cosignatory.web.routing import web_route_class
from cosignatory.web.sessions import Session, SessionBackend, SignedCookieSessions
from cosignatory.web.settings import WebSettings

__all__ = [
    "AuditSource",
    "Session",
    "SessionBackend",
    "SignedCookieSessions",
    "WebSettings",
    "create_web_router",
]


def create_web_router(
    settings: WebSettings | None = None,
    *,
    sessions: SessionBackend | None = None,
    audit_source: AuditSourceFactory = service_audit_source,
) -> APIRouter:
    """The router of every web page; pass it to `create_app(..., routers=[...])`.

    `sessions` replaces the signed-cookie sessions (e.g. single sign-on later);
    `audit_source` finds the audit log behind a service (None: the page says it is
    not available).
    """
    settings = settings or WebSettings()
    web = Web(settings, sessions or SignedCookieSessions(settings))
    files = static.StaticFiles.shared()
    router = APIRouter(route_class=web_route_class(web), include_in_schema=False)
    static.register(router, files)
    auth.register(router, web)
    inbox.register(router, web)
    orders.register(router, web)
    propose.register(router, web)
    policy.register(router, web)
    audit.register(router, web, audit_source)
    return router
