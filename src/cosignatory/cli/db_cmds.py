"""Local administration against the database (`--db`, else `COSIGNATORY_DATABASE_URL`):

    cosignatory db upgrade                     create or migrate the schema
    cosignatory db status                      schema revision, orders by state, events
    cosignatory policy publish FILE [--in-flight keep|reevaluate|void] [--as PERSON]
    cosignatory policy history [--json]        every published version

The database stack is imported inside the commands, so that other commands start fast.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cosignatory.cli.app import app, policy_app
from cosignatory.cli.common import print_json, read_text
from cosignatory.config import load_settings

if TYPE_CHECKING:
    from cosignatory.service import Service

__all__ = [
    "columns",
    "db_app",
    "db_status",
    "db_upgrade",
    "open_service",
    "policy_history",
    "publish",
]

db_app = typer.Typer(
    help="Create, migrate and inspect the database (local administration).", no_args_is_help=True
)
app.add_typer(db_app, name="db", rich_help_panel="Local administration")

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: COSIGNATORY_DATABASE_URL, else sqlite:///cosignatory.db).",
        metavar="URL",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def database_url(db: str | None) -> str:
    return db or load_settings().database_url


def open_service(db: str | None) -> Service:
    """A `Service` over an existing, migrated database (else a clear error with the fix)."""
    from cosignatory.service import Service  # noqa: PLC0415 - see the module docstring
    from cosignatory.storage import open_store  # noqa: PLC0415

    return Service(open_store(database_url(db)))


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def columns(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain, never-wrapped text table (pipes and narrow terminals keep it whole)."""
    table = [list(headers), *(list(r) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table]
    return "\n".join(line.rstrip() for line in lines)


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """Create the schema, or migrate it to this version's (safe to run again)."""
    from cosignatory.storage import open_store  # noqa: PLC0415
    from cosignatory.storage.migrate import current_revision, upgrade  # noqa: PLC0415

    store = open_store(database_url(db), create=True, check_schema=False)
    try:
        with store.engine.connect() as conn:
            before = current_revision(conn)
        after = upgrade(store)
    finally:
        store.close()
    where = store.describe()
    if before == after:
        _out().print(f"{where}: schema already at revision {after}", markup=False)
    else:
        _out().print(f"{where}: schema migrated {before or 'empty'} → {after}", markup=False)


@db_app.command("status")
def db_status(db: DbOpt = None, as_json: AsJson = False) -> None:
    """Schema revision, policy version in force, orders by state and events logged."""
    from cosignatory.core.errors import DomainError, ErrorCode  # noqa: PLC0415
    from cosignatory.storage.events import event_count  # noqa: PLC0415
    from cosignatory.storage.migrate import current_revision  # noqa: PLC0415

    service = open_service(db)
    try:
        with service.store.begin_read() as conn:
            revision = current_revision(conn)
            events = event_count(conn)
        try:
            policy = service.current_policy()
            in_force: dict[str, object] | None = {
                "version": policy.version,
                "name": policy.name,
                "digest": policy.digest,
            }
        except DomainError as e:
            if e.code is not ErrorCode.NO_POLICY:
                raise
            in_force = None
        counts = service.count_orders_by_state()
    finally:
        service.store.close()
    status = {
        "database": service.store.describe(),
        "revision": revision,
        "policy": in_force,
        "orders": counts,
        "events": events,
    }
    if as_json:
        print_json(status)
        return
    out = _out()
    out.print(f"database  {status['database']} (schema {revision})", markup=False)
    if in_force is None:
        out.print("policy    none published yet", markup=False)
    else:
        out.print(
            f"policy    `{in_force['name']}` v{in_force['version']} ({in_force['digest']})",
            markup=False,
        )
    nonzero = ", ".join(f"{n} {state}" for state, n in counts.items() if n) or "none"
    out.print(f"orders    {nonzero}", markup=False)
    out.print(f"events    {events}", markup=False)


@policy_app.command("publish")
def publish(
    file: Annotated[str, typer.Argument(help="Policy file to publish (`-` for stdin).")],
    *,
    in_flight: Annotated[
        str,
        typer.Option(
            "--in-flight",
            help="Pending orders: keep their version, reevaluate under this one, or void them.",
            metavar="keep|reevaluate|void",
        ),
    ] = "keep",
    by: Annotated[
        str | None,
        typer.Option("--as", help="Who publishes (default: COSIGNATORY_OPERATOR or $USER)."),
    ] = None,
    db: DbOpt = None,
    as_json: AsJson = False,
) -> None:
    """Publish a policy file as the next version (in the database)."""
    from cosignatory.core.errors import InputError  # noqa: PLC0415
    from cosignatory.service import InFlight  # noqa: PLC0415

    try:
        mode = InFlight(in_flight)
    except ValueError as e:
        raise InputError(
            f"`--in-flight {in_flight}` is not a choice; use keep, reevaluate or void"
        ) from e
    text = read_text(file)
    service = open_service(db)
    try:
        before = [v.version for v in service.policy_versions()]
        version = service.publish_policy(
            yaml_text=text, by=by or load_settings().operator, in_flight=mode, filename=file
        )
        events = service.events(subject=f"policy/{version.version}")
    finally:
        service.store.close()
    if as_json:
        print_json({"published": version.version not in before, **version.to_json()})
        return
    if version.version in before:
        _out().print(
            f"policy `{version.name}` v{version.version} already has this text; nothing published",
            markup=False,
        )
        return
    _out().print(
        f"published policy `{version.name}` as v{version.version} ({version.digest})", markup=False
    )
    for event in events:
        if event.kind.value == "policy:in_flight":
            results = Counter(str(entry.get("result")) for entry in event.payload["orders"])
            summary = ", ".join(f"{n} {r}" for r, n in sorted(results.items())) or "none"
            _out().print(f"pending orders ({mode.value}): {summary}", markup=False)


@policy_app.command("history")
def policy_history(db: DbOpt = None, as_json: AsJson = False) -> None:
    """Every published policy version, oldest first (in the database)."""
    service = open_service(db)
    try:
        versions = service.policy_versions()
    finally:
        service.store.close()
    if as_json:
        print_json([v.to_json() for v in versions])
        return
    rows = [
        (
            str(v.version),
            v.name,
            v.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            v.published_by,
            v.in_flight.value,
            v.digest,
        )
        for v in versions
    ]
    headers = ("version", "name", "published", "by", "in-flight", "digest")
    _out().print(columns(headers, rows), markup=False)
