"""`AuditLog`: the audit log's use cases — checkpoints, entries, proofs, exports.

    log = service.audit                  (or AuditLog(store, signer=key))
    log.sign()                           on demand: a checkpoint of the tree as it is now
    log.sign_if_grown()                  what the server's schedule calls
    log.checkpoint()                     the latest signed checkpoint
    log.inclusion_proof(i, size)         the audit path of entry i in the tree of `size`
    log.export_lines(start)              the JSON Lines export, read from one snapshot

The log never signs a checkpoint that is not consistent with the last one it signed:
before signing, it proves from the stored nodes (RFC 9162 consistency proof) that the
new tree extends the old one, and refuses otherwise. Signing holds the audit head's row
lock, so the nodes of one deployment never sign two different trees of one size.

It also serves the web audit page (`web.AuditSource`: `signed_checkpoint`,
`verifier_key`, `entries`, `order_entries`, `inclusion_proof`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.engine import Connection

from cosignatory.core.audit import (
    AuditError,
    Checkpoint,
    ProofError,
    TreeError,
    consistency_proof,
    inclusion_proof,
    parse_signer_key,
    root_at,
    sign_checkpoint,
    verify_consistency,
)
from cosignatory.core.audit.export import export_lines
from cosignatory.core.errors import DomainError, ErrorCode, InputError
from cosignatory.storage import audit as audit_rows
from cosignatory.storage.audit import CheckpointRecord, StoredEntry, StoredHashReader
from cosignatory.storage.events import seqs_by_subject
from cosignatory.storage.store import Store

__all__ = ["MAX_ENTRIES_PAGE", "AuditLog"]

T = TypeVar("T")
MAX_ENTRIES_PAGE = 1000


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _no_checkpoint() -> DomainError:
    return DomainError(
        "the audit log has not signed a checkpoint yet; run `cosignatory audit sign`, "
        "or serve with COSIGNATORY_AUDIT_KEY_FILE set",
        code=ErrorCode.NOT_FOUND,
    )


class AuditLog:
    """The audit log of one store; it signs only when given the log's signer key."""

    def __init__(
        self,
        store: Store,
        *,
        signer: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.store = store
        self._clock = clock
        self._signer = parse_signer_key(signer) if signer is not None else None

    def with_signer(self, signer: str) -> AuditLog:
        return AuditLog(self.store, signer=signer, clock=self._clock)

    @property
    def can_sign(self) -> bool:
        return self._signer is not None

    @property
    def origin(self) -> str | None:
        return self._signer.name if self._signer is not None else None

    def verifier_key(self) -> str | None:
        """The verifier key of the signing key, if this process holds it."""
        return self._signer.verifier().encode() if self._signer is not None else None

    # --- checkpoints ------------------------------------------------------------------

    def sign(self) -> CheckpointRecord:
        """Sign a checkpoint of the whole tree now (the latest one if nothing was added)."""
        if self._signer is None:
            raise DomainError(
                "this process has no audit log key; pass --key-file or set "
                "COSIGNATORY_AUDIT_KEY_FILE (create a key with `cosignatory audit init-key`)",
                code=ErrorCode.CONFLICT,
            )
        signer = self._signer.encode()
        return self.store.write(lambda conn: self._sign(conn, signer))

    def sign_if_grown(self) -> CheckpointRecord | None:
        """`sign()` if entries were added since the latest checkpoint; else None."""
        latest, size = self.store.read(self._latest_and_size)
        if not self.can_sign or (latest is not None and latest.size >= size):
            return None
        return self.sign()

    def _sign(self, conn: Connection, signer: str) -> CheckpointRecord:
        frontier = audit_rows.lock_head(conn)
        previous = audit_rows.latest_checkpoint(conn)
        if previous is not None and previous.size == frontier.size:
            return previous
        root = frontier.root()
        if previous is not None:
            try:
                if previous.size > frontier.size:
                    raise ProofError(f"the tree holds {frontier.size} entries, fewer than signed")
                proof = consistency_proof(previous.size, frontier.size, StoredHashReader(conn))
                verify_consistency(previous.size, frontier.size, previous.root_hash, root, proof)
            except AuditError as e:
                raise DomainError(
                    f"refusing to sign: the tree of {frontier.size} entries is not consistent "
                    f"with the checkpoint of size {previous.size} the log signed before ({e}); "
                    "the stored log was altered",
                    code=ErrorCode.CONFLICT,
                ) from e
        key = parse_signer_key(signer)
        checkpoint = Checkpoint(origin=key.name, size=frontier.size, root_hash=root)
        record = audit_rows.CheckpointRecord(
            size=frontier.size,
            root_hash=root,
            origin=key.name,
            note=sign_checkpoint(checkpoint, signer),
            signed_at=self._clock(),
        )
        audit_rows.insert_checkpoint(conn, record)
        return record

    @staticmethod
    def _latest_and_size(conn: Connection) -> tuple[CheckpointRecord | None, int]:
        return audit_rows.latest_checkpoint(conn), audit_rows.read_head(conn).size

    def latest_checkpoint(self) -> CheckpointRecord | None:
        return self.store.read(audit_rows.latest_checkpoint)

    def checkpoint(self) -> CheckpointRecord:
        """The latest signed checkpoint; with a key and none signed yet, one signed now."""
        latest = self.latest_checkpoint()
        if latest is None and self.can_sign:
            return self.sign()
        if latest is None:
            raise _no_checkpoint()
        return latest

    def available(self) -> bool:
        """Whether there is (or this process can make) a checkpoint to show."""
        return self.can_sign or self.latest_checkpoint() is not None

    def signed_checkpoint(self) -> str:
        return self.checkpoint().note

    # --- entries and proofs -----------------------------------------------------------

    def size(self) -> int:
        return self.store.read(lambda conn: audit_rows.read_head(conn).size)

    def stored_entries(self, start: int, end: int) -> list[StoredEntry]:
        """Entries `start` ≤ index < `end` (clipped to the log), at most MAX_ENTRIES_PAGE."""
        if start < 0 or end < start:
            raise InputError(f"no entries `[{start}, {end})`; need 0 <= start <= end")
        if end - start > MAX_ENTRIES_PAGE:
            raise InputError(
                f"at most {MAX_ENTRIES_PAGE} entries per request; asked for {end - start}"
            )

        def fn(conn: Connection) -> list[StoredEntry]:
            size = audit_rows.read_head(conn).size
            return audit_rows.read_entries(conn, min(start, size), min(end, size))

        return self.store.read(fn)

    def entries(self, start: int, end: int) -> list[bytes]:
        return [e.entry for e in self.stored_entries(start, end)]

    def order_entries(self, order_id: str) -> list[int]:
        """The indices of an order's entries (its event seqs)."""
        return self.store.read(lambda conn: seqs_by_subject(conn, [order_id])[order_id])

    def inclusion_proof(self, index: int, tree_size: int) -> tuple[bytes, ...]:
        return self._proof(
            tree_size, lambda conn: inclusion_proof(index, tree_size, StoredHashReader(conn))
        )

    def consistency_proof(self, first: int, second: int) -> tuple[bytes, ...]:
        return self._proof(
            second, lambda conn: consistency_proof(first, second, StoredHashReader(conn))
        )

    def root_at(self, tree_size: int) -> bytes:
        return self._proof(tree_size, lambda conn: root_at(tree_size, StoredHashReader(conn)))

    def _proof(self, tree_size: int, fn: Callable[[Connection], T]) -> T:
        def run(conn: Connection) -> T:
            size = audit_rows.read_head(conn).size
            if not 0 <= tree_size <= size:
                raise InputError(
                    f"tree size `{tree_size}` is not between 0 and the log's size {size}"
                )
            return fn(conn)

        try:
            return self.store.read(run)
        except ProofError as e:
            raise InputError(str(e)) from e
        except TreeError as e:  # pragma: no cover - a node missing below the head's size
            raise DomainError(f"the stored tree is incomplete: {e}", code=ErrorCode.CONFLICT) from e

    # --- export -----------------------------------------------------------------------

    def export_lines(
        self, start: int = 0, checkpoint: CheckpointRecord | None = None
    ) -> Iterator[bytes]:
        """The lines of an export of entries `start`… up to `checkpoint` (default: latest)."""
        record = checkpoint or self.checkpoint()
        if not 0 <= start <= record.size:
            raise InputError(
                f"cannot export from entry `{start}`: the checkpoint covers {record.size} entries"
            )
        with self.store.begin_read() as conn:
            prefix = audit_rows.frontier_at(conn, start)
            pairs = (
                (e.entry, e.leaf_hash) for e in audit_rows.iter_entries(conn, start, record.size)
            )
            yield from export_lines(prefix, pairs, record.note)
