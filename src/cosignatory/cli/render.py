"""Human-readable rendering of decisions (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from cosignatory.core.policy import Decision, DecisionStatus

__all__ = ["render_decision"]

_STATUS_STYLE = {
    DecisionStatus.APPROVED: "bold green",
    DecisionStatus.PENDING: "bold yellow",
    DecisionStatus.REJECTED: "bold red",
    DecisionStatus.EXPIRED: "bold magenta",
    DecisionStatus.REFUSED: "bold red",
}


def render_decision(console: Console, decision: Decision, *, title: str = "") -> None:
    style = _STATUS_STYLE[decision.status]
    head = f"[{style}]{decision.status.value}[/]"
    if title:
        head = f"{title}: {head}"
    console.print(head)
    if decision.error is not None:
        console.print(
            f"  refused ([bold]{decision.error.code.value}[/]): {decision.error.message}",
            highlight=False,
        )
        return
    console.print(f"  matched rules: {', '.join(decision.matched_rules)}", highlight=False)
    if decision.seats:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column("seat")
        table.add_column("need", justify="right")
        table.add_column("filled by")
        table.add_column("could still fill")
        for seat in decision.seats:
            table.add_row(
                seat.role,
                str(seat.count),
                ", ".join(seat.filled_by) or "-",
                ", ".join(seat.eligible) if seat.missing else "",
            )
        console.print(table)
    if decision.vetoers:
        console.print(f"  may veto: {', '.join(decision.vetoers)}", highlight=False)
    for reason in decision.reasons:
        console.print(f"  - {reason}", highlight=False, markup=False)
