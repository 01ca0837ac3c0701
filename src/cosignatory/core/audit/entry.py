"""The audit entry: one event as the RFC 8785 bytes that become a leaf of the tree.

    {"actor":"pak","at":"2026-01-31T12:00:00.000000Z","kind":"order:reviewed",
     "order_digest":"sha256:…","payload":{…},"seq":7,"subject":"ord_…"}

`seq` is the event's gapless sequence number, which is also the leaf index; `at` is
written as `core.orders.format_timestamp` writes it (UTC, microseconds, `Z`), so each
instant has one spelling. `order_digest` is present exactly for order events: the digest
of the order as governed when the event happened (it changes only when a policy
publication re-pins the order). Nothing else is in an entry.

`parse_entry` is the inverse of `AuditEntry.to_bytes` and refuses any other spelling of
the same entry: an entry that is not byte-for-byte canonical JSON is not an entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cosignatory.core.audit.errors import EntryError
from cosignatory.core.audit.merkle import leaf_hash
from cosignatory.core.canonical import canonical_json, canonical_text
from cosignatory.core.events import ORDER_EVENT_STATE, EventKind
from cosignatory.core.orders import format_timestamp

__all__ = [
    "ORDER_EVENT_KINDS",
    "AuditEntry",
    "event_entry_bytes",
    "is_order_event",
    "loads_canonical",
    "parse_entry",
    "parse_timestamp",
]

ORDER_EVENT_KINDS = frozenset({*ORDER_EVENT_STATE, EventKind.ORDER_REVIEWED})
"""Event kinds whose subject is an order: their entries carry `order_digest`."""

_KEYS = frozenset({"seq", "at", "kind", "actor", "subject", "payload"})
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", re.ASCII)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
_MAX_SAFE_INT = 2**53 - 1
# `json` with sorted keys and compact separators writes RFC 8785 bytes for every value
# without floats, unsafe integers or keys outside the BMP (whose JCS order differs).
_string = json.encoder.encode_basestring  # `"…"` with RFC 8785's escapes (see above)
_fast_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def is_order_event(kind: EventKind) -> bool:
    return kind in ORDER_EVENT_KINDS


def parse_timestamp(text: str, what: str) -> datetime:
    """Parse a `format_timestamp` string; refuse every other spelling."""
    if not _TIMESTAMP.fullmatch(text):
        raise EntryError(
            f"{what} `{text}` is not a UTC timestamp like `2026-01-31T12:00:00.000000Z`"
        )
    try:
        return datetime.fromisoformat(text).astimezone(UTC)  # the regex allows only `Z`
    except ValueError as e:
        raise EntryError(f"{what} `{text}` is not a valid date and time") from e


def _reject_constant(name: str) -> Any:
    raise EntryError(f"`{name}` is not a JSON number")


def loads_canonical(unverified: bytes) -> Any:
    """The JSON value of `unverified`, which must be its RFC 8785 serialization exactly."""
    try:
        text = unverified.decode("utf-8")
    except UnicodeDecodeError as e:
        raise EntryError(f"not valid UTF-8 (byte {e.start})") from e
    needs_jcs = False

    def on_float(s: str) -> float:
        nonlocal needs_jcs
        needs_jcs = True
        return float(s)

    def on_int(s: str) -> int | float:
        nonlocal needs_jcs
        value = int(s)
        if abs(value) > _MAX_SAFE_INT:
            # JSON numbers are doubles to JCS: 1e16 is written `10000000000000000`.
            needs_jcs = True
            return float(value)
        return value

    try:
        value = json.loads(
            text, parse_float=on_float, parse_int=on_int, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as e:
        raise EntryError(f"not valid JSON: {e.msg} at column {e.colno}") from e
    except RecursionError as e:
        raise EntryError("JSON nests too deeply") from e
    if needs_jcs or max(text, default=" ") > "\uffff":
        try:
            again = canonical_json(value)
        except (ValueError, TypeError) as e:  # e.g. an integer beyond the safe range
            raise EntryError(f"not canonical JSON: {e}") from e
    else:
        try:
            again = _fast_dumps(value).encode("utf-8")
        except UnicodeEncodeError as e:  # a lone surrogate, written as `\ud800`
            raise EntryError("not canonical JSON: a string holds a lone surrogate") from e
    if again != unverified:
        raise EntryError("not canonical JSON (RFC 8785): some byte differs from the canonical form")
    return value


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """One event as logged. Build it with `from_event`; `to_bytes` is the leaf input."""

    seq: int
    at: datetime
    kind: EventKind
    actor: str
    subject: str
    payload: Mapping[str, Any] = field(repr=False)
    order_digest: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or self.seq < 0:
            raise EntryError(f"entry seq must be a non-negative integer, got `{self.seq!r}`")
        if self.at.tzinfo is None:
            raise EntryError("entry time must be timezone-aware")
        if not isinstance(self.kind, EventKind):
            raise EntryError(f"unknown event kind `{self.kind}`")
        for name in ("actor", "subject"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise EntryError(f"entry {name} must be a non-empty string, got `{value!r}`")
        if not isinstance(self.payload, Mapping):
            raise EntryError("entry payload must be a JSON object")
        if is_order_event(self.kind):
            if not isinstance(self.order_digest, str) or not _DIGEST.fullmatch(self.order_digest):
                raise EntryError(
                    f"`{self.kind}` entry needs `order_digest` as `sha256:<64 hex>`, "
                    f"got `{self.order_digest!r}`"
                )
        elif self.order_digest is not None:
            raise EntryError(f"`{self.kind}` is not an order event and carries no order digest")

    @classmethod
    def from_event(
        cls,
        *,
        seq: int,
        at: datetime,
        kind: EventKind,
        actor: str,
        subject: str,
        payload: Mapping[str, Any] | str,
        order_digest: str | None = None,
    ) -> AuditEntry:
        """The entry of an event row; `payload` may be its stored canonical JSON text."""
        value = json.loads(payload) if isinstance(payload, str) else payload
        return cls(
            seq=seq,
            at=at,
            kind=kind,
            actor=actor,
            subject=subject,
            payload=value,
            order_digest=order_digest,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seq": self.seq,
            "at": format_timestamp(self.at),
            "kind": self.kind.value,
            "actor": self.actor,
            "subject": self.subject,
            "payload": dict(self.payload),
        }
        if self.order_digest is not None:
            out["order_digest"] = self.order_digest
        return out

    def to_bytes(self) -> bytes:
        """RFC 8785 bytes: exactly what the tree hashes as this leaf."""
        return canonical_text(self.to_json()).encode("utf-8")

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.to_bytes())


def event_entry_bytes(
    *,
    seq: int,
    at: datetime,
    kind: EventKind,
    actor: str,
    subject: str,
    payload_json: str,
    order_digest: str | None,
) -> bytes:
    """`AuditEntry.to_bytes()` of an event whose payload is already canonical JSON text.

    The stored payload is spliced in as is and the other members are written in their
    sorted order, each string by `json`'s escaper, which writes what RFC 8785 does for
    any string without a lone surrogate (those fail to encode as UTF-8, as in the
    reference); so appending never re-parses a payload, however large (a policy text).
    """
    if is_order_event(kind) != (order_digest is not None):
        raise EntryError(f"`{kind}` entry with a wrong order digest `{order_digest!r}`")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= _MAX_SAFE_INT:
        raise EntryError(f"entry seq must be a non-negative integer, got `{seq!r}`")
    digest = "" if order_digest is None else ',"order_digest":' + _string(order_digest)
    text = (
        f'{{"actor":{_string(actor)},"at":"{format_timestamp(at)}","kind":{_string(kind.value)}'
        f'{digest},"payload":{payload_json},"seq":{seq},"subject":{_string(subject)}}}'
    )
    return text.encode()


def parse_entry(unverified: bytes) -> AuditEntry:
    """The entry whose canonical bytes are `unverified`; raise `EntryError` otherwise."""
    value = loads_canonical(unverified)
    if not isinstance(value, dict):
        raise EntryError("an entry must be a JSON object")
    keys = set(value)
    missing = sorted(_KEYS - keys)
    if missing:
        raise EntryError("entry lacks " + ", ".join(f"`{k}`" for k in missing))
    extra = sorted(keys - _KEYS - {"order_digest"})
    if extra:
        raise EntryError("entry has unknown fields " + ", ".join(f"`{k}`" for k in extra))
    kind_text = value["kind"]
    try:
        kind = EventKind(kind_text)
    except ValueError:
        raise EntryError(f"unknown event kind `{kind_text}`") from None
    at_text = value["at"]
    if not isinstance(at_text, str):
        raise EntryError(f"entry time must be a string, got `{at_text!r}`")
    return AuditEntry(
        seq=value["seq"],
        at=parse_timestamp(at_text, "entry time"),
        kind=kind,
        actor=value["actor"],
        subject=value["subject"],
        payload=value["payload"],
        order_digest=value.get("order_digest"),
    )
