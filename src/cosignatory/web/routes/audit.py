"""The audit log: the latest checkpoint, entries with a filter, and per-order verification.

`/audit` lists the newest entries (filtered by kind, actor or subject); `/audit?order=ID`
also proves each of that order's entries against the latest checkpoint, on the server
and again in the browser (`static/audit.js`). Without an audit log the page says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from cosignatory.core.audit import AuditError
from cosignatory.core.events import EventKind
from cosignatory.service import Service
from cosignatory.web.audit_view import (
    AuditSource,
    CheckpointView,
    EntryView,
    ProvenEntry,
    checkpoint_view,
    entry_view,
    prove,
)
from cosignatory.web.context import Web

__all__ = ["AuditSourceFactory", "register"]

AuditSourceFactory = Callable[[Service], AuditSource | None]
PAGE = 50
WINDOW = 1000  # entries scanned per page when filtering


def _matches(entry: EntryView, kind: str, actor: str, subject: str) -> bool:
    return (
        (not kind or entry.kind == kind or entry.kind.startswith(kind + ":"))
        and (not actor or entry.actor == actor)
        and (not subject or entry.subject == subject)
    )


def _page(
    source: AuditSource, *, size: int, before: int | None, kind: str, actor: str, subject: str
) -> tuple[list[EntryView], int | None]:
    """Up to PAGE matching entries, newest first, and where the next (older) page starts."""
    end = size if before is None else max(0, min(before, size))
    found: list[EntryView] = []
    scanned = 0
    while end > 0 and len(found) < PAGE and scanned < WINDOW:
        start = max(0, end - PAGE)
        raws = source.entries(start, end)
        for index in range(end - 1, start - 1, -1):
            view = entry_view(index, raws[index - start])
            if _matches(view, kind, actor, subject):
                found.append(view)
                if len(found) == PAGE:
                    return found, index
        scanned += end - start
        end = start
    return found, end if end > 0 else None


def _prove_order(
    source: AuditSource, order_id: str, checkpoint: CheckpointView
) -> list[ProvenEntry]:
    size = checkpoint.checkpoint.size
    proven = []
    for index in source.order_entries(order_id):
        if index >= size:
            continue  # logged after the checkpoint; the next checkpoint covers it
        raw = source.entries(index, index + 1)[0]
        proof = source.inclusion_proof(index, size)
        proven.append(prove(entry_view(index, raw), proof, checkpoint.checkpoint))
    return proven


def register(router: APIRouter, web: Web, audit_source: AuditSourceFactory) -> None:
    @router.get("/audit")
    def audit_page(
        request: Request,
        *,
        order: Annotated[str, Query(max_length=64)] = "",
        kind: Annotated[str, Query(max_length=40)] = "",
        actor: Annotated[str, Query(max_length=64)] = "",
        subject: Annotated[str, Query(max_length=80)] = "",
        before: Annotated[int | None, Query(ge=0)] = None,
    ) -> Response:
        session = web.signed_in(request)
        service = web.service(request)
        source = audit_source(service)
        values: dict[str, Any] = {
            "order_id": order.strip(),
            "kind": kind.strip(),
            "actor": actor.strip(),
            "subject": subject.strip(),
            "kinds": [k.value for k in EventKind],
        }
        if source is None:
            return web.render(request, "audit.html", session=session, available=False, **values)
        try:
            checkpoint = checkpoint_view(source.signed_checkpoint(), source.verifier_key())
        except AuditError as e:
            return web.render(
                request,
                "audit.html",
                session=session,
                available=False,
                problem=f"the latest checkpoint could not be read: {e}",
                **values,
            )
        entries, older = _page(
            source,
            size=checkpoint.checkpoint.size,
            before=before,
            kind=kind.strip(),
            actor=actor.strip(),
            subject=subject.strip(),
        )
        proven: list[ProvenEntry] = []
        if order.strip():
            service.get_order(order.strip())  # a mistyped id is a "no order" page
            proven = _prove_order(source, order.strip(), checkpoint)
        return web.render(
            request,
            "audit.html",
            session=session,
            available=True,
            checkpoint=checkpoint,
            entries=entries,
            older=older,
            proven=proven,
            **values,
        )
