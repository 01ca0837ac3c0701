"""`cosignatory policy analyze|diff` and `cosignatory forecast`: the analysis, offline.

Exit codes: 0 ok; 1 when `--fail-on` finds what it was told to fail on (or the order is
refused); 2 for bad input.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cosignatory.cli.app import app, policy_app
from cosignatory.cli.common import print_json, read_json, read_policy, read_text
from cosignatory.core.analysis import (
    METHOD,
    Finding,
    Forecast,
    PolicyAnalysis,
    PolicyDiff,
    ScenarioAnalysis,
    Severity,
    WhatIf,
    analyze_policy,
    apply_whatif,
    diff_analyses,
    forecast_order,
    format_span,
    load_availability,
)
from cosignatory.core.analysis.diff import Change
from cosignatory.core.analysis.whatif import parse_assignment
from cosignatory.core.durations import format_duration
from cosignatory.core.errors import InputError
from cosignatory.core.policy import Policy
from cosignatory.core.policy.inputs import parse_evaluate_request, parse_timestamp

__all__ = ["analyze_cmd", "diff_cmd", "forecast_cmd"]

_STYLE = {Severity.CRITICAL: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


class FailOn(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    NEVER = "never"


WithoutOpt = Annotated[
    list[str] | None,
    typer.Option("--without", help="What if PERSON is captured or absent (repeatable, or a,b,c)."),
]
GrantOpt = Annotated[
    list[str] | None, typer.Option("--grant", help="What if PERSON held ROLE too: `PERSON=ROLE`.")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="What if a setting changed: `proposer_may_approve=true`, `ttl=8h`."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
FailOpt = Annotated[
    FailOn, typer.Option("--fail-on", help="Exit 1 on findings of this severity or worse (CI).")
]


def _whatif(without: list[str] | None, grants: list[str] | None, sets: list[str] | None) -> WhatIf:
    people = tuple(p.strip() for item in without or [] for p in item.split(",") if p.strip())
    return WhatIf(
        without=people,
        grants=tuple(parse_assignment(g, "--grant") for g in grants or []),
        settings=tuple(parse_assignment(s, "--set") for s in sets or []),
    )


def _now(at: str | None) -> datetime:
    return parse_timestamp(at, "--at") if at is not None else datetime.now(UTC)


def _failing(findings: tuple[Finding, ...], fail_on: FailOn) -> bool:
    if fail_on is FailOn.NEVER:
        return False
    worst = Severity(fail_on.value)
    return any(f.severity.rank <= worst.rank for f in findings)


# -- policy analyze --------------------------------------------------------------------


def _people(n: int) -> str:
    return f"{n} person" if n == 1 else f"{n} people"


def _seats(sa: ScenarioAnalysis) -> str:
    if not sa.scenario.requirements:
        return "none (no confirmation needed)"
    return ", ".join(
        f"{x.role}×{x.count} (held by {', '.join(x.holders) or 'nobody'})" for x in sa.seats
    )


def _coalitions(sa: ScenarioAnalysis) -> str:
    c = sa.coalitions
    if c.size is None:
        return f"[bold red]none: deadlock[/]: {escape(sa.deadlock or 'search budget reached')}"
    groups = " · ".join(" + ".join(g) for g in c.listed)
    total = f"{c.total} in all" if c.total is not None else "more than listed"
    bound = " at most" if not c.exact else ""
    return f"[bold]{bound}{_people(c.size)}[/] ({total}): {escape(groups)}"


def _render_findings(console: Console, findings: tuple[Finding, ...]) -> None:
    if not findings:
        console.print("  no findings")
        return
    for f in findings:
        where = "; ".join(str(p) for p in f.places)
        console.print(
            f"  [{_STYLE[f.severity]}]{f.severity.value:<8}[/] [bold]{escape(f.kind.value)}[/]"
            f" [dim]in {escape(where)}[/]"
        )
        console.print(f"           {escape(f.message)}")


def _render_scenario(console: Console, sa: ScenarioAnalysis, *, weakest: bool) -> None:
    s = sa.scenario
    tag = " [bold magenta]← weakest[/]" if weakest else ""
    console.print(f"  [bold]{escape(' + '.join(s.rule_ids))}[/]{tag}")
    console.print(f"      seats: {escape(_seats(sa))}")
    console.print(f"      minimum coalition: {_coalitions(sa)}")
    if sa.blockers.absence:
        console.print(f"      needed by every coalition: {escape(', '.join(sa.blockers.absence))}")
    if sa.blockers.single_deny:
        console.print(f"      one deny blocks it: {escape(', '.join(sa.blockers.single_deny))}")
    for t in sa.blockers.thresholds:
        if t.denials > 1:
            console.print(
                f"      any {t.denials} denials reject it (rule {escape(t.rule)}): "
                f"{escape(', '.join(t.eligible))}"
            )
    ex = s.example
    params = ", ".join(f"{k}={v!r}" for k, v in ex.params.items())
    who = f" by {ex.proposer}" if ex.proposer else " (nobody may propose it)"
    console.print(f"      [dim]example: {escape(ex.action)}({escape(params)}){escape(who)}[/]")


def render_analysis(console: Console, analysis: PolicyAnalysis) -> None:
    head = f"[bold]policy `{escape(analysis.policy)}`[/] [dim]{analysis.digest[:19]}…[/]"
    if analysis.changes:
        head += " — what if: " + escape("; ".join(analysis.changes))
    console.print(head)
    counts = " · ".join(f"[{_STYLE[s]}]{analysis.count(s)} {s.value}[/]" for s in Severity)
    console.print(f"findings: {counts}")
    _render_findings(console, analysis.findings)
    for aa in analysis.actions:
        weakest = aa.weakest
        e = aa.exploration
        how = "every candidate combination" if e.exhaustive else "sampled"
        console.print()
        console.print(
            f"[bold underline]action {escape(aa.action)}[/]: {len(aa.scenarios)} "
            f"combination(s) of rules in {e.orders_tried} generated order(s) ({how})"
        )
        for note in e.notes:
            console.print(f"  {escape(note)}")
        for sa in aa.scenarios:
            _render_scenario(console, sa, weakest=sa is weakest and len(aa.scenarios) > 1)
        if e.condition_errors:
            console.print(
                f"  [dim]{e.refusals.get('condition_error', 0)} generated order(s) "
                "refused by a failing condition (fail closed)[/]"
            )
    console.print()
    console.print(f"[dim]note: {escape(METHOD)}.[/]")


@policy_app.command("analyze")
def analyze_cmd(  # noqa: PLR0917  (Typer maps each parameter to an option)
    file: Annotated[str, typer.Argument(help="Policy file.")],
    as_json: JsonOpt = False,
    without: WithoutOpt = None,
    grant: GrantOpt = None,
    set_: SetOpt = None,
    cap: Annotated[
        int, typer.Option("--cap", min=1, help="Coalitions listed per combination.")
    ] = 10,
    max_orders: Annotated[
        int, typer.Option("--max-orders", min=1, help="Orders sampled per action.")
    ] = 256,
    at: Annotated[
        str | None, typer.Option("--at", help="Instant conditions see as `now` (RFC 3339).")
    ] = None,
    fail_on: FailOpt = FailOn.NEVER,
) -> int:
    """Who could act alone, who can block, which seats deadlock — per action."""
    policy, changes = apply_whatif(read_policy(file), _whatif(without, grant, set_))
    analysis = analyze_policy(policy, now=_now(at), cap=cap, max_orders=max_orders, changes=changes)
    if as_json:
        print_json(analysis.to_json())
    else:
        render_analysis(Console(highlight=False), analysis)
    return 1 if _failing(analysis.findings, fail_on) else 0


# -- policy diff -----------------------------------------------------------------------


def _size(n: int | None) -> str:
    return "deadlock" if n is None else str(n)


def render_diff(console: Console, diff: PolicyDiff) -> None:
    console.print(
        f"[bold]policy diff[/] `{escape(diff.old.policy)}` {diff.old.digest[:19]}… → "
        f"`{escape(diff.new.policy)}` {diff.new.digest[:19]}…"
    )
    changed = [a for a in diff.actions if a.change is not Change.SAME]
    if not changed and not diff.findings_added and not diff.findings_removed:
        console.print("  no change to coalitions, blockers or findings")
        return
    for a in changed:
        arrow = f"weakest {_size(a.old_weakest)} → {_size(a.new_weakest)} people"
        worse = a.new_weakest is not None and (
            a.old_weakest is None or a.new_weakest < a.old_weakest
        )
        style = "bold red" if worse else "bold"
        console.print(f"[{style}]action {escape(a.action)}[/] ({a.change.value}): {arrow}")
        for c in a.combinations:
            if c.change is Change.SAME:
                continue
            bits = [f"min coalition {_size(c.old_size)} → {_size(c.new_size)}"]
            for label, gained, lost in (
                ("solo power", c.solo_gained, c.solo_lost),
                ("single point of failure", c.blockers_gained, c.blockers_lost),
                ("single deny", c.single_deny_gained, c.single_deny_lost),
            ):
                if gained:
                    bits.append(f"+{label}: {', '.join(gained)}")
                if lost:
                    bits.append(f"-{label}: {', '.join(lost)}")
            console.print(
                f"  {c.change.value:<8} {escape(', '.join(c.rules))}: {escape('; '.join(bits))}"
            )
    for title, items in (
        ("new findings", diff.findings_added),
        ("resolved findings", diff.findings_removed),
    ):
        if items:
            console.print(f"[bold]{title}[/]")
            _render_findings(console, items)


@policy_app.command("diff")
def diff_cmd(
    old: Annotated[str, typer.Argument(help="The policy as it is.")],
    new: Annotated[str, typer.Argument(help="The policy as proposed.")],
    as_json: JsonOpt = False,
    at: Annotated[str | None, typer.Option("--at", help="Instant conditions see as `now`.")] = None,
    fail_on: FailOpt = FailOn.NEVER,
) -> int:
    """What a policy change does to coalitions, solo power and blockers, action by action."""
    now = _now(at)
    diff = diff_analyses(
        analyze_policy(read_policy(old), now=now), analyze_policy(read_policy(new), now=now)
    )
    if as_json:
        print_json(diff.to_json())
    else:
        render_diff(Console(highlight=False), diff)
    return 1 if _failing(diff.findings_added, fail_on) else 0


# -- forecast --------------------------------------------------------------------------


def _share(items: tuple[tuple[str, float], ...]) -> str:
    return f"{items[0][0]} ({items[0][1]:.0%})" if items else "-"


def render_forecasts(console: Console, forecasts: list[Forecast], notes: list[str]) -> None:
    first = forecasts[0]
    seats = ", ".join(f"{r.role}×{r.count}" for r in first.requirements) or "none"
    console.print(
        f"[bold]forecast[/]: {escape(first.action)} proposed by `{escape(first.proposer)}`; "
        f"rules {escape(', '.join(first.rules))}; seats {escape(seats)}; "
        f"ttl {format_duration(first.ttl)}; {first.runs:,} runs, seed {first.seed}"
    )
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("availability", "P(expires)", "p50", "p90", "p99", "waited for last"):
        left = name in ("availability", "waited for last")
        table.add_column(name, justify="left" if left else "right")
    for f in forecasts:
        table.add_row(
            escape(f.label),
            f"{f.p_expired:.1%} ±{1.96 * f.standard_error:.1%}",
            *(format_span(f.quantile(q).value, never="expired") for q in ("p50", "p90", "p99")),
            escape(_share(f.bottleneck)),
        )
    console.print(table)
    seat_table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("availability", "seat", "eligible", "filled, p50", "unfilled at ttl"):
        seat_table.add_column(name, justify="left" if name in ("availability", "seat") else "right")
    for f in forecasts:
        for i, s in enumerate(f.seats):
            seat_table.add_row(
                escape(f.label) if i == 0 else "",
                escape(f"{s.role}×{s.count}"),
                str(s.eligible),
                format_span(s.p50, never="after ttl"),
                f"{s.p_unfilled:.1%}",
            )
    if first.requirements:
        console.print(seat_table)
    for f in forecasts:
        if f.expiry_cause and len(f.requirements) > 1:
            console.print(
                f"[dim]{escape(f.label)}: when it expires, the seat(s) still missing are "
                f"most often {escape(_share(f.expiry_cause))}[/]"
            )
    console.print("[dim]95% intervals of the quantiles are in --json output[/]")
    for note in notes:
        console.print(f"[dim]note: {escape(note)}[/]")


@app.command("forecast")
def forecast_cmd(  # noqa: PLR0917  (Typer maps each parameter to an option)
    file: Annotated[str, typer.Argument(help="Policy file.")],
    order_path: Annotated[
        str, typer.Option("--order", help="Order JSON (as for `policy evaluate`).")
    ],
    availability: Annotated[
        list[str], typer.Option("--availability", help="Availability YAML (repeat to compare).")
    ],
    runs: Annotated[int, typer.Option("--runs", min=1, help="Monte Carlo runs.")] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same forecast.")] = 0,
    plot: Annotated[
        str | None, typer.Option("--plot", help="Write the CDF plot to this PNG.")
    ] = None,
    as_json: JsonOpt = False,
    without: WithoutOpt = None,
    grant: GrantOpt = None,
    set_: SetOpt = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="With a what-if: forecast the unchanged policy too.")
    ] = False,
) -> int:
    """Monte Carlo time to approval: p50/p90/p99, P(expire), the seat waited for."""
    base = read_policy(file)
    edits = _whatif(without, grant, set_)
    if compare and edits.empty:
        raise InputError("--compare needs a what-if (--without, --grant or --set) to compare with")
    edited, changes = apply_whatif(base, edits)
    request = parse_evaluate_request(read_json(order_path))
    now = request.at or request.order.created_at or datetime.now(UTC)
    notes = []
    if request.reviews:
        notes.append(
            f"{len(request.reviews)} review(s) in the order file are ignored: "
            "the forecast starts from a fresh proposal"
        )
    notes.append(
        "denials and vetoes are not modelled: this is the time to approval "
        "when everyone who responds approves"
    )
    variants: list[tuple[Policy, str]] = [(edited, "; ".join(changes))]
    if compare:
        variants.insert(0, (base, ""))
    forecasts = []
    for path in availability:
        model = load_availability(read_text(path), filename=path, policy=base)
        for policy, change in variants:
            label = model.name + (f" · {change}" if change else "")
            forecasts.append(
                forecast_order(
                    policy, request.order, model, now=now, runs=runs, seed=seed, label=label
                )
            )
    if plot is not None:
        # Lazy: importing matplotlib costs ~1 s, paid only when a plot is asked for.
        from cosignatory.plots import plot_forecasts  # noqa: PLC0415

        plot_forecasts(forecasts, plot)
        notes.append(f"plot written to {plot}")
    if as_json:
        print_json({"forecasts": [f.to_json() for f in forecasts], "notes": notes})
    else:
        render_forecasts(Console(highlight=False), forecasts, notes)
    return 0
