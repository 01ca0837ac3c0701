"""`Web`: what every page handler shares: settings, sessions, templates, the service.

    web = Web(settings, SignedCookieSessions(settings))
    session = web.signed_in(request)               # or raise SignInRequired
    return web.render(request, "order.html", session=session, order=view)

Sessions are re-checked on every request: a session whose token was revoked or has
expired since sign-in ends at once, so revoking a token also signs its browser out.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cosignatory.core.errors import CosignatoryError, ErrorCode
from cosignatory.core.policy import Policy
from cosignatory.service import Service
from cosignatory.web import present
from cosignatory.web.csrf import CSRF_FIELD, require_csrf
from cosignatory.web.sentences import rule_sentence, seat_phrase
from cosignatory.web.sessions import FlashKind, Session, SessionBackend
from cosignatory.web.settings import WebSettings
from cosignatory.web.static import StaticFiles

__all__ = ["TEMPLATES", "SignInRequired", "Web", "environment", "safe_next"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
_STATE_KEY = "cosignatory_web_session"


class SignInRequired(Exception):
    """The page needs a signed-in person; `next` is where to come back to."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def safe_next(unverified: str | None) -> str:
    """A local path to go to after sign-in; anything else (other sites too) becomes `/`."""
    if (
        not unverified
        or not unverified.startswith("/")
        or unverified.startswith("//")
        or "\\" in unverified
        or any(ord(c) < 33 for c in unverified)
        or len(unverified) > 2000
    ):
        return "/"
    return unverified


@functools.cache
def environment() -> Environment:
    """The template environment: one per process, so templates compile once."""
    files = StaticFiles.shared()
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        ticks=present.ticks,
        message=present.message,
        clock=present.clock,
        role=present.role_name,
        roles=present.roles_phrase,
        value=present.value_text,
        seat=seat_phrase,
        sentence=rule_sentence,
        duration=present.human_duration,
    )
    env.globals.update(
        relative=present.relative,
        person_name=present.person_name,
        fillable_roles=present.fillable_roles,
        open_vetoers=present.open_vetoers,
        STATE_LABELS=present.STATE_LABELS,
        CSRF_FIELD=CSRF_FIELD,
        static_url=files.url,
    )
    return env


class Web:
    def __init__(self, settings: WebSettings, sessions: SessionBackend) -> None:
        self.settings = settings
        self.sessions = sessions
        self.env = environment()

    # ---- the service and the people ------------------------------------------------------

    @staticmethod
    def service(request: Request) -> Service:
        service: Service = request.app.state.service
        return service

    def current_policy(self, request: Request) -> Policy | None:
        """The current policy, or None before one is published."""
        try:
            return self.service(request).policy()
        except CosignatoryError as e:
            if e.code is ErrorCode.NO_POLICY:
                return None
            raise

    # ---- sessions --------------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        """The browser's session; a signed-in one whose token is no longer valid is dropped."""
        cached = getattr(request.state, _STATE_KEY, None)
        if isinstance(cached, Session):
            return cached
        session = self.sessions.load(request)
        if (
            session is not None
            and session.person is not None
            and not self._token_ok(request, session)
        ):
            session = Session.anonymous()
        if session is not None:
            setattr(request.state, _STATE_KEY, session)
        return session

    def _token_ok(self, request: Request, session: Session) -> bool:
        service = self.service(request)
        now = service.now()
        return any(
            t.id == session.token_id and t.person == session.person and t.is_active(now)
            for t in service.list_tokens()
        )

    def signed_in(self, request: Request) -> Session:
        session = self.session(request)
        if session is None or session.person is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(target)
        return session

    def check_post(self, request: Request, unverified_token: str) -> Session:
        """The session of a POST that carries its CSRF token (else CsrfRefused)."""
        return require_csrf(request, self.session(request), unverified_token)

    # ---- responses -------------------------------------------------------------------------

    def render(
        self,
        request: Request,
        template: str,
        *,
        session: Session | None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        """A page (or fragment); shows and then clears the session's flash message."""
        service = self.service(request)
        if session is None:
            session = Session.anonymous()
        flash, flash_kind = session.flash, session.flash_kind
        if "policy" not in values:
            values["policy"] = self.current_policy(request) if session.person else None
        context: Mapping[str, Any] = {
            "request": request,
            "session": session,
            "me": session.person,
            "csrf": session.csrf,
            "now": service.now(),
            "flash": flash,
            "flash_error": flash_kind is FlashKind.ERROR,
            "poll_seconds": f"{self.settings.poll_seconds:g}",
            **values,
        }
        html = self.env.get_template(template).render(context)
        response = HTMLResponse(html, status_code=status)
        if flash or self.sessions.load(request) != session:
            self.sessions.save(response, request, session.without_flash())
        return response

    def redirect(
        self,
        request: Request,
        url: str,
        *,
        session: Session | None = None,
        flash: str = "",
        error: bool = False,
    ) -> Response:
        """303 to `url` (after a POST: the browser GETs it), saving `session` and a flash."""
        response = RedirectResponse(url, status_code=303)
        if session is not None:
            if flash:
                session = session.with_flash(flash, FlashKind.ERROR if error else FlashKind.OK)
            self.sessions.save(response, request, session)
        return response

    @staticmethod
    def sign_in_url(next_path: str) -> str:
        target = safe_next(next_path)
        return "/signin" if target == "/" else f"/signin?next={quote(target, safe='/')}"
