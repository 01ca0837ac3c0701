"""An order's events as a timeline a person reads: who did what, when, and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cosignatory.core.events import EventKind
from cosignatory.core.lifecycle import OrderState
from cosignatory.service import SYSTEM_EXPIRY, EventView, OrderView
from cosignatory.web.present import role_name

__all__ = ["Entry", "timeline"]


@dataclass(frozen=True, kw_only=True)
class Entry:
    seq: int
    at: datetime
    actor: str | None  # None: the system did it
    text: str  # may contain `backticked` values
    detail: str = ""  # a comment or reason, shown quoted
    tone: str = "info"  # info | good | bad


def _reviewed(payload: dict[str, Any]) -> tuple[str, str, str]:
    decision = payload.get("decision")
    seat = payload.get("seat")
    if decision == "approve":
        if seat:
            text = f"approved, filling the {role_name(str(seat))} seat"
        elif payload.get("counted") is False:
            text = "approved (recorded, but it fills no open seat)"
        else:
            text = "approved"
        return text, str(payload.get("comment") or ""), "good"
    return "denied", str(payload.get("comment") or ""), "bad"


def _entry(event: EventView) -> Entry:
    p = event.payload
    actor: str | None = None if event.actor == SYSTEM_EXPIRY else event.actor
    kind = event.kind
    detail, tone = "", "info"
    if kind is EventKind.ORDER_PROPOSED:
        seats = ", ".join(
            f"{r.get('count', 1)} {role_name(str(r.get('role')))}"
            for r in p.get("requirements", [])
        )
        text = f"proposed it under policy version {p.get('policy_version')}"
        if seats:
            text += f"; it needs {seats}"
        detail = str(p.get("justification") or "")
    elif kind is EventKind.ORDER_REVIEWED:
        text, detail, tone = _reviewed(p)
    elif kind is EventKind.ORDER_APPROVED:
        actor, text, tone = None, "Approved: every seat is filled.", "good"
    elif kind is EventKind.ORDER_REJECTED:
        by = ", ".join(f"`{r}`" for r in p.get("rejected_by", []))
        actor, text, tone = None, f"Rejected (by {by})." if by else "Rejected.", "bad"
        detail = "; ".join(str(r) for r in p.get("reasons", []))
    elif kind is EventKind.ORDER_EXPIRED:
        actor, text, tone = None, "Expired.", "bad"
        detail = str(p.get("reason") or "")
    elif kind is EventKind.ORDER_CANCELLED:
        text, tone = "cancelled it" + (" as an administrator" if p.get("as_admin") else ""), "bad"
        detail = str(p.get("reason") or "")
    elif kind is EventKind.ORDER_CLAIMED:
        text = "claimed it for execution"
    elif kind is EventKind.ORDER_EXECUTED:
        text, tone = "reported that it ran successfully", "good"
        detail = str(p.get("detail") or "")
    elif kind is EventKind.ORDER_FAILED:
        text, tone = "reported that it failed", "bad"
        detail = str(p.get("detail") or "")
    else:
        text = f"`{kind.value}`"
    return Entry(seq=event.seq, at=event.at, actor=actor, text=text, detail=detail, tone=tone)


def timeline(events: Sequence[EventView], order: OrderView) -> list[Entry]:
    """The order's events, oldest first; an overdue order not yet swept gets its expiry."""
    entries = [_entry(e) for e in events]
    swept = any(e.kind is EventKind.ORDER_EXPIRED for e in events)
    if order.closed_at is not None and order.state is OrderState.EXPIRED and not swept:
        entries.append(
            Entry(
                seq=-1,
                at=order.closed_at,
                actor=None,
                text="Expired.",
                detail=order.close_reason or "",
                tone="bad",
            )
        )
    return entries
