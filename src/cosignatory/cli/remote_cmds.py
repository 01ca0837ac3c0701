"""Everyday commands against a server: propose, approve, deny, cancel, show, list,
execute, result and run. They talk HTTP through `cosignatory.client`, configured by
`COSIGNATORY_URL` and `COSIGNATORY_TOKEN` (read in `config.py`); the token says who you
are. Errors reach `cli.main` as `CosignatoryError`s carrying the server's code.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from cosignatory.cli.app import app
from cosignatory.cli.common import print_json
from cosignatory.cli.params import parse_params
from cosignatory.cli.remote_run import run_approved, wait_for_decision
from cosignatory.cli.remote_view import render_order, render_orders
from cosignatory.client import Client, Order
from cosignatory.config import load_remote_settings
from cosignatory.core.durations import parse_duration
from cosignatory.core.errors import InputError

__all__ = [
    "approve",
    "cancel",
    "deny",
    "execute",
    "list_cmd",
    "propose",
    "result",
    "run",
    "show",
]

AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
OrderArg = Annotated[str, typer.Argument(help="The order id (`ord_…`).", metavar="ORDER")]
ParamsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        help="A parameter as key=value; the value is JSON when it parses (1500, true), else text.",
        metavar="KEY=VALUE",
    ),
]
JustificationOpt = Annotated[
    str, typer.Option("--justification", "-j", help="Why this order should take effect.")
]


def _client() -> Client:
    settings = load_remote_settings()
    if not settings.token:
        raise InputError(
            "COSIGNATORY_TOKEN is not set; export the token printed by "
            "`cosignatory token create YOU` (and COSIGNATORY_URL if the server is not "
            f"at {settings.url})"
        )
    return Client(settings.url, settings.token)


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _show(order: Order, as_json: bool) -> None:
    if as_json:
        print_json(order.model_dump(mode="json"))
    else:
        render_order(_out(), order)


@app.command("propose", rich_help_panel="Orders (remote)")
def propose(
    action: Annotated[str, typer.Argument(help="An action of the policy, e.g. `move`.")],
    param: ParamsOpt = None,
    justification: JustificationOpt = "",
    as_json: AsJson = False,
) -> None:
    """Propose an order; it stays inert until its cosignatories confirm it."""
    params = parse_params(param or [])
    with _client() as client:
        order = client.propose(action, params, justification=justification)
    _show(order, as_json)


@app.command("approve", rich_help_panel="Orders (remote)")
def approve(
    order_id: OrderArg,
    comment: Annotated[str, typer.Option("--comment", "-c", help="Why you confirm it.")] = "",
    as_json: AsJson = False,
) -> None:
    """Confirm an order: fill a seat you are eligible for."""
    with _client() as client:
        _show(client.approve(order_id, comment=comment), as_json)


@app.command("deny", rich_help_panel="Orders (remote)")
def deny(
    order_id: OrderArg,
    # Checked below rather than required by Typer, so that leaving it out is a clear message.
    comment: Annotated[
        str, typer.Option("--comment", "-c", help="Why you deny it (required).")
    ] = "",
    as_json: AsJson = False,
) -> None:
    """Deny an order; a holder of a veto role rejects it at once."""
    if not comment.strip():
        raise InputError("say why with `--comment`; a denial without a reason helps nobody")
    with _client() as client:
        _show(client.deny(order_id, comment=comment), as_json)


@app.command("cancel", rich_help_panel="Orders (remote)")
def cancel(
    order_id: OrderArg,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it is withdrawn.")] = "",
    as_json: AsJson = False,
) -> None:
    """Withdraw an order (its proposer, or an administrator)."""
    with _client() as client:
        _show(client.cancel(order_id, reason=reason), as_json)


@app.command("show", rich_help_panel="Orders (remote)")
def show(order_id: OrderArg, as_json: AsJson = False) -> None:
    """Show an order: its seats, who filled them, who could still, and why."""
    with _client() as client:
        _show(client.get_order(order_id), as_json)


@app.command("list", rich_help_panel="Orders (remote)")
def list_cmd(
    *,
    awaiting_me: Annotated[
        bool, typer.Option("--awaiting-me", help="Only orders you could still confirm or veto.")
    ] = False,
    state: Annotated[str | None, typer.Option("--state", help="pending, approved, …")] = None,
    proposer: Annotated[str | None, typer.Option("--proposer")] = None,
    action: Annotated[str | None, typer.Option("--action")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    as_json: AsJson = False,
) -> None:
    """List orders, newest first."""
    with _client() as client:
        page = client.list_orders(
            state=state, proposer=proposer, action=action, awaiting_me=awaiting_me, limit=limit
        )
    if as_json:
        print_json(page.model_dump(mode="json"))
        return
    render_orders(_out(), page.items)
    if page.next_cursor is not None:
        _err().print(f"(more than {limit}; pass --limit to see more)")


@app.command("execute", rich_help_panel="Orders (remote)")
def execute(order_id: OrderArg, as_json: AsJson = False) -> None:
    """Claim the single-use ticket of an approved order and print it.

    Record the outcome afterwards with `cosignatory result ORDER --ticket T --outcome …`,
    or let `cosignatory run` do all of it around a command.
    """
    with _client() as client:
        claimed = client.execute(order_id)
    if as_json:
        print_json(claimed.model_dump(mode="json"))
        return
    sys.stdout.write(claimed.ticket + "\n")
    _err().print(
        f"{order_id}: executing; when done, record it with `cosignatory result {order_id} "
        "--ticket TICKET --outcome succeeded|failed`"
    )


@app.command("result", rich_help_panel="Orders (remote)")
def result(
    order_id: OrderArg,
    ticket: Annotated[str, typer.Option("--ticket", help="The ticket `execute` printed.")],
    outcome: Annotated[str, typer.Option("--outcome", help="succeeded or failed.")],
    detail: Annotated[str, typer.Option("--detail", help="What happened.")] = "",
    as_json: AsJson = False,
) -> None:
    """Record how an executed order went (needs its ticket)."""
    if outcome not in ("succeeded", "failed"):
        raise InputError(f"`{outcome}` is not an outcome; use `succeeded` or `failed`")
    with _client() as client:
        _show(
            client.record_result(order_id, ticket=ticket, outcome=outcome, detail=detail), as_json
        )


@app.command(
    "run",
    rich_help_panel="Orders (remote)",
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
)
def run(
    *,
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="ORDER -- COMMAND…, or with --propose just -- COMMAND…",
            metavar="[ORDER] -- COMMAND…",
        ),
    ] = None,
    propose_action: Annotated[
        str | None, typer.Option("--propose", help="Propose this action first.", metavar="ACTION")
    ] = None,
    param: ParamsOpt = None,
    justification: JustificationOpt = "",
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait (with a live view of seats) until it is decided.")
    ] = False,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Give up waiting after this long (e.g. 30m).")
    ] = "30m",
    poll: Annotated[float, typer.Option("--poll", help="Seconds between checks.", min=0.05)] = 1.0,
) -> int:
    """Run COMMAND only with a claimed ticket, and record its exit status and output digest.

    Nothing runs unless the order is approved: a pending, rejected or expired order is
    refused before COMMAND starts. Exits with COMMAND's exit status.
    """
    words = list(args or [])
    order_id: str | None = None
    if propose_action is None:
        if not words or words[0] == "--":
            raise InputError(
                "name the order: `cosignatory run ORDER -- COMMAND…` (or use --propose ACTION)"
            )
        order_id, words = words[0], words[1:]
        if param or justification:
            raise InputError("-p and --justification only go with --propose")
    if words and words[0] == "--":
        words = words[1:]
    if not words:
        usage = "--propose ACTION [-p KEY=VALUE…] --wait" if order_id is None else "ORDER"
        raise InputError(
            f"give the order and the command: `cosignatory run {usage} -- COMMAND…`, "
            "e.g. `-- ./deploy.sh prod`"
        )
    try:
        limit = parse_duration(timeout).total_seconds()
    except ValueError as e:
        raise InputError(f"--timeout: {e}") from e
    err = _err()
    with _client() as client:
        if order_id is None:
            order = client.propose(
                propose_action or "", parse_params(param or []), justification=justification
            )
            err.print(f"proposed {order.id} ({order.action}): {order.state}")
            order_id = order.id
            if not wait and order.state != "approved":
                err.print(
                    f"{order_id} is not approved yet, so nothing ran; wait for it with "
                    f"`--wait`, or run it once approved with `cosignatory run {order_id} -- …`"
                )
                return 1
        if wait:
            decided = wait_for_decision(client, order_id, timeout=limit, poll=poll, console=err)
            if decided.state != "approved":
                return 1
        return run_approved(client, order_id, words, console=err)
