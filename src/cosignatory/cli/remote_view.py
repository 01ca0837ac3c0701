"""Rendering orders from the HTTP API for people: one order, a list, and the live seat view."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from cosignatory.client import Order

__all__ = [
    "order_lines",
    "outcome_text",
    "render_order",
    "render_orders",
    "seat_summary",
    "seat_table",
]

_STATE_STYLE = {
    "pending": "bold yellow",
    "approved": "bold green",
    "executing": "bold cyan",
    "executed": "bold green",
    "rejected": "bold red",
    "failed": "bold red",
    "expired": "bold magenta",
    "cancelled": "dim",
}


def _when(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return "-"
    stamp = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if now is None:
        return stamp
    seconds = int((value - now).total_seconds())
    if seconds >= 0:
        return f"{stamp} (in {_span(seconds)})"
    return f"{stamp} ({_span(-seconds)} ago)"


def _span(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _state(order: Order) -> Text:
    return Text(order.state, style=_STATE_STYLE.get(order.state, "bold"))


def seat_table(order: Order) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("seat")
    table.add_column("need", justify="right")
    table.add_column("filled by")
    table.add_column("could still fill")
    for seat in order.seats:
        done = len(seat.filled_by) >= seat.count
        table.add_row(
            Text(seat.role, style="green" if done else ""),
            str(seat.count),
            ", ".join(seat.filled_by) or "-",
            "" if done else (", ".join(seat.eligible) or "nobody"),
        )
    return table


def seat_summary(order: Order) -> str:
    """One line per order state change, for logs and non-terminal output."""
    seats = "; ".join(
        f"{s.role} {len(s.filled_by)}/{s.count}"
        + (f" ({', '.join(s.filled_by)})" if s.filled_by else "")
        for s in order.seats
    )
    return f"{order.id}: {order.state}" + (f" · {seats}" if seats else "")


def order_lines(order: Order, *, now: datetime | None = None) -> RenderableType:
    now = now or datetime.now(UTC)
    head = Text.assemble(
        (order.id, "bold"), " ", (order.action, "bold"), f" by {order.proposer}: ", _state(order)
    )
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column()
    facts.add_row("params", json.dumps(order.params, ensure_ascii=False))
    if order.justification:
        facts.add_row("justification", order.justification)
    facts.add_row("created", _when(order.created_at))
    if order.state == "pending":
        facts.add_row("expires", _when(order.expires_at, now))
    if order.state == "approved" and order.execute_by is not None:
        facts.add_row("execute by", _when(order.execute_by, now))
    facts.add_row("rules", ", ".join(order.matched_rules) or "-")
    if order.vetoers:
        facts.add_row("may veto", ", ".join(order.vetoers))
    if order.outcome is not None:
        facts.add_row("outcome", outcome_text(order))
    parts: list[RenderableType] = [head, facts]
    if order.seats:
        parts.append(seat_table(order))
    for review in order.reviews:
        mark, verb = ("✔", "approved") if review.decision == "approve" else ("✘", "denied")
        note = f" [{review.note}]" if review.note and not review.counted else ""
        comment = f": {review.comment}" if review.comment else ""
        parts.append(
            Text(
                f"  {mark} {review.reviewer} {verb}{comment}{note}",
                style="dim" if not review.counted else "",
            )
        )
    for reason in order.reasons:
        parts.append(Text(f"  - {reason}"))
    return Group(*parts)


def render_order(console: Console, order: Order) -> None:
    console.print(order_lines(order))


def render_orders(console: Console, orders: list[Order]) -> None:
    if not orders:
        console.print("no orders")
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("id", no_wrap=True, min_width=30)  # people copy it: never truncate
    table.add_column("action")
    table.add_column("by")
    table.add_column("state")
    table.add_column("waiting for", overflow="fold")
    table.add_column("created", no_wrap=True)
    for order in orders:
        missing = (
            ", ".join(m.role if m.count == 1 else f"{m.count}× {m.role}" for m in order.missing)
            if order.state == "pending"
            else ""
        )
        created = order.created_at.astimezone(UTC).strftime("%m-%d %H:%M")
        table.add_row(order.id, order.action, order.proposer, _state(order), missing, created)
    console.print(table)


def outcome_text(order: Order) -> str:
    """`succeeded (exit 0; stdout sha256 b4bc88f6…, 18 bytes)` for results `run` recorded."""
    text = str(order.outcome)
    detail = order.outcome_detail or ""
    try:
        parsed = json.loads(detail)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "exit_status" in parsed:
        parts = [f"exit {parsed['exit_status']}"]
        if "stdout_sha256" in parsed:
            parts.append(
                f"stdout sha256 {str(parsed['stdout_sha256'])[:12]}…, "
                f"{parsed.get('stdout_bytes', '?')} bytes"
            )
        if "error" in parsed:
            parts.append(str(parsed["error"]))
        return f"{text} ({'; '.join(parts)})"
    return f"{text}: {detail}" if detail else text
