"""Where `audit export|prove` read the log: the database itself, or a server's /v1/audit.

Both give the same things: the latest signed checkpoint, the lines of an export, an
order's entries and their inclusion proofs. Over HTTP, entry bytes are rebuilt from the
returned JSON with RFC 8785, which gives back exactly the bytes the log hashed (an
entry that came back different fails verification on its stored leaf hash).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from cosignatory.client import Client
from cosignatory.config import load_remote_settings
from cosignatory.core.audit import CompactRange, Frontier, parse_checkpoint_text
from cosignatory.core.audit.export import export_lines
from cosignatory.core.canonical import canonical_json
from cosignatory.core.errors import InputError
from cosignatory.service.audit import MAX_ENTRIES_PAGE, AuditLog

__all__ = ["AuditClient", "DatabaseLog", "LogEntry", "LogSource", "ServerLog"]


@dataclass(frozen=True, kw_only=True)
class LogEntry:
    index: int
    entry: bytes = field(repr=False)
    leaf_hash: bytes


class LogSource(Protocol):
    def checkpoint_note(self) -> str: ...
    def export_lines(self, start: int) -> Iterator[bytes]: ...
    def order_indices(self, order_id: str) -> list[int]: ...
    def entry(self, index: int) -> LogEntry: ...
    def inclusion_proof(self, index: int, tree_size: int) -> tuple[bytes, ...]: ...
    def close(self) -> None: ...


class DatabaseLog:
    """The log in a database; with a signing key, it signs a fresh checkpoint first."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self._note: str | None = None

    def checkpoint_note(self) -> str:
        if self._note is None:
            if self.audit.can_sign:
                self.audit.sign_if_grown()
            self._note = self.audit.checkpoint().note
        return self._note

    def export_lines(self, start: int) -> Iterator[bytes]:
        self.checkpoint_note()
        yield from self.audit.export_lines(start)

    def order_indices(self, order_id: str) -> list[int]:
        return self.audit.order_entries(order_id)

    def entry(self, index: int) -> LogEntry:
        stored = self.audit.stored_entries(index, index + 1)
        if not stored:
            raise InputError(f"the log has no entry {index}")
        return LogEntry(index=index, entry=stored[0].entry, leaf_hash=stored[0].leaf_hash)

    def inclusion_proof(self, index: int, tree_size: int) -> tuple[bytes, ...]:
        return self.audit.inclusion_proof(index, tree_size)

    def close(self) -> None:
        self.audit.store.close()


def _unb64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError) as e:
        raise InputError(f"the server sent a {what} that is not base64: `{text}`") from e


class AuditClient(Client):
    """`Client` plus the `/v1/audit` endpoints."""

    def audit_checkpoint(self) -> dict[str, Any]:
        data: dict[str, Any] = self._request("GET", "/v1/audit/checkpoint")
        return data

    def audit_entries(self, start: int, end: int) -> list[LogEntry]:
        data = self._request("GET", "/v1/audit/entries", params={"start": start, "end": end})
        return [
            LogEntry(
                index=int(item["index"]),
                entry=canonical_json(item["entry"]),
                leaf_hash=_unb64(item["leaf_hash"], "leaf hash"),
            )
            for item in data["entries"]
        ]

    def audit_inclusion_proof(self, index: int, tree_size: int) -> tuple[bytes, ...]:
        data = self._request(
            "GET", "/v1/audit/proof/inclusion", params={"index": index, "tree_size": tree_size}
        )
        return tuple(_unb64(h, "proof hash") for h in data["proof"])

    def order_event_seqs(self, order_id: str) -> list[int]:
        return list(self.get_order(order_id).event_seqs)


class ServerLog:
    """The log behind a server's /v1/audit (`COSIGNATORY_URL`, `COSIGNATORY_TOKEN`)."""

    def __init__(self, url: str | None = None, *, client: AuditClient | None = None) -> None:
        if client is None:
            settings = load_remote_settings()
            if not settings.token:
                raise InputError(
                    "COSIGNATORY_TOKEN is not set; reading the audit log needs any person's "
                    "token (`cosignatory token create YOU`)"
                )
            client = AuditClient(url or settings.url, settings.token)
        self.client = client
        self._note: str | None = None

    def checkpoint_note(self) -> str:
        if self._note is None:
            self._note = str(self.client.audit_checkpoint()["note"])
        return self._note

    def _size(self) -> int:
        note = self.checkpoint_note()
        return parse_checkpoint_text(note[: note.rfind("\n\n") + 1]).size

    def _pages(self, start: int, end: int) -> Iterator[LogEntry]:
        for first in range(start, end, MAX_ENTRIES_PAGE):
            page = self.client.audit_entries(first, min(end, first + MAX_ENTRIES_PAGE))
            expected = min(end, first + MAX_ENTRIES_PAGE) - first
            if len(page) != expected:
                raise InputError(f"the server sent {len(page)} entries for {expected} asked")
            yield from page

    def export_lines(self, start: int) -> Iterator[bytes]:
        size = self._size()
        if not 0 <= start <= size:
            raise InputError(f"cannot export from entry `{start}`: the checkpoint covers {size}")
        prefix = CompactRange()
        for item in self._pages(0, start):  # the frontier of the first `start` entries
            prefix.append(item.leaf_hash)
        frontier: Frontier = prefix.frontier()
        pairs = ((e.entry, e.leaf_hash) for e in self._pages(start, size))
        yield from export_lines(frontier, pairs, self.checkpoint_note())

    def order_indices(self, order_id: str) -> list[int]:
        return self.client.order_event_seqs(order_id)

    def entry(self, index: int) -> LogEntry:
        page = self.client.audit_entries(index, index + 1)
        if not page:
            raise InputError(f"the log has no entry {index}")
        return page[0]

    def inclusion_proof(self, index: int, tree_size: int) -> tuple[bytes, ...]:
        return self.client.audit_inclusion_proof(index, tree_size)

    def close(self) -> None:
        self.client.close()
