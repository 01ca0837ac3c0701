"""Canonical JSON (RFC 8785, JCS) and the digests computed over it.

Everything we hash or sign goes through here so that two implementations (the
server, an offline verifier) always agree on the bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import rfc8785

__all__ = ["canonical_json", "digest", "sha256_hex"]


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of `value` (dicts, lists, str, int, bool, None; floats per JCS)."""
    return bytes(rfc8785.dumps(value))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of `value`."""
    return "sha256:" + sha256_hex(canonical_json(value))


_MAX_SAFE_INTEGER = 2**53 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_OR_ASTRAL = re.compile("[\ud800-\udfff\U00010000-\U0010ffff]")
_dumps = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
).encode


def _plain(value: Any) -> bool:
    """True when `json.dumps` writes exactly the RFC 8785 form of `value`: objects, lists,
    strings, safe integers, booleans and null, where no string holds a lone surrogate and
    no key a character beyond the BMP.

    Why that suffices: both escape exactly `"`, `\\` and U+0000..U+001F, the same way
    (`\\n`, `\\u001f`, lowercase hex), and write every other character as itself; code-point
    key order (Python's) equals UTF-16 code-unit order (RFC 8785's) while every key is in
    the BMP; integers within ±(2**53 - 1) are written alike. Floats, huge integers, other
    types and the strings above go to the reference. Iterative: no call per value."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str:
            if not item.isascii() and _SURROGATE.search(item):
                return False
        elif kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
                if not key.isascii() and _SURROGATE_OR_ASTRAL.search(key):
                    return False
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is int:
            if not -_MAX_SAFE_INTEGER <= item <= _MAX_SAFE_INTEGER:
                return False
        elif item is not None and kind is not bool:
            return False
    return True


def canonical_text(value: Any) -> str:
    """RFC 8785 canonical JSON as text; `json` (C) when it provably gives the same bytes
    (`_plain`), else the `rfc8785` package (pure Python, slower, and the reference)."""
    if _plain(value):
        return _dumps(value)
    return canonical_json(value).decode("utf-8")
