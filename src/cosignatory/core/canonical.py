"""Canonical JSON (RFC 8785, JCS) and the digests computed over it.

Everything we hash or sign goes through here so that two implementations (the
server, an offline verifier) always agree on the bytes.
"""

from __future__ import annotations

import hashlib
import json
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


def _plain(value: Any) -> bool:
    """True when `json.dumps` writes exactly the RFC 8785 form of `value`: objects with
    printable-ASCII keys, lists, printable-ASCII strings, safe integers, booleans, null.
    (Code-point key order is UTF-16 order for ASCII; the escapes of `"` and `\\` agree.)"""
    if value is None or value is True or value is False:
        return True
    kind = type(value)
    if kind is str:
        return bool(value.isascii() and value.isprintable())
    if kind is int:
        return bool(-_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER)
    if kind is dict:
        return all(type(k) is str and _plain(k) and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(v) for v in value)
    return False


def canonical_text(value: Any) -> str:
    """RFC 8785 canonical JSON as text; `json.dumps` (C) when it provably gives the same
    bytes, else the `rfc8785` package (pure Python, slower, and the reference)."""
    if _plain(value):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return canonical_json(value).decode("utf-8")
