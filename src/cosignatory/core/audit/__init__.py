"""The tamper-evident audit log, pure part: RFC 6962 Merkle tree, proofs, checkpoints.

    merkle.py      leaf/node hashes, `Frontier` (O(log n) state), `CompactRange` appender
    store.py       tlog-tiles node addresses, the `HashReader` port, `MemoryHashStore`
    log.py         `append_entry`: one append as a value (nodes, frontier, root)
    proofs.py      inclusion and consistency proofs, made and verified (RFC 9162 §2.1)
    note.py        C2SP signed-note with Ed25519 keys (golang sumdb/note key strings)
    checkpoint.py  C2SP tlog-checkpoint, signed and verified as a note
    entry.py       `AuditEntry`: an event as the canonical JSON bytes of one leaf
    export.py      the JSON Lines export format: header, entry lines, checkpoint line
    replay.py      offline replay: the logged history obeys the lifecycle and the policies
    replay_*.py    its rules for policy and order entries, and the state it keeps
    verify.py      `verify_export`: integrity, signature, consistency, then the replay

Exceptions (all in `errors.py`):

    AuditError
    ├── TreeError              bad frontier; node missing from, or conflicting in, a store
    ├── ProofError             proof does not verify, or impossible index / sizes
    ├── EntryError             an entry is not the canonical JSON of a well-formed event
    ├── ExportFormatError      a log export is malformed (`.line` says where)
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
from cosignatory.core.audit.entry import AuditEntry, parse_entry
from cosignatory.core.audit.errors import (
    AuditError,
    CheckpointError,
    EntryError,
    ExportFormatError,
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
from cosignatory.core.audit.replay import Replayer, ReplayProblem, ReplaySummary, replay
from cosignatory.core.audit.store import (
    HashReader,
    MemoryHashStore,
    Node,
    NodeAddress,
    root_at,
    subtree_addresses,
    subtree_hashes,
)
from cosignatory.core.audit.verify import VerifyProblem, VerifyReport, verify_export

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "AppendResult",
    "AuditEntry",
    "AuditError",
    "Checkpoint",
    "CheckpointError",
    "CompactRange",
    "EntryError",
    "ExportFormatError",
    "Frontier",
    "HashReader",
    "MemoryHashStore",
    "Node",
    "NodeAddress",
    "NoteFormatError",
    "OriginMismatchError",
    "ProofError",
    "ReplayProblem",
    "ReplaySummary",
    "Replayer",
    "SignatureError",
    "SignerKey",
    "TreeError",
    "UnknownKeyError",
    "VerifierKey",
    "VerifyProblem",
    "VerifyReport",
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
    "parse_entry",
    "parse_signer_key",
    "parse_verifier_key",
    "replay",
    "root_at",
    "root_from_entries",
    "root_of",
    "sign_checkpoint",
    "sign_note",
    "subtree_addresses",
    "subtree_hashes",
    "verify_consistency",
    "verify_export",
    "verify_inclusion",
]
