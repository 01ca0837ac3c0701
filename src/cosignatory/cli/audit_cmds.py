"""`cosignatory audit …`: the log's key, signing, export, proofs, offline verification.

audit init-key [--name ORIGIN] [--out FILE]        new Ed25519 log key (file mode 0600)
audit key [--key-file FILE]                        print the verifier key auditors need
audit sign [--db URL] [--key-file FILE]            sign a checkpoint now
audit export [--db URL | --url URL] [--from N]     the log as JSON Lines, to stdout
audit verify LOG.jsonl --key KEY [--since CP]      exit 0 ok · 1 tampered · 2 bad input
audit prove ORDER [--db URL | --url URL]           an order's entries with inclusion proofs

The log's key comes from --key-file, else COSIGNATORY_AUDIT_KEY_FILE or
COSIGNATORY_AUDIT_KEY (`config.py`). `verify` is pure and needs no database.
"""

from __future__ import annotations

import base64
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from cosignatory.cli.app import app
from cosignatory.cli.common import print_json
from cosignatory.core.audit import (
    NoteFormatError,
    generate_key,
    parse_signer_key,
    parse_verifier_key,
)
from cosignatory.core.audit.verify import VerifyReport, verify_export
from cosignatory.core.errors import InputError

if TYPE_CHECKING:
    from cosignatory.cli.audit_sources import DatabaseLog, LogSource

__all__ = ["audit_app"]

audit_app = typer.Typer(
    help="The tamper-evident audit log: keys, export, offline verification, proofs.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")

EXIT_OK, EXIT_TAMPERED, EXIT_BAD_INPUT = 0, 1, 2
_PROGRESS_FROM = 8 << 20  # show progress for exports larger than 8 MB


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@audit_app.command("init-key")
def init_key(
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="The log's origin, a schema-less URL like `example.com/cosignatory` "
            "(default: `<hostname>/cosignatory`).",
        ),
    ] = None,
    out: Annotated[
        str,
        typer.Option("--out", help="Where to write the private key (mode 0600); `-` for stdout."),
    ] = "cosignatory-audit.key",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key file.")] = False,
) -> int:
    """Create the log's Ed25519 signing key; print the verifier key for auditors."""
    origin = name or f"{socket.gethostname().lower()}/cosignatory"
    try:
        signer, verifier = generate_key(origin)
    except NoteFormatError as e:
        raise InputError(f"`{origin}` cannot name a log: {e}") from e
    err = _err()
    if out == "-":
        sys.stdout.write(signer + "\n")
        err.print(f"verifier key (give it to auditors): {verifier}", markup=False)
        return EXIT_OK
    from cosignatory.service.audit_keys import write_key_file  # noqa: PLC0415

    write_key_file(Path(out), signer, replace=force)
    sys.stdout.write(verifier + "\n")
    err.print(
        f"wrote the signing key of log `{origin}` to `{out}` (mode 0600); keep it secret.\n"
        f"serve with COSIGNATORY_AUDIT_KEY_FILE={out}; the line above is the verifier key "
        "auditors pass to `cosignatory audit verify --key`.",
        markup=False,
    )
    return EXIT_OK


KeyFileOpt = Annotated[
    str | None,
    typer.Option(
        "--key-file",
        help="The log's private key file (default: COSIGNATORY_AUDIT_KEY_FILE).",
        metavar="FILE",
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: COSIGNATORY_DATABASE_URL).", metavar="URL"),
]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Read the log from this server's /v1/audit (needs COSIGNATORY_TOKEN).",
        metavar="URL",
    ),
]


def _signer(key_file: str | None) -> str | None:
    from cosignatory.config import load_audit_settings  # noqa: PLC0415 - see the docstring
    from cosignatory.service.audit_keys import configured_signer  # noqa: PLC0415

    return configured_signer(load_audit_settings(), key_file)


def _database_log(db: str | None, key_file: str | None) -> DatabaseLog:
    from cosignatory.cli.audit_sources import DatabaseLog  # noqa: PLC0415
    from cosignatory.config import load_settings  # noqa: PLC0415
    from cosignatory.service.audit import AuditLog  # noqa: PLC0415
    from cosignatory.storage.store import open_store  # noqa: PLC0415

    store = open_store(db or load_settings().database_url)
    return DatabaseLog(AuditLog(store, signer=_signer(key_file)))


def _log_source(db: str | None, url: str | None, key_file: str | None) -> LogSource:
    if db is not None and url is not None:
        raise InputError("pass --db or --url, not both")
    if url is not None:
        from cosignatory.cli.audit_sources import ServerLog  # noqa: PLC0415

        return ServerLog(url)
    return _database_log(db, key_file)


@audit_app.command("key")
def key(key_file: KeyFileOpt = None) -> int:
    """Print the verifier key of the log's signing key (give it to auditors)."""
    signer = _signer(key_file)
    if signer is None:
        raise InputError(
            "no audit log key; pass --key-file FILE or set COSIGNATORY_AUDIT_KEY_FILE "
            "(create one with `cosignatory audit init-key`)"
        )
    sys.stdout.write(parse_signer_key(signer).verifier().encode() + "\n")
    return EXIT_OK


@audit_app.command("sign")
def sign(db: DbOpt = None, key_file: KeyFileOpt = None) -> int:
    """Sign a checkpoint of the log as it is now; print the signed note."""
    log = _database_log(db, key_file)
    try:
        record = log.audit.sign()
    finally:
        log.audit.store.close()
    sys.stdout.write(record.note)
    _err().print(f"signed checkpoint of {record.size} entries", markup=False)
    return EXIT_OK


