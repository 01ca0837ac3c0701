"""`cosignatory order …`: the order lifecycle run directly against the database.

For administrators and tests (no server): `--as PERSON` says who acts, and nothing
checks that you are that person, so keep the database file to yourself. Everyday use
goes through the server and its token-authenticated commands (`cosignatory propose …`).

    order propose ACTION -p key=value… --as PERSON [--justification TEXT]
    order approve|deny ORDER --as PERSON [--comment TEXT]
    order cancel ORDER --as PERSON [--reason TEXT] [--admin]
    order show ORDER [--json]          order list [--state S] [--awaiting P] [--json]
    order claim ORDER --as PERSON      prints the single-use ticket
    order result ORDER --ticket T --outcome succeeded|failed [--detail TEXT]
    order expire                       sweep overdue orders
    order events [ORDER] [--json]      the event log (all, or one order's)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cosignatory.cli.app import app
from cosignatory.cli.common import print_json
from cosignatory.cli.db_cmds import AsJson, DbOpt, columns, open_service
from cosignatory.cli.params import parse_params
from cosignatory.core.errors import InputError
from cosignatory.core.lifecycle import OrderState

if TYPE_CHECKING:
    from cosignatory.service import OrderView

__all__ = [
    "approve",
    "cancel",
    "claim",
    "deny",
    "events",
    "expire",
    "list_orders",
    "order_app",
    "propose",
    "render_order",
    "result",
    "show",
]

order_app = typer.Typer(
    help="Propose, review, execute and inspect orders directly in the database (admin).",
    no_args_is_help=True,
)
app.add_typer(order_app, name="order", rich_help_panel="Local administration")

OrderArg = Annotated[str, typer.Argument(help="The order id (`ord_…`).", metavar="ORDER")]
AsPerson = Annotated[str, typer.Option("--as", help="The person acting.", metavar="PERSON")]

_STYLE = {
    OrderState.PENDING: "bold yellow",
    OrderState.APPROVED: "bold green",
    OrderState.EXECUTING: "bold cyan",
    OrderState.EXECUTED: "bold green",
    OrderState.FAILED: "bold red",
    OrderState.REJECTED: "bold red",
    OrderState.EXPIRED: "bold magenta",
    OrderState.CANCELLED: "dim",
}


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else "-"


def render_order(console: Console, order: OrderView) -> None:
    """A human view of one order: what, state, seats, reviews, and why."""
    console.print(
        f"[bold]{order.id}[/]  [{_STYLE[order.state]}]{order.state.value}[/]  "
        f"{order.action} by {order.proposer}"
    )
    params = ", ".join(f"{k}={v!r}" for k, v in order.params.items()) or "(no params)"
    console.print(f"  params: {params}", markup=False)
    if order.justification:
        console.print(f"  justification: {order.justification}", markup=False)
    console.print(
        f"  created {_when(order.created_at)}, pending until {_when(order.expires_at)}; "
        f"policy v{order.policy_version}; rules: {', '.join(order.matched_rules)}",
        markup=False,
    )
    if order.approved_at is not None:
        console.print(
            f"  approved {_when(order.approved_at)}, executable until {_when(order.execute_by)}",
            markup=False,
        )
    if order.seats:
        pending = order.state is OrderState.PENDING
        rows = [
            (
                seat.role,
                str(seat.count),
                ", ".join(seat.filled_by) or "-",
                ", ".join(seat.eligible) if seat.missing and pending else "",
            )
            for seat in order.seats
        ]
        table = columns(("seat", "need", "filled by", "could still fill"), rows)
        console.print("\n".join("  " + line for line in table.splitlines()), markup=False)
    if order.vetoers and order.state is OrderState.PENDING:
        console.print(f"  may veto: {', '.join(order.vetoers)}", markup=False)
    for review in order.reviews:
        filled = f" ({review.seat})" if review.seat else ""
        note = f" [{review.note}]" if review.note else ""
        comment = f": {review.comment}" if review.comment else ""
        who = f"{review.decision.value} by {review.reviewer}{filled}"
        console.print(f"  {who} at {_when(review.at)}{comment}{note}", markup=False)
    if order.claimed_by:
        console.print(f"  claimed by {order.claimed_by} at {_when(order.claimed_at)}", markup=False)
    if order.outcome is not None:
        detail = f": {order.outcome_detail}" if order.outcome_detail else ""
        console.print(
            f"  outcome {order.outcome.value} at {_when(order.executed_at)}{detail}", markup=False
        )
    for reason in order.reasons:
        console.print(f"  - {reason}", markup=False)
    console.print(f"  digest {order.digest}", markup=False)


def _show(order: OrderView, as_json: bool) -> None:
    if as_json:
        print_json(order.to_json())
    else:
        render_order(_out(), order)


@order_app.command("propose")
def propose(
    action: Annotated[str, typer.Argument(help="The action, as declared in the policy.")],
    *,
    by: AsPerson,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="key=value; the value is JSON when it parses (1500, true), else text.",
            metavar="KEY=VALUE",
        ),
    ] = None,
    justification: Annotated[
        str, typer.Option("--justification", "-j", help="Why this order should take effect.")
    ] = "",
    db: DbOpt = None,
    as_json: AsJson = False,
) -> None:
    """Propose an order; it is refused (exit 1) unless a rule of the policy authorizes it."""
    params = parse_params(param or [])
    service = open_service(db)
    try:
        order = service.propose(
            action=action, params=params, proposer=by, justification=justification
        )
    finally:
        service.store.close()
    _show(order, as_json)


def _review(
    order_id: str, *, by: str, comment: str, db: str | None, as_json: bool, approve: bool
) -> None:
    from cosignatory.service import ReviewDecision  # noqa: PLC0415 - keep startup light

    decision = ReviewDecision.APPROVE if approve else ReviewDecision.DENY
    service = open_service(db)
    try:
        order = service.review(order_id=order_id, reviewer=by, decision=decision, comment=comment)
    finally:
        service.store.close()
    _show(order, as_json)


Comment = Annotated[str, typer.Option("--comment", "-c", help="Why.")]


@order_app.command("approve")
def approve(
    order_id: OrderArg,
    by: AsPerson,
    comment: Comment = "",
    db: DbOpt = None,
    as_json: AsJson = False,
) -> None:
    """Approve an order (fills a seat you are eligible for)."""
    _review(order_id, by=by, comment=comment, db=db, as_json=as_json, approve=True)


@order_app.command("deny")
def deny(
    order_id: OrderArg,
    by: AsPerson,
    comment: Comment = "",
    db: DbOpt = None,
    as_json: AsJson = False,
) -> None:
    """Deny an order (a veto if you hold a veto role)."""
    _review(order_id, by=by, comment=comment, db=db, as_json=as_json, approve=False)


@order_app.command("cancel")
def cancel(
    order_id: OrderArg,
    *,
    by: AsPerson,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why.")] = "",
    admin: Annotated[
        bool, typer.Option("--admin", help="Cancel as an administrator (any order).")
    ] = False,
    db: DbOpt = None,
    as_json: AsJson = False,
) -> None:
    """Cancel a pending or approved order (its proposer, or an administrator)."""
    service = open_service(db)
    try:
        order = service.cancel(order_id=order_id, by=by, reason=reason, as_admin=admin)
    finally:
        service.store.close()
    _show(order, as_json)


@order_app.command("show")
def show(order_id: OrderArg, db: DbOpt = None, as_json: AsJson = False) -> None:
    """Show one order: state, seats, reviews and why."""
    service = open_service(db)
    try:
        order = service.get_order(order_id)
    finally:
        service.store.close()
    _show(order, as_json)


@order_app.command("list")
def list_orders(
    *,
    state: Annotated[
        str | None,
        typer.Option("--state", help="Only orders in this state.", metavar="STATE"),
    ] = None,
    proposer: Annotated[
        str | None, typer.Option("--proposer", help="Only this proposer's.")
    ] = None,
    action: Annotated[str | None, typer.Option("--action", help="Only this action.")] = None,
    awaiting: Annotated[
        str | None,
        typer.Option("--awaiting", help="Only orders this person could still confirm or veto."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.", min=1, max=500)] = 50,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="Continue after a previous page.")
    ] = None,
    db: DbOpt = None,
    as_json: AsJson = False,
) -> None:
    """List orders, newest first."""
    try:
        wanted = OrderState(state) if state is not None else None
    except ValueError as e:
        choices = ", ".join(s.value for s in OrderState)
        raise InputError(f"`--state {state}` is not a state; use one of {choices}") from e
    service = open_service(db)
    try:
        items, next_cursor = service.list_orders(
            state=wanted,
            proposer=proposer,
            action=action,
            awaiting=awaiting,
            limit=limit,
            cursor=cursor,
        )
    finally:
        service.store.close()
    if as_json:
        print_json({"items": [o.to_json() for o in items], "next_cursor": next_cursor})
        return
    out = _out()
    if not items:
        out.print("no orders", markup=False)
        return
    rows = [
        (
            o.id,
            o.state.value,
            o.action,
            o.proposer,
            _when(o.created_at),
            ", ".join(f"{m.count} {m.role}" for m in o.missing) if o.is_open else "",
        )
        for o in items
    ]
    headers = ("id", "state", "action", "proposer", "created", "missing")
    out.print(columns(headers, rows), markup=False)
    if next_cursor:
        out.print(f"more: --cursor {next_cursor}", markup=False)


@order_app.command("claim")
def claim(order_id: OrderArg, by: AsPerson, db: DbOpt = None, as_json: AsJson = False) -> None:
    """Claim the single-use execution ticket of an approved order (prints it)."""
    service = open_service(db)
    try:
        order, ticket = service.claim(order_id=order_id, by=by)
    finally:
        service.store.close()
    if as_json:
        print_json({"order": order.to_json(), "ticket": ticket})
        return
    _out().print(f"claimed {order.id} for {by}; ticket (shown once):", markup=False)
    _out().print(ticket, markup=False)


@order_app.command("result")
def result(
    order_id: OrderArg,
    *,
    ticket: Annotated[str, typer.Option("--ticket", help="The ticket from `order claim`.")],
    outcome: Annotated[
        str, typer.Option("--outcome", help="succeeded or failed.", metavar="succeeded|failed")
    ],
    detail: Annotated[str, typer.Option("--detail", help="What happened.")] = "",
    db: DbOpt = None,
    as_json: AsJson = False,
) -> None:
    """Record how the execution of a claimed order went."""
    from cosignatory.service import Outcome  # noqa: PLC0415 - keep startup light

    try:
        chosen = Outcome(outcome)
    except ValueError as e:
        raise InputError(f"`--outcome {outcome}` is not a choice; use succeeded or failed") from e
    service = open_service(db)
    try:
        order = service.record_result(
            order_id=order_id, ticket=ticket, outcome=chosen, detail=detail
        )
    finally:
        service.store.close()
    _show(order, as_json)


@order_app.command("expire")
def expire(db: DbOpt = None, as_json: AsJson = False) -> None:
    """Expire every order past its deadline (what the server's sweeper does)."""
    service = open_service(db)
    try:
        expired = service.expire_due()
    finally:
        service.store.close()
    if as_json:
        print_json({"expired": expired})
        return
    _out().print(f"expired {len(expired)} order(s)", markup=False)
    for order_id in expired:
        _out().print(f"  {order_id}", markup=False)


@order_app.command("events")
def events(
    order_id: Annotated[
        str | None, typer.Argument(help="Only this order's events.", metavar="[ORDER]")
    ] = None,
    start: Annotated[int, typer.Option("--start", help="From this sequence number.", min=0)] = 0,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.", min=1)] = 1000,
    db: DbOpt = None,
    as_json: AsJson = False,
) -> None:
    """The event log: every state change, in order (the audit log is built over it)."""
    service = open_service(db)
    try:
        found = service.events(order_id=order_id, start=start, limit=limit)
    finally:
        service.store.close()
    if as_json:
        print_json([e.to_json() for e in found])
        return
    out = _out()
    for e in found:
        out.print(
            f"{e.seq:>6}  {_when(e.at)}  {e.kind.value:<17} {e.actor:<14} {e.subject}", markup=False
        )
