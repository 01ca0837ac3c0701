"""`cosignatory policy check|evaluate`: the pure engine, offline, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from cosignatory.cli.app import policy_app
from cosignatory.cli.common import print_json, read_json, read_policy
from cosignatory.cli.render import render_decision
from cosignatory.core.errors import PolicyError
from cosignatory.core.policy import evaluate
from cosignatory.core.policy.inputs import parse_evaluate_request

__all__ = ["check", "evaluate_cmd"]


@policy_app.command("check")
def check(
    files: Annotated[list[str], typer.Argument(help="Policy files to validate.")],
) -> int:
    """Validate policy files; print every error as FILE:LINE:COL: message."""
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    failed = False
    for path in files:
        try:
            policy = read_policy(path)
        except PolicyError as e:
            failed = True
            for issue in e.issues:
                err.print(str(issue), markup=False)
            continue
        out.print(
            f"{path}: ok (policy `{policy.name}`, {len(policy.people)} people, "
            f"{len(policy.actions)} actions, {len(policy.rules)} rules)",
            markup=False,
        )
    return 1 if failed else 0


@policy_app.command("evaluate")
def evaluate_cmd(
    file: Annotated[str, typer.Argument(help="Policy file.")],
    input_path: Annotated[
        str, typer.Option("--input", "-i", help="Order JSON file, or `-` for stdin.")
    ] = "-",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> int:
    """Decide one order (with its reviews) under a policy, and explain the decision."""
    policy = read_policy(file)
    request = parse_evaluate_request(read_json(input_path))
    now = request.at or datetime.now(UTC)
    decision = evaluate(policy, request.order, request.reviews, now)
    if as_json:
        print_json(decision.to_json())
    else:
        render_decision(
            Console(highlight=False),
            decision,
            title=f"{request.order.action} by {request.order.proposer}",
        )
    return 0