@audit_app.command("export")
def export(
    db: DbOpt = None,
    url: UrlOpt = None,
    start: Annotated[
        int, typer.Option("--from", help="First entry to export (default 0).", min=0)
    ] = 0,
    key_file: KeyFileOpt = None,
) -> int:
    """Write the log (entries and the latest signed checkpoint) as JSON Lines to stdout.

    With the log's key at hand (--key-file, COSIGNATORY_AUDIT_KEY_FILE), a checkpoint of
    everything logged so far is signed first; otherwise the export stops at the latest
    checkpoint the log signed.
    """
    source = _log_source(db, url, key_file)
    out = sys.stdout.buffer
    count = 0
    try:
        for line in source.export_lines(start):
            out.write(line)
            count += 1
    finally:
        source.close()
    out.flush()
    _err().print(f"exported {max(0, count - 2)} entries from entry {start}", markup=False)
    return EXIT_OK


@audit_app.command("prove")
def prove(
    order_id: Annotated[str, typer.Argument(help="The order (`ord_…`).", metavar="ORDER")],
    db: DbOpt = None,
    url: UrlOpt = None,
    key_value: Annotated[
        str | None,
        typer.Option("--key", help="Check the checkpoint's signature with this verifier key."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The full proof bundle as JSON.")] = False,
) -> int:
    """Print an order's entries with inclusion proofs against the latest checkpoint.

    Every proof is checked here before it is printed; with --key, so is the checkpoint.
    """
    from cosignatory.cli.audit_proofs import prove_order, render_proofs  # noqa: PLC0415

    verifier = _verifier_key(key_value) if key_value is not None else None
    source = _log_source(db, url, None)
    try:
        bundle = prove_order(source, order_id, verifier)
    finally:
        source.close()
    if as_json:
        print_json(bundle.to_json())
    else:
        render_proofs(Console(highlight=False, soft_wrap=True), bundle)
    return EXIT_OK


def _verifier_key(value: str) -> str:
    """`--key` is the verifier key itself, or a file holding it."""
    p = Path(value)
    text = value
    if p.is_file():
        try:
            text = p.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"cannot read `{value}`: {e}") from e
    try:
        return parse_verifier_key(text).encode()
    except NoteFormatError as e:
        raise InputError(
            f"`{value}` is not a verifier key like `<origin>+<key id>+<base64>` "
            f"(print it with `cosignatory audit key`): {e}"
        ) from e


def _open_log(path: str) -> tuple[BinaryIO, int]:
    if path == "-":
        return sys.stdin.buffer, 0
    try:
        f = Path(path).open("rb")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError as e:
        raise InputError(f"no such file `{path}`") from e
    except OSError as e:
        raise InputError(f"cannot read `{path}`: {e.strerror}") from e
    return f, os.fstat(f.fileno()).st_size


def _read_since(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"cannot read checkpoint `{path}`: {e.strerror}") from e


def _run_verify(log: BinaryIO, size: int, key: str, since: bytes | None) -> VerifyReport:
    with Progress(
        TextColumn("verifying"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=_err(),
        transient=True,
        disable=size < _PROGRESS_FROM,
    ) as progress:
        task = progress.add_task("verify", total=size or None)
        return verify_export(
            log,
            verifier_key=key,
            since_note=since,
            progress=lambda done: progress.update(task, completed=done),
        )


@audit_app.command("verify")
def verify(
    log: Annotated[str, typer.Argument(help="A log export (`audit export`), or `-` for stdin.")],
    key_value: Annotated[
        str, typer.Option("--key", help="The log's verifier key, or a file holding it.")
    ],
    since: Annotated[
        str | None,
        typer.Option("--since", help="An earlier signed checkpoint the log must still extend."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> int:
    """Recompute the tree, check the signed checkpoint, and replay the history.

    Exit status: 0 the log verifies, 1 it was tampered with or breaks the rules,
    2 bad input (not an export, unusable key or checkpoint).
    """
    key_text = _verifier_key(key_value)
    since_note = _read_since(since)
    f, size = _open_log(log)
    try:
        report = _run_verify(f, size, key_text, since_note)
    finally:
        if f is not sys.stdin.buffer:
            f.close()
    if as_json:
        print_json(report.to_json())
    else:
        _render(report)
    if report.problem is None:
        return EXIT_OK
    return EXIT_TAMPERED if report.problem.tampered else EXIT_BAD_INPUT


def _render(report: VerifyReport) -> None:
    out = Console(highlight=False, soft_wrap=True)
    problem = report.problem
    if problem is not None:
        verdict = "TAMPERED" if problem.tampered else "cannot verify"
        out.print(f"{verdict}: {problem}", markup=False)
        return
    cp = report.checkpoint
    if cp is None:  # pragma: no cover - a clean report always has its checkpoint
        raise RuntimeError("verified report without a checkpoint")
    last = report.start + report.entries - 1
    held = f"entries {report.start}–{last}" if report.entries else "no entries, and"
    out.print(
        f"ok: {held} hash to the root signed by `{cp.origin}` "
        f"(size {cp.size}, root {base64.b64encode(cp.root_hash).decode()})",
        markup=False,
    )
    if report.since is not None:
        out.print(
            f"ok: consistent with the earlier checkpoint of size {report.since.size}", markup=False
        )
    summary = report.replay
    if summary is None:
        out.print(
            f"replay skipped: the export starts at entry {report.start}; "
            "export from 0 to replay the whole history",
            markup=False,
        )
        return
    states = ", ".join(f"{n} {s.value}" for s, n in summary.orders.items() if n) or "none"
    out.print(
        f"ok: history replayed: {summary.policies} policy version(s), "
        f"{sum(summary.orders.values())} order(s) ({states}), {summary.reviews} review(s); "
        "every approval, claim and result follows the rules",
        markup=False,
    )
