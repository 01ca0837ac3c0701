"""`audit prove`: an order's entries, each with its inclusion proof, checked before shown.

The bundle is self-contained: the signed checkpoint note, and per entry its canonical
JSON, leaf hash and audit path, so anyone can re-check it with `core.audit` (or any RFC
9162 implementation) and the log's verifier key.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from cosignatory.cli.audit_sources import LogSource
from cosignatory.core.audit import (
    AuditError,
    Checkpoint,
    leaf_hash,
    parse_and_verify,
    parse_checkpoint_text,
    verify_inclusion,
)
from cosignatory.core.errors import DomainError, ErrorCode, InputError

__all__ = ["ProofBundle", "ProvenEntry", "prove_order", "render_proofs"]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True, kw_only=True)
class ProvenEntry:
    index: int
    entry: bytes = field(repr=False)
    leaf_hash: bytes
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "entry": json.loads(self.entry),
            "leaf_hash": _b64(self.leaf_hash),
            "proof": [_b64(h) for h in self.proof],
        }


@dataclass(frozen=True, kw_only=True)
class ProofBundle:
    order_id: str
    note: str
    checkpoint: Checkpoint
    signature_checked: bool
    entries: tuple[ProvenEntry, ...]
    not_yet_covered: tuple[int, ...]  # logged after the checkpoint

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "checkpoint": self.note,
            "tree_size": self.checkpoint.size,
            "root_hash": _b64(self.checkpoint.root_hash),
            "signature_checked": self.signature_checked,
            "entries": [e.to_json() for e in self.entries],
            "not_yet_covered": list(self.not_yet_covered),
        }


def _checkpoint(note: str, verifier: str | None) -> Checkpoint:
    try:
        if verifier is not None:
            return parse_and_verify(note, verifier)
        return parse_checkpoint_text(note[: note.rfind("\n\n") + 1])
    except AuditError as e:
        raise DomainError(
            f"the log's checkpoint does not verify: {e}", code=ErrorCode.CONFLICT
        ) from e


def prove_order(source: LogSource, order_id: str, verifier: str | None) -> ProofBundle:
    note = source.checkpoint_note()
    checkpoint = _checkpoint(note, verifier)
    indices = source.order_indices(order_id)
    if not indices:
        raise InputError(f"the log has no entries for `{order_id}`")
    size = checkpoint.size
    proven = []
    for index in (i for i in indices if i < size):
        item = source.entry(index)
        if leaf_hash(item.entry) != item.leaf_hash:
            raise DomainError(
                f"entry {index} does not hash to the leaf hash the log stored for it; "
                "the stored log was altered",
                code=ErrorCode.CONFLICT,
            )
        proof = source.inclusion_proof(index, size)
        try:
            verify_inclusion(item.leaf_hash, index, size, proof, checkpoint.root_hash)
        except AuditError as e:
            raise DomainError(
                f"the inclusion proof of entry {index} does not verify: {e}",
                code=ErrorCode.CONFLICT,
            ) from e
        proven.append(
            ProvenEntry(index=index, entry=item.entry, leaf_hash=item.leaf_hash, proof=proof)
        )
    return ProofBundle(
        order_id=order_id,
        note=note,
        checkpoint=checkpoint,
        signature_checked=verifier is not None,
        entries=tuple(proven),
        not_yet_covered=tuple(i for i in indices if i >= size),
    )


def render_proofs(out: Console, bundle: ProofBundle) -> None:
    cp = bundle.checkpoint
    signed = "signature verified" if bundle.signature_checked else "signature NOT checked (--key)"
    out.print(
        f"checkpoint `{cp.origin}` size {cp.size} root {_b64(cp.root_hash)} ({signed})",
        markup=False,
    )
    for e in bundle.entries:
        value = json.loads(e.entry)
        out.print(
            f"entry {e.index}: {value['kind']} by `{value['actor']}` at {value['at']} — "
            f"included (leaf {_b64(e.leaf_hash)}, {len(e.proof)} proof hashes)",
            markup=False,
        )
    for index in bundle.not_yet_covered:
        out.print(f"entry {index}: logged after this checkpoint; the next one covers it")
    out.print("the full bundle, proofs included: add --json", markup=False)
