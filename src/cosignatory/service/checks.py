"""Checks on caller input that no policy decides: identifier shapes and text sizes."""

from __future__ import annotations

import re
from typing import Any

from cosignatory.core.errors import InputError

__all__ = ["MAX_DETAIL", "MAX_PARAMS_BYTES", "MAX_TEXT", "check_person", "check_text"]

PERSON_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
MAX_TEXT = 4000  # justification, comment, cancel reason, token label
MAX_DETAIL = 16_000  # an execution's outcome detail
MAX_PARAMS_BYTES = 64_000  # canonical JSON of an order's params


def check_person(value: Any, what: str) -> str:
    if not isinstance(value, str) or not PERSON_ID.fullmatch(value):
        raise InputError(
            f"{what} `{value}` is not a person id; use lowercase letters, digits, `_`, `.` "
            "and `-`, starting with a letter or digit (at most 64 characters)"
        )
    return value


def check_text(value: Any, what: str, *, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string, got `{value!r}`")
    if len(value) > limit:
        raise InputError(f"{what} is {len(value)} characters long; the limit is {limit}")
    return value
