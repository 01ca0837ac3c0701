"""Command line. `main` is the one place that maps errors to exit codes:

0 ok · 1 domain failure (refused, rejected, invalid policy under `check`) · 2 bad input.
"""

from __future__ import annotations

import functools
import sys

import typer
import typer.main
from rich.console import Console

# typer >= 0.29 vendors click as `typer._click` and does not re-export its exception
# base; the typer minor version is pinned in pyproject.toml for this reason.
from typer._click import Command as _ClickCommand
from typer._click.exceptions import ClickException

from cosignatory.cli import (
    analysis_cmds,  # noqa: F401  (registers commands)
    audit_cmds,  # noqa: F401  (registers commands)
    db_cmds,  # noqa: F401  (registers commands)
    order_cmds,  # noqa: F401  (registers commands)
    policy_cmds,  # noqa: F401  (registers commands)
    remote_cmds,  # noqa: F401  (registers commands)
    server_cmds,  # noqa: F401  (registers commands)
)
from cosignatory.cli.app import app
from cosignatory.core.errors import CosignatoryError, ErrorCode, InputError, PolicyError

__all__ = ["app", "main"]

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
BAD_INPUT_CODES = frozenset({ErrorCode.INVALID_INPUT, ErrorCode.POLICY_INVALID})


def exit_code_for(error: CosignatoryError) -> int:
    if isinstance(error, InputError | PolicyError) or error.code in BAD_INPUT_CODES:
        return EXIT_BAD_INPUT
    return EXIT_FAILURE


@functools.cache
def _command() -> _ClickCommand:
    # Typer rebuilds the click command tree on every call (~0.1 s); build it once.
    return typer.main.get_command(app)


def main(argv: list[str] | None = None) -> int:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        result = _command().main(args=argv, standalone_mode=False, prog_name="cosignatory")
    except typer.Exit as e:
        return int(e.exit_code)
    except typer.Abort:
        err.print("aborted")
        return EXIT_FAILURE
    except ClickException as e:
        e.show()
        return EXIT_BAD_INPUT
    except PolicyError as e:
        for issue in e.issues:
            err.print(str(issue), markup=False)
        return EXIT_BAD_INPUT
    except CosignatoryError as e:
        err.print(f"error[{e.code.value}]: {e.message}", markup=False)
        return exit_code_for(e)
    return int(result) if isinstance(result, int) else EXIT_OK


def entrypoint() -> None:  # pragma: no cover - console script
    sys.exit(main())
