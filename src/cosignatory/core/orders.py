"""What identifies an order: its timestamp format and its digest (later issues sign it).

The digest is `sha256:<hex>` of the RFC 8785 canonical JSON of exactly these fields:
`id, action, params, proposer, justification, created_at, expires_at, policy_digest`,
with times written by `format_timestamp` (UTC, microseconds, `Z`). An offline verifier
recomputes it from an `order:proposed` event payload with `order_digest_of`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cosignatory.core.canonical import canonical_text, sha256_hex

__all__ = ["DIGEST_FIELDS", "format_timestamp", "order_digest", "order_digest_of"]

DIGEST_FIELDS = (
    "id",
    "action",
    "params",
    "proposer",
    "justification",
    "created_at",
    "expires_at",
    "policy_digest",
)


def format_timestamp(value: datetime) -> str:
    """`2026-01-31T12:00:00.000000Z`: one spelling per instant, so digests are stable."""
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    utc = value.astimezone(UTC)
    if utc.year >= 1000:  # isoformat: the same text, at a third of strftime's cost
        return utc.isoformat(timespec="microseconds")[:-6] + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # the spelling digests already use


def order_digest(
    *,
    id: str,
    action: str,
    params: Mapping[str, Any],
    proposer: str,
    justification: str,
    created_at: datetime,
    expires_at: datetime,
    policy_digest: str,
) -> str:
    return _digest_of(
        {
            "id": id,
            "action": action,
            "params": dict(params),
            "proposer": proposer,
            "justification": justification,
            "created_at": format_timestamp(created_at),
            "expires_at": format_timestamp(expires_at),
            "policy_digest": policy_digest,
        }
    )


def order_digest_of(payload: Mapping[str, Any]) -> str:
    """The digest over the `DIGEST_FIELDS` of a JSON payload (times already formatted)."""
    missing = [f for f in DIGEST_FIELDS if f not in payload]
    if missing:
        raise ValueError(f"payload lacks {', '.join(f'`{f}`' for f in missing)}")
    return _digest_of({f: payload[f] for f in DIGEST_FIELDS})


def _digest_of(value: dict[str, Any]) -> str:
    return "sha256:" + sha256_hex(canonical_text(value).encode("utf-8"))
