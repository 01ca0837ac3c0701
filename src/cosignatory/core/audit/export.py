"""The log export format (JSON Lines): what `audit export` writes and `audit verify` reads.

    {"format":"cosignatory-audit-log","prefix":[…],"start":0,"version":1}     line 1
    {"entry":{…entry 0…},"leaf_hash":"<base64>"}                             line 2
    …                                                                        one per entry
    {"checkpoint":"<signed note>"}                                           last line

Every line is RFC 8785 canonical JSON followed by `\\n`, and nothing else is allowed, so
an export has exactly one spelling: any changed byte is a changed value. An entry line
embeds the entry's canonical bytes verbatim (`AuditEntry.to_bytes`, the leaf input) next
to the leaf hash the log stored for it; the verifier recomputes that hash, which pins a
single-byte change to the entry it hit. An export of the entries from `start` on carries
in `prefix` the base64 frontier hashes of the tree of the first `start` entries (see
`Frontier`), enough to recompute every root after it.

Parsing is streaming (`read_header`, `read_line`): logs of millions of entries are
checked one line at a time. Errors are `ExportFormatError` with the 1-based line number.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cosignatory.core.audit.entry import loads_canonical
from cosignatory.core.audit.errors import EntryError, ExportFormatError, TreeError
from cosignatory.core.audit.merkle import HASH_SIZE, Frontier
from cosignatory.core.canonical import canonical_json

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "ExportHeader",
    "ExportedCheckpoint",
    "ExportedEntry",
    "checkpoint_line",
    "entry_line",
    "export_lines",
    "header_line",
    "read_header",
    "read_line",
]

EXPORT_FORMAT = "cosignatory-audit-log"
EXPORT_VERSION = 1

_ENTRY_HEAD = b'{"entry":'
_ENTRY_TAIL = re.compile(rb',"leaf_hash":"([A-Za-z0-9+/]{43}=)"}\n\Z')
_CHECKPOINT_HEAD = b'{"checkpoint":'
_MAX_LINE = 4 << 20  # an entry embeds at most one policy text (1 MB) plus its escapes


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64_hash(text: object, what: str, line: int) -> bytes:
    if not isinstance(text, str):
        raise ExportFormatError(f"{what} must be a base64 string", line=line)
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as e:
        raise ExportFormatError(f"{what} `{text}` is not base64", line=line) from e
    if len(raw) != HASH_SIZE or _b64(raw) != text:
        raise ExportFormatError(
            f"{what} `{text}` is not a canonical base64 SHA-256 hash", line=line
        )
    return raw


# --- writing ---------------------------------------------------------------------------


def header_line(prefix: Frontier) -> bytes:
    """Line 1 of an export of the entries from `prefix.size` on."""
    value = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "start": prefix.size,
        "prefix": [_b64(h) for h in prefix.hashes],
    }
    return canonical_json(value) + b"\n"


def entry_line(entry: bytes, leaf_hash: bytes) -> bytes:
    """The line of one entry: its canonical bytes and the leaf hash the log stored."""
    if len(leaf_hash) != HASH_SIZE:
        raise RuntimeError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash)}")
    if b"\n" in entry:
        raise RuntimeError("an entry in canonical JSON never contains a newline")
    return _ENTRY_HEAD + entry + b',"leaf_hash":"' + _b64(leaf_hash).encode("ascii") + b'"}\n'


def checkpoint_line(note: str) -> bytes:
    """The last line: the signed checkpoint note as a JSON string."""
    return canonical_json({"checkpoint": note}) + b"\n"


def export_lines(
    prefix: Frontier, entries: Iterable[tuple[bytes, bytes]], note: str
) -> Iterator[bytes]:
    """Every line of an export: header, `(entry bytes, leaf hash)` pairs, checkpoint."""
    yield header_line(prefix)
    for entry, leaf in entries:
        yield entry_line(entry, leaf)
    yield checkpoint_line(note)


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ExportHeader:
    start: int
    prefix: Frontier


@dataclass(frozen=True, kw_only=True)
class ExportedEntry:
    """An entry line, parsed but not verified: `unverified_leaf_hash` is only a claim."""

    line: int
    entry: bytes
    unverified_leaf_hash: bytes


@dataclass(frozen=True, kw_only=True)
class ExportedCheckpoint:
    """The checkpoint line; its note is not verified here."""

    line: int
    unverified_note: str


def _check_line(raw: bytes, line: int) -> None:
    if not raw.endswith(b"\n"):
        raise ExportFormatError("the last line does not end with a newline (truncated?)", line=line)
    if len(raw) > _MAX_LINE:
        raise ExportFormatError(f"line is longer than {_MAX_LINE} bytes", line=line)


def read_header(raw: bytes) -> ExportHeader:
    """Parse line 1; `ExportFormatError(line=1)` if this is not a cosignatory export."""
    _check_line(raw, 1)
    try:
        value = loads_canonical(raw[:-1])
    except EntryError as e:
        raise ExportFormatError(f"not a cosignatory audit log export: {e}", line=1) from e
    if not isinstance(value, dict) or value.get("format") != EXPORT_FORMAT:
        raise ExportFormatError(
            f"not a cosignatory audit log export (line 1 must name format `{EXPORT_FORMAT}`)",
            line=1,
        )
    if set(value) != {"format", "version", "start", "prefix"}:
        raise ExportFormatError("header must have exactly format, version, start, prefix", line=1)
    if value["version"] != EXPORT_VERSION:
        raise ExportFormatError(
            f"export format version `{value['version']}` is not supported "
            f"(this verifier reads version {EXPORT_VERSION})",
            line=1,
        )
    start, prefix = value["start"], value["prefix"]
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise ExportFormatError(f"header start `{start!r}` is not an entry index", line=1)
    if not isinstance(prefix, list):
        raise ExportFormatError("header prefix must be a list of base64 hashes", line=1)
    hashes = tuple(_unb64_hash(h, "prefix hash", 1) for h in prefix)
    try:
        frontier = Frontier(size=start, hashes=hashes)
    except TreeError as e:
        raise ExportFormatError(f"header prefix does not fit start `{start}`: {e}", line=1) from e
    return ExportHeader(start=start, prefix=frontier)


def read_line(raw: bytes, line: int) -> ExportedEntry | ExportedCheckpoint:
    """Parse an entry line or the checkpoint line (after line 1)."""
    _check_line(raw, line)
    if raw.startswith(_ENTRY_HEAD):
        tail = _ENTRY_TAIL.search(raw)
        if tail is None:
            raise ExportFormatError("entry line must end with its `leaf_hash`", line=line)
        leaf = _unb64_hash(tail.group(1).decode("ascii"), "leaf hash", line)
        return ExportedEntry(
            line=line, entry=raw[len(_ENTRY_HEAD) : tail.start()], unverified_leaf_hash=leaf
        )
    if raw.startswith(_CHECKPOINT_HEAD):
        try:
            value = loads_canonical(raw[:-1])
        except EntryError as e:
            raise ExportFormatError(f"checkpoint line is malformed: {e}", line=line) from e
        if not isinstance(value, dict) or set(value) != {"checkpoint"}:
            raise ExportFormatError("checkpoint line must hold only `checkpoint`", line=line)
        note = value["checkpoint"]
        if not isinstance(note, str):
            raise ExportFormatError("checkpoint must be a string (the signed note)", line=line)
        return ExportedCheckpoint(line=line, unverified_note=note)
    raise ExportFormatError("line is neither an entry nor the checkpoint", line=line)
