"""The Typer application objects; command modules attach themselves to these."""

from __future__ import annotations

import typer

__all__ = ["app", "policy_app"]

app = typer.Typer(
    name="cosignatory",
    help="No order takes effect until its cosignatories confirm it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policy_app = typer.Typer(
    help="Check, evaluate and analyze policy files (no database).", no_args_is_help=True
)
app.add_typer(policy_app, name="policy")
