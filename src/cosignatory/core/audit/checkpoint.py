"""C2SP `tlog-checkpoint`: the signed tree head of the audit log.

The note text is the origin line, the tree size in decimal, the base64 root hash and
optional non-empty extension lines, each ending in a newline; it is signed as a
`signed-note` (see `note.py`). A checkpoint comes out of `parse_and_verify` only once
its signature has been checked.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cosignatory.core.audit.errors import NoteFormatError, OriginMismatchError
from cosignatory.core.audit.merkle import HASH_SIZE
from cosignatory.core.audit.note import (
    check_text,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    strict_b64decode,
)

__all__ = [
    "Checkpoint",
    "parse_and_verify",
    "parse_checkpoint_text",
    "sign_checkpoint",
]

_MAX_SIZE = 2**64 - 1


@dataclass(frozen=True, kw_only=True, slots=True)
class Checkpoint:
    """A Merkle tree head: which log (`origin`), how many entries, and their root."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "checkpoint origin")
        if isinstance(self.size, bool) or not 0 <= self.size <= _MAX_SIZE:
            raise NoteFormatError(f"checkpoint size `{self.size}` is not a uint64")
        if len(self.root_hash) != HASH_SIZE:
            raise NoteFormatError(
                f"checkpoint root hash must be {HASH_SIZE} bytes, got {len(self.root_hash)}"
            )
        for line in self.extensions:
            _check_line(line, "checkpoint extension line")

    def text(self) -> str:
        """The note text (the part that is signed)."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines)


def _check_line(line: str, what: str) -> None:
    check_text(line, what)
    if not line or "\n" in line:
        raise NoteFormatError(f"{what} must be one non-empty line, got `{line!r}`")


def parse_checkpoint_text(text: str) -> Checkpoint:
    """Parse a checkpoint body; this checks the format only, not any signature."""
    if not text.endswith("\n"):
        raise NoteFormatError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteFormatError(
            "checkpoint text must have an origin, a tree size and a root hash line"
        )
    origin, size_line, root_line, *extensions = lines
    if not (size_line.isascii() and size_line.isdigit()) or len(size_line) > 20:
        raise NoteFormatError(f"checkpoint tree size `{size_line}` is not a decimal number")
    if size_line != "0" and size_line.startswith("0"):
        raise NoteFormatError(f"checkpoint tree size `{size_line}` has leading zeroes")
    root = strict_b64decode(root_line, "checkpoint root hash")
    return Checkpoint(
        origin=origin, size=int(size_line), root_hash=root, extensions=tuple(extensions)
    )


def sign_checkpoint(checkpoint: Checkpoint, signer_key: str) -> str:
    """The signed note of `checkpoint`, signed with the `PRIVATE+KEY+…` string."""
    return sign_note(checkpoint.text(), parse_signer_key(signer_key))


def parse_and_verify(
    note_text: str | bytes, verifier_key: str, *, origin: str | None = None
) -> Checkpoint:
    """The checkpoint in a note signed by `verifier_key` (`<name>+<id>+<key>`).

    The checkpoint's origin must equal `origin`, which defaults to the key's name (the
    log signs with a key named after its origin). Raises `NoteFormatError`,
    `UnknownKeyError`, `SignatureError` or `OriginMismatchError`.
    """
    verifier = parse_verifier_key(verifier_key)
    checkpoint = parse_checkpoint_text(open_note(note_text, verifier))
    expected = verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise OriginMismatchError(
            f"checkpoint is for log `{checkpoint.origin}`, expected `{expected}`"
        )
    return checkpoint
