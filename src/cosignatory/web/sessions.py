"""Browser sessions: who is signed in, their CSRF token, and a one-shot flash message.

    sessions = SignedCookieSessions(settings)
    session = sessions.load(request) or Session.anonymous()
    sessions.save(response, request, session.signed_in(person="pak", ...))

`SessionBackend` is the seam: the signed-cookie backend keeps everything in
HttpOnly, SameSite=Strict cookies signed with itsdangerous (nothing is stored server
side). A single sign-on backend (OIDC) can later produce the same `Session` values
from its own callback route; the pages only ever see a `Session`.

Every session, even before sign-in, carries a random CSRF token; every POST must echo
it (`csrf.require_csrf`). Signing in issues a fresh token, so a token seen before
sign-in is worthless after it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from cosignatory.web.settings import WebSettings

__all__ = [
    "ANON_COOKIE_NAME",
    "COOKIE_NAME",
    "FlashKind",
    "Session",
    "SessionBackend",
    "SignInMethod",
    "SignedCookieSessions",
]

COOKIE_NAME = "cosignatory_session"
ANON_COOKIE_NAME = "cosignatory_signin"
_SALT = "cosignatory.web.session.v1"
_ANON_SALT = "cosignatory.web.signin.v1"


class SignInMethod(StrEnum):
    TOKEN = "token"  # a personal bearer token pasted into the sign-in form  # noqa: S105


class FlashKind(StrEnum):
    OK = "ok"
    ERROR = "error"


def _new_csrf() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, kw_only=True)
class Session:
    """One browser's session; `person` is None until someone signs in."""

    csrf: str
    person: str | None = None
    is_admin: bool = False
    token_id: str | None = None  # the token used to sign in; re-checked on every request
    via: SignInMethod | None = None
    signed_in_at: datetime | None = None
    flash: str = ""
    flash_kind: FlashKind = FlashKind.OK

    @classmethod
    def anonymous(cls) -> Session:
        return cls(csrf=_new_csrf())

    def signed_in(
        self, *, person: str, is_admin: bool, token_id: str, via: SignInMethod, at: datetime
    ) -> Session:
        """A new session for `person`, with a fresh CSRF token (no fixation)."""
        return Session(
            csrf=_new_csrf(),
            person=person,
            is_admin=is_admin,
            token_id=token_id,
            via=via,
            signed_in_at=at,
        )

    def with_flash(self, message: str, kind: FlashKind = FlashKind.OK) -> Session:
        return replace(self, flash=message, flash_kind=kind)

    def without_flash(self) -> Session:
        return replace(self, flash="", flash_kind=FlashKind.OK)

    def to_json(self) -> dict[str, Any]:
        return {
            "csrf": self.csrf,
            "person": self.person,
            "admin": self.is_admin,
            "token_id": self.token_id,
            "via": self.via.value if self.via is not None else None,
            "at": int(self.signed_in_at.timestamp()) if self.signed_in_at else None,
            "flash": self.flash,
            "flash_kind": self.flash_kind.value,
        }

    @classmethod
    def from_json(cls, unverified: Any) -> Session | None:
        """Rebuild a session from a verified cookie payload; None if its shape is wrong."""
        if not isinstance(unverified, dict):
            return None
        try:
            csrf = unverified["csrf"]
            person = unverified.get("person")
            at = unverified.get("at")
            via = unverified.get("via")
            if not isinstance(csrf, str) or len(csrf) < 32:
                return None
            if person is not None and not isinstance(person, str):
                return None
            return cls(
                csrf=csrf,
                person=person,
                is_admin=unverified.get("admin") is True,
                token_id=unverified.get("token_id") if person is not None else None,
                via=SignInMethod(via) if via is not None else None,
                signed_in_at=datetime.fromtimestamp(at, UTC) if isinstance(at, int) else None,
                flash=str(unverified.get("flash") or ""),
                flash_kind=FlashKind(unverified.get("flash_kind") or FlashKind.OK),
            )
        except (KeyError, ValueError, TypeError, OverflowError):
            return None


class SessionBackend(Protocol):
    """Where sessions live. `load` returns None for a missing, forged or stale session."""

    def load(self, request: Request) -> Session | None: ...

    def save(self, response: Response, request: Request, session: Session) -> None: ...

    def clear(self, response: Response, request: Request) -> None: ...


class SignedCookieSessions:
    """Sessions kept whole in signed cookies (signed, not encrypted: they hold no secret).

    A signed-in session lives in `cosignatory_session`; an anonymous one (the sign-in
    form's CSRF token, a "signed out" message) in `cosignatory_signin`, signed with a
    different salt so neither can stand in for the other. Saving an anonymous session
    therefore never overwrites a signed-in one: a page answered to a cross-site request
    (which arrives without the SameSite=Strict cookie) cannot sign anybody out.
    """

    def __init__(self, settings: WebSettings) -> None:
        key = settings.secret_key
        self._signed_in = URLSafeTimedSerializer(key, salt=_SALT)
        self._anonymous = URLSafeTimedSerializer(key, salt=_ANON_SALT)
        self._max_age = int(settings.session_max_age.total_seconds())
        self._secure = settings.cookie_secure

    def _is_secure(self, request: Request) -> bool:
        return self._secure if self._secure is not None else request.url.scheme == "https"

    def _read(
        self, request: Request, name: str, serializer: URLSafeTimedSerializer
    ) -> Session | None:
        raw = request.cookies.get(name)
        if not raw or len(raw) > 4096:
            return None
        try:
            payload = serializer.loads(raw, max_age=self._max_age)
        except BadSignature:  # also SignatureExpired, its subclass
            return None
        return Session.from_json(payload)

    def load(self, request: Request) -> Session | None:
        session = self._read(request, COOKIE_NAME, self._signed_in)
        if session is not None and session.person is not None and session.signed_in_at is not None:
            # Re-saving the cookie (a flash message) re-signs it; the sign-in time does not move.
            age = datetime.now(UTC) - session.signed_in_at
            if age.total_seconds() <= self._max_age:
                return session
        anonymous = self._read(request, ANON_COOKIE_NAME, self._anonymous)
        return anonymous if anonymous is not None and anonymous.person is None else None

    def _set(self, response: Response, request: Request, name: str, value: str) -> None:
        response.set_cookie(
            name,
            value,
            max_age=self._max_age,
            path="/",
            secure=self._is_secure(request),
            httponly=True,
            samesite="strict",
        )

    def _delete(self, response: Response, request: Request, name: str) -> None:
        response.delete_cookie(
            name, path="/", secure=self._is_secure(request), httponly=True, samesite="strict"
        )

    def save(self, response: Response, request: Request, session: Session) -> None:
        if session.person is not None:
            self._set(response, request, COOKIE_NAME, self._signed_in.dumps(session.to_json()))
            if ANON_COOKIE_NAME in request.cookies:
                self._delete(response, request, ANON_COOKIE_NAME)
            return
        self._set(response, request, ANON_COOKIE_NAME, self._anonymous.dumps(session.to_json()))
        if COOKIE_NAME in request.cookies:  # it was sent, so it is ours to end (signed out)
            self._delete(response, request, COOKIE_NAME)

    def clear(self, response: Response, request: Request) -> None:
        self._delete(response, request, COOKIE_NAME)
        self._delete(response, request, ANON_COOKIE_NAME)
