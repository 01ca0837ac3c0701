"""Canonical JSON (RFC 8785, JCS) and the digests computed over it.

Everything we hash or sign goes through here so that two implementations (the
server, an offline verifier) always agree on the bytes.
"""

from __future__ import annotations

import hashlib
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
