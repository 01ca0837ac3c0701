"""Server-side commands, run where the database is: `serve`, `token create|list|revoke`
and `demo`. They open the database directly (`--db`, else `COSIGNATORY_DATABASE_URL`).

The server stack (FastAPI, uvicorn, SQLAlchemy) is imported inside the commands that
need it, so that everyday remote commands start quickly.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cosignatory.cli.app import app
from cosignatory.cli.common import print_json, read_text
from cosignatory.config import load_settings
from cosignatory.core.durations import parse_duration
from cosignatory.core.errors import DomainError, ErrorCode, InputError
from cosignatory.core.policy import load_policy

if TYPE_CHECKING:
    from cosignatory.service import Service

__all__ = ["demo", "serve", "token_create", "token_list", "token_revoke"]

token_app = typer.Typer(
    help="Bearer tokens: each acts as one person (against the database).", no_args_is_help=True
)
app.add_typer(token_app, name="token", rich_help_panel="Server")

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: COSIGNATORY_DATABASE_URL).", metavar="URL"),
]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _service(db: str | None) -> Service:
    from cosignatory.service import Service  # noqa: PLC0415 - see the module docstring
    from cosignatory.storage.store import open_store  # noqa: PLC0415

    return Service(open_store(db or load_settings().database_url))


def publish_if_changed(service: Service, path: str, *, by: str) -> str:
    """Publish the policy file unless the version in force has the same text; say which."""
    text = read_text(path)
    digest = load_policy(text, filename=path).digest  # PolicyError lists every problem
    try:
        current = service.current_policy()
    except DomainError as e:
        if e.code is not ErrorCode.NO_POLICY:
            raise
    else:
        if current.digest == digest:
            return f"policy `{current.name}` v{current.version} from {path} is already in force"
    version = service.publish_policy(yaml_text=text, by=by, filename=path)
    return f"published {path} as policy `{version.name}` v{version.version}"


@app.command("serve", rich_help_panel="Server")
def serve(
    *,
    db: DbOpt = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy", help="Publish this policy file at start if it differs.", metavar="FILE"
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free port).")] = 8000,
    sweep_interval: Annotated[
        float,
        typer.Option("--sweep-interval", help="Seconds between expiry sweeps; 0 disables.", min=0),
    ] = 5.0,
    access_log: Annotated[bool, typer.Option(help="Log each request (never its token).")] = True,
) -> None:
    """Run the HTTP API and the web inbox (uvicorn) over the database."""
    from cosignatory.api import ApiSettings, create_app  # noqa: PLC0415 - see module docstring
    from cosignatory.api.server import bind, run_server, url_of  # noqa: PLC0415
    from cosignatory.web import create_web_router  # noqa: PLC0415

    service = _service(db)
    if policy:
        _err().print(publish_if_changed(service, policy, by=load_settings().operator), markup=False)
    from cosignatory.config import load_web_secret  # noqa: PLC0415
    from cosignatory.web.settings import WebSettings  # noqa: PLC0415

    secret = load_web_secret()
    web_settings = WebSettings(secret_key=secret) if secret else WebSettings()
    web_app = create_app(
        service,
        ApiSettings(sweep_interval=sweep_interval),
        routers=[create_web_router(web_settings)],
    )
    sock = bind(host, port)
    _err().print(
        f"cosignatory: serving {url_of(sock)} over {service.store.describe()}; "
        f"web inbox: {url_of(sock)}/signin",
        markup=False,
    )
    try:
        run_server(web_app, sock, access_log=access_log)
    finally:
        sock.close()
        service.store.close()


@token_app.command("create")
def token_create(
    person: Annotated[str, typer.Argument(help="The person the token acts as.")],
    *,
    admin: Annotated[
        bool, typer.Option("--admin", help="May publish policies and cancel any order.")
    ] = False,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Lifetime, e.g. 30d or 12h.", metavar="DURATION")
    ] = None,
    label: Annotated[str, typer.Option("--label", help="A note: what the token is for.")] = "",
    db: DbOpt = None,
    as_json: AsJson = False,
) -> None:
    """Create a bearer token for PERSON and print it (it is shown only this once)."""
    try:
        lifetime = parse_duration(expires) if expires else None
    except ValueError as e:
        raise InputError(f"--expires: {e}") from e
    info, secret = _service(db).create_token(
        person=person, by=load_settings().operator, admin=admin, expires_in=lifetime, label=label
    )
    if as_json:
        print_json({**info.to_json(), "token": secret})
        return
    sys.stdout.write(secret + "\n")
    _err().print(
        f"token {info.id} for `{person}`" + (" (admin)" if admin else "") + "; it is shown only "
        "once; use it as `export COSIGNATORY_TOKEN=…`",
        markup=False,
    )


@token_app.command("list")
def token_list(*, db: DbOpt = None, as_json: AsJson = False) -> None:
    """List tokens (never their secrets)."""
    tokens = _service(db).list_tokens()
    if as_json:
        print_json([t.to_json() for t in tokens])
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("id", "person", "admin", "label", "created", "expires", "revoked"):
        table.add_column(column)
    for t in tokens:
        table.add_row(
            t.id,
            t.person,
            "yes" if t.is_admin else "",
            t.label,
            f"{t.created_at:%Y-%m-%d %H:%M} by {t.created_by}",
            f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "never",
            f"{t.revoked_at:%Y-%m-%d %H:%M} by {t.revoked_by}" if t.revoked_at else "",
        )
    Console(highlight=False).print(table if tokens else "no tokens")


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token id (`tok_…`), from `token list`.")],
    *,
    db: DbOpt = None,
) -> None:
    """Revoke a token; requests with it fail from now on."""
    _service(db).revoke_token(token_id=token_id, by=load_settings().operator)
    _err().print(f"revoked {token_id}", markup=False)


@app.command("demo", rich_help_panel="Server")
def demo(
    *,
    directory: Annotated[
        str, typer.Option("--dir", help="Where the demo database lives (wiped first).")
    ] = ".demo",
    policy: Annotated[
        str, typer.Option("--policy", help="The policy to publish.", metavar="FILE")
    ] = "examples/field-command/policy.yaml",
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """The embedded demo: fresh database, example policy, a token per person, the server.

    Prints, for each person, the lines to act as them from a second terminal.
    """
    from cosignatory.cli.demo import run_demo  # noqa: PLC0415 - see the module docstring

    run_demo(directory=directory, policy_path=policy, host=host, port=port)
