"""Small helpers shared by command modules: reading files, printing JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cosignatory.core.errors import InputError
from cosignatory.core.policy import Policy, load_policy

__all__ = ["print_json", "read_json", "read_policy", "read_text"]


def read_text(path: str) -> str:
    """Read a file, or standard input for `-`; missing files are bad input."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise InputError(f"no such file `{path}`") from e
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read `{path}`: {e}") from e


def read_policy(path: str) -> Policy:
    return load_policy(read_text(path), filename=path)


def read_json(path: str) -> Any:
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        where = "stdin" if path == "-" else path
        raise InputError(f"{where}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from e


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=False, default=str) + "\n")
