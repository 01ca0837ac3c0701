"""The audit page's data: the latest checkpoint, entries, and per-order inclusion proofs.

The page does not trust its own server more than it must: every proof shown is checked
here with `core.audit` (the verdict is printed), and the page also carries the raw entry
bytes, proof hashes, checkpoint note and verifier key so that `static/audit.js` checks
them again in the browser with WebCrypto.

`AuditSource` is the port: what the audit log offers (the service's audit methods, or
an in-memory tree in tests).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cosignatory.core.audit import (
    AuditError,
    Checkpoint,
    leaf_hash,
    parse_and_verify,
    parse_checkpoint_text,
    verify_inclusion,
)
from cosignatory.core.audit.entry import loads_canonical

__all__ = [
    "AuditSource",
    "CheckpointView",
    "EntryView",
    "ProvenEntry",
    "checkpoint_view",
    "entry_view",
    "prove",
]


class AuditSource(Protocol):
    def signed_checkpoint(self) -> str:
        """The latest signed checkpoint note (C2SP signed-note text)."""
        ...

    def verifier_key(self) -> str | None:
        """The log's verifier key (`<name>+<id>+<key>`), if the server knows it."""
        ...

    def entries(self, start: int, end: int) -> Sequence[bytes]:
        """Canonical entry bytes for leaves [start, end)."""
        ...

    def order_entries(self, order_id: str) -> Sequence[int]:
        """The leaf indexes of one order's entries."""
        ...

    def inclusion_proof(self, index: int, tree_size: int) -> Sequence[bytes]: ...


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True, kw_only=True)
class CheckpointView:
    note: str
    checkpoint: Checkpoint
    verifier_key: str | None
    signature_ok: bool | None  # None: no verifier key to check it with
    signature_problem: str = ""

    @property
    def root_b64(self) -> str:
        return b64(self.checkpoint.root_hash)


def _text_of(note: str) -> str:
    split = note.rfind("\n\n")
    return note[: split + 1] if split >= 0 else note


def checkpoint_view(note: str, verifier_key: str | None) -> CheckpointView:
    """Parse (and with a key, verify) the latest checkpoint."""
    if verifier_key is None:
        return CheckpointView(
            note=note,
            checkpoint=parse_checkpoint_text(_text_of(note)),
            verifier_key=None,
            signature_ok=None,
        )
    try:
        checkpoint = parse_and_verify(note, verifier_key)
    except AuditError as e:
        return CheckpointView(
            note=note,
            checkpoint=parse_checkpoint_text(_text_of(note)),
            verifier_key=verifier_key,
            signature_ok=False,
            signature_problem=str(e),
        )
    return CheckpointView(
        note=note, checkpoint=checkpoint, verifier_key=verifier_key, signature_ok=True
    )


@dataclass(frozen=True, kw_only=True)
class EntryView:
    index: int
    raw: bytes
    value: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.value.get("kind", ""))

    @property
    def actor(self) -> str:
        return str(self.value.get("actor", ""))

    @property
    def subject(self) -> str:
        return str(self.value.get("subject", ""))

    @property
    def at(self) -> str:
        return str(self.value.get("at", ""))

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8")

    @property
    def raw_b64(self) -> str:
        return b64(self.raw)


def entry_view(index: int, raw: bytes) -> EntryView:
    try:
        value = loads_canonical(raw)
    except AuditError:
        value = {}
    return EntryView(index=index, raw=raw, value=value if isinstance(value, dict) else {})


@dataclass(frozen=True, kw_only=True)
class ProvenEntry:
    entry: EntryView
    proof: tuple[bytes, ...]
    ok: bool
    problem: str = ""

    @property
    def proof_b64(self) -> str:
        return " ".join(b64(p) for p in self.proof)


def prove(entry: EntryView, proof: Sequence[bytes], checkpoint: Checkpoint) -> ProvenEntry:
    """Check that `entry` is in the tree of `checkpoint`, by its inclusion proof."""
    try:
        verify_inclusion(
            leaf_hash(entry.raw), entry.index, checkpoint.size, proof, checkpoint.root_hash
        )
    except AuditError as e:
        return ProvenEntry(entry=entry, proof=tuple(proof), ok=False, problem=str(e))
    return ProvenEntry(entry=entry, proof=tuple(proof), ok=True)
