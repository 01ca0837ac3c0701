"""The tamper-evident audit log, pure part: RFC 6962 Merkle tree, proofs, checkpoints.

    merkle.py      leaf/node hashes, `Frontier` (O(log n) state), `CompactRange` appender
    store.py       tlog-tiles node addresses, the `HashReader` port, `MemoryHashStore`
    log.py         `append_entry`: one append as a value (nodes, frontier, root)
    proofs.py      inclusion and consistency proofs, made and verified (RFC 9162 §2.1)
    note.py        C2SP signed-note with Ed25519 keys (golang sumdb/note key strings)
    checkpoint.py  C2SP tlog-checkpoint, signed and verified as a note

Exceptions (all in `errors.py`):

    AuditError
    ├── TreeError              bad frontier; node missing from, or conflicting in, a store
    ├── ProofError             proof does not verify, or impossible index / sizes
    └── CheckpointError
        ├── NoteFormatError      malformed note, checkpoint text or key string
        ├── UnknownKeyError      no signature by the verifier key
        ├── SignatureError       a signature by the verifier key fails
        └── OriginMismatchError  checkpoint of another log
"""

from __future__ import annotations

from cosignatory.core.audit.checkpoint import (
    Checkpoint,
    parse_and_verify,
    parse_checkpoint_text,
    sign_checkpoint,
)
from cosignatory.core.audit.errors import (
    AuditError,
    CheckpointError,
    NoteFormatError,
    OriginMismatchError,
    ProofError,
    SignatureError,
    TreeError,
    UnknownKeyError,
)
from cosignatory.core.audit.log import AppendResult, append_entry
from cosignatory.core.audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    Frontier,
    leaf_hash,
    node_hash,
    root_from_entries,
    root_of,
)
from cosignatory.core.audit.note import (
    SignerKey,
    VerifierKey,
    generate_key,
    key_from_seed,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
)
from cosignatory.core.audit.proofs import (
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    verify_consistency,
    verify_inclusion,
)
from cosignatory.core.audit.store import (
    HashReader,
    MemoryHashStore,
    Node,
    NodeAddress,
    root_at,
    subtree_addresses,
    subtree_hashes,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "AppendResult",
    "AuditError",
    "Checkpoint",
    "CheckpointError",
    "CompactRange",
    "Frontier",
    "HashReader",
    "MemoryHashStore",
    "Node",
    "NodeAddress",
    "NoteFormatError",
    "OriginMismatchError",
    "ProofError",
    "SignatureError",
    "SignerKey",
    "TreeError",
    "UnknownKeyError",
    "VerifierKey",
    "append_entry",
    "consistency_proof",
    "consistency_ranges",
    "generate_key",
    "inclusion_proof",
    "inclusion_ranges",
    "key_from_seed",
    "leaf_hash",
    "node_hash",
    "open_note",
    "parse_and_verify",
    "parse_checkpoint_text",
    "parse_signer_key",
    "parse_verifier_key",
    "root_at",
    "root_from_entries",
    "root_of",
    "sign_checkpoint",
    "sign_note",
    "subtree_addresses",
    "subtree_hashes",
    "verify_consistency",
    "verify_inclusion",
]
