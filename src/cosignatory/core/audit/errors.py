"""The audit log's exception tree (drawn in `cosignatory.core.audit`'s docstring)."""

from __future__ import annotations

__all__ = [
    "AuditError",
    "CheckpointError",
    "EntryError",
    "ExportFormatError",
    "NoteFormatError",
    "OriginMismatchError",
    "ProofError",
    "SignatureError",
    "TreeError",
    "UnknownKeyError",
]


class AuditError(Exception):
    """Base of every error raised by `cosignatory.core.audit`."""


class TreeError(AuditError):
    """A tree state or hash store is inconsistent: bad frontier, missing or conflicting node."""


class ProofError(AuditError):
    """A proof does not verify, or was asked for with impossible arguments."""


class CheckpointError(AuditError):
    """A checkpoint, signed note or key string cannot be trusted."""


class NoteFormatError(CheckpointError):
    """A signed note, checkpoint body or key string is malformed."""


class UnknownKeyError(CheckpointError):
    """The note carries no signature by the verifier key."""


class SignatureError(CheckpointError):
    """A signature by the verifier key does not verify."""


class OriginMismatchError(CheckpointError):
    """The checkpoint's origin is not the one expected."""


class EntryError(AuditError):
    """An audit entry is not the canonical JSON of a well-formed event."""


class ExportFormatError(AuditError):
    """A log export is malformed; `line` is the 1-based line at fault (0: the whole file)."""

    def __init__(self, message: str, *, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
