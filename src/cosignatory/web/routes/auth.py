"""Sign in with a personal token; sign out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from cosignatory.core.errors import CosignatoryError
from cosignatory.web.context import Web, safe_next
from cosignatory.web.present import person_name
from cosignatory.web.sessions import Session, SignInMethod

__all__ = ["register"]

MAX_TOKEN = 200


def register(router: APIRouter, web: Web) -> None:
    @router.get("/signin")
    def signin_page(
        request: Request, next: Annotated[str, Query(max_length=2000)] = "/"
    ) -> Response:
        session = web.session(request)
        if session is not None and session.person is not None:
            return web.redirect(request, safe_next(next))
        return web.render(request, "signin.html", session=session, next=safe_next(next), error="")

    @router.post("/signin")
    def signin(
        request: Request,
        token: Annotated[str, Form(max_length=MAX_TOKEN)] = "",
        next: Annotated[str, Form(max_length=2000)] = "/",
        csrf_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        session = web.check_post(request, csrf_token)
        service = web.service(request)
        unverified_token = token.strip()
        if not unverified_token:
            error = (
                "paste your personal token; an administrator creates one with "
                "`cosignatory token create PERSON`"
            )
        else:
            try:
                principal = service.authenticate(unverified_token)
            except CosignatoryError as e:
                error = e.message
            else:
                new = session.signed_in(
                    person=principal.person,
                    is_admin=principal.is_admin,
                    token_id=principal.token_id,
                    via=SignInMethod.TOKEN,
                    at=datetime.now(UTC),  # sessions age in real time, like the cookie
                )
                name = person_name(web.current_policy(request), principal.person)
                return web.redirect(
                    request, safe_next(next), session=new, flash=f"Signed in as {name}."
                )
        return web.render(
            request, "signin.html", session=session, status=401, next=safe_next(next), error=error
        )

    @router.post("/signout")
    def signout(
        request: Request, csrf_token: Annotated[str, Form(max_length=200)] = ""
    ) -> Response:
        web.check_post(request, csrf_token)
        return web.redirect(
            request, "/signin", session=Session.anonymous(), flash="You are signed out."
        )
