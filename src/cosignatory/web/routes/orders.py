"""One order: its facts, seats, timeline; approve, deny or cancel it.

The review form is a plain POST (it works without JavaScript) answered by a redirect
back to the order page, which shows what happened. While the order is open the page
polls `/orders/{id}/live?seen=N`: nothing comes back until the order has new events,
then the whole order section is replaced.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import Response

from cosignatory.core.errors import CosignatoryError, InputError
from cosignatory.core.lifecycle import TERMINAL_STATES
from cosignatory.core.policy import ReviewDecision
from cosignatory.service import EventView, OrderView
from cosignatory.web.context import Web
from cosignatory.web.gate import PAST, review_gate
from cosignatory.web.present import STATE_LABELS
from cosignatory.web.sessions import Session
from cosignatory.web.timeline import timeline

__all__ = ["register"]

OrderId = Annotated[str, Path(min_length=1, max_length=64)]
MAX_COMMENT = 4000


def _order_values(web: Web, request: Request, session: Session, order_id: str) -> dict[str, Any]:
    service = web.service(request)
    order = service.get_order(order_id)
    pinned = service.policy(order.policy_version)
    events: list[EventView] = service.events(order_id=order_id)
    return {
        "order": order,
        "policy": pinned,
        "gate": review_gate(order, pinned, session.person or "", is_admin=session.is_admin),
        "timeline": timeline(events, order),
        "live": order.state not in TERMINAL_STATES,
        "seen": len(order.event_seqs),
    }


def _outcome(order: OrderView, decision: ReviewDecision) -> str:
    return f"You {PAST[decision]} this order. It is now {STATE_LABELS[order.state]}."


def register(router: APIRouter, web: Web) -> None:
    @router.get("/orders/{order_id}")
    def order_page(request: Request, order_id: OrderId) -> Response:
        session = web.signed_in(request)
        values = _order_values(web, request, session, order_id)
        return web.render(request, "order.html", session=session, **values)

    @router.get("/orders/{order_id}/live")
    def order_live(
        request: Request, order_id: OrderId, seen: Annotated[int, Query(ge=0)] = 0
    ) -> Response:
        session = web.signed_in(request)
        order = web.service(request).get_order(order_id)
        if len(order.event_seqs) == seen:
            return Response(status_code=204)  # htmx swaps nothing
        values = _order_values(web, request, session, order_id)
        return web.render(request, "_order.html", session=session, **values)

    @router.post("/orders/{order_id}/review")
    def review(
        request: Request,
        order_id: OrderId,
        decision: Annotated[str, Form(max_length=20)] = "",
        comment: Annotated[str, Form(max_length=MAX_COMMENT)] = "",
        csrf_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        session = web.check_post(request, csrf_token)
        if session.person is None:
            return web.redirect(request, web.sign_in_url(f"/orders/{order_id}"))
        back = f"/orders/{order_id}"
        try:
            if decision not in (ReviewDecision.APPROVE, ReviewDecision.DENY):
                raise InputError("choose approve or deny")
            choice = ReviewDecision(decision)
            order = web.service(request).review(
                order_id=order_id, reviewer=session.person, decision=choice, comment=comment
            )
        except CosignatoryError as e:
            return web.redirect(request, back, session=session, flash=e.message, error=True)
        return web.redirect(request, back, session=session, flash=_outcome(order, choice))

    @router.post("/orders/{order_id}/cancel")
    def cancel(
        request: Request,
        order_id: OrderId,
        reason: Annotated[str, Form(max_length=MAX_COMMENT)] = "",
        csrf_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        session = web.check_post(request, csrf_token)
        if session.person is None:
            return web.redirect(request, web.sign_in_url(f"/orders/{order_id}"))
        back = f"/orders/{order_id}"
        try:
            web.service(request).cancel(
                order_id=order_id, by=session.person, reason=reason, as_admin=session.is_admin
            )
        except CosignatoryError as e:
            return web.redirect(request, back, session=session, flash=e.message, error=True)
        return web.redirect(request, back, session=session, flash="You cancelled this order.")
