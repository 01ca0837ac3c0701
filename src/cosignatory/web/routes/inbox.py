"""The inbox: orders awaiting me, my own proposals, recently decided orders.

The lists refresh themselves: the page polls `/inbox/lists` with htmx and swaps them in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from cosignatory.core.lifecycle import OrderState
from cosignatory.service import OrderView, Service
from cosignatory.web.context import Web

__all__ = ["inbox_lists", "register"]

AWAITING_LIMIT = 50
MINE_LIMIT = 20
SCAN_LIMIT = 200  # newest orders scanned for "recently decided"


def _decided_at(order: OrderView) -> datetime:
    return order.closed_at or order.approved_at or order.created_at


def inbox_lists(service: Service, person: str, recent_limit: int) -> dict[str, Any]:
    awaiting, more_awaiting = service.list_orders(awaiting=person, limit=AWAITING_LIMIT)
    mine, _ = service.list_orders(proposer=person, limit=MINE_LIMIT)
    newest, _ = service.list_orders(limit=SCAN_LIMIT)
    decided = [o for o in newest if o.state is not OrderState.PENDING]
    decided.sort(key=_decided_at, reverse=True)
    return {
        "awaiting": awaiting,
        "more_awaiting": more_awaiting is not None,
        "mine": mine,
        "recent": decided[:recent_limit],
    }


def register(router: APIRouter, web: Web) -> None:
    @router.get("/")
    def inbox(request: Request) -> Response:
        session = web.signed_in(request)
        person = session.person or ""
        lists = inbox_lists(web.service(request), person, web.settings.recent_limit)
        return web.render(request, "inbox.html", session=session, fragment=False, **lists)

    @router.get("/inbox/lists")
    def inbox_fragment(request: Request) -> Response:
        session = web.signed_in(request)
        person = session.person or ""
        lists = inbox_lists(web.service(request), person, web.settings.recent_limit)
        return web.render(request, "_inbox_lists.html", session=session, fragment=True, **lists)
