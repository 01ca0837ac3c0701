"""Command line. `main` is the one place that maps errors to exit codes:

0 ok · 1 domain failure (refused, rejected, invalid policy under `check`) · 2 bad input.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console

from cosignatory.cli import policy_cmds  # noqa: F401  (registers commands)
from cosignatory.cli.app import app
from cosignatory.core.errors import CosignatoryError, ErrorCode, InputError, PolicyError

__all__ = ["app", "main"]

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
BAD_INPUT_CODES = frozenset({ErrorCode.INVALID_INPUT, ErrorCode.POLICY_INVALID})


def exit_code_for(error: CosignatoryError) -> int:
    if isinstance(error, InputError | PolicyError) or error.code in BAD_INPUT_CODES:
        return EXIT_BAD_INPUT
    return EXIT_FAILURE


def main(argv: list[str] | None = None) -> int:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        result = app(args=argv, standalone_mode=False, prog_name="cosignatory")
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.exceptions.Abort:
        err.print("aborted")
        return EXIT_FAILURE
    except click.ClickException as e:
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
