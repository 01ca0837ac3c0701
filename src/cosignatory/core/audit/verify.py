"""Offline verification of a log export: integrity, signature, consistency, then the rules.

`verify_export` reads an export line by line (see `export.py`) and, in one pass:

1. checks every entry line: its index follows the previous one, its bytes hash to the
   leaf hash stored next to them, it is a canonical, well-formed entry with that `seq`;
2. rebuilds the RFC 6962 tree from the entries (after the header's `prefix`) and checks
   its root and size against the signed checkpoint on the last line, verified with the
   log's key;
3. with an earlier checkpoint (`since`, signed by the same key), checks that the log
   still extends it: the tree of its size, rebuilt from the export, has its root;
4. replays the history (`replay.py`) when the export starts at entry 0.

It reports the first problem, with the entry index and line where there is one. A
`VerifyProblem` is `tampered` unless the input is not a log export, or the key or the
earlier checkpoint given to check it with is unusable (the CLI's exit 2).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from cosignatory.core.audit.checkpoint import Checkpoint, parse_and_verify
from cosignatory.core.audit.entry import parse_entry
from cosignatory.core.audit.errors import CheckpointError, EntryError, ExportFormatError
from cosignatory.core.audit.export import ExportedCheckpoint, read_header, read_line
from cosignatory.core.audit.merkle import CompactRange
from cosignatory.core.audit.replay import Replayer, ReplaySummary

__all__ = ["VerifyProblem", "VerifyReport", "verify_export"]

_BATCH = 4096  # leaves hashed into the tree per `extend` call


@dataclass(frozen=True, kw_only=True)
class VerifyProblem:
    message: str
    tampered: bool = True
    index: int | None = None  # the entry at fault, when one is
    line: int | None = None

    def __str__(self) -> str:
        where = []
        if self.index is not None:
            where.append(f"entry {self.index}")
        if self.line is not None:
            where.append(f"line {self.line}")
        return (", ".join(where) + ": " if where else "") + self.message


@dataclass(frozen=True, kw_only=True)
class VerifyReport:
    """The outcome of `verify_export`; `problem` is None when everything checked out."""

    start: int = 0
    entries: int = 0
    checkpoint: Checkpoint | None = None
    since: Checkpoint | None = None
    replay: ReplaySummary | None = None
    problem: VerifyProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_json(self) -> dict[str, Any]:
        cp = self.checkpoint
        return {
            "ok": self.ok,
            "start": self.start,
            "entries": self.entries,
            "checkpoint": None
            if cp is None
            else {
                "origin": cp.origin,
                "size": cp.size,
                "root_hash": base64.b64encode(cp.root_hash).decode("ascii"),
            },
            "since_size": self.since.size if self.since is not None else None,
            "replay": self.replay.to_json() if self.replay is not None else None,
            "problem": None
            if self.problem is None
            else {
                "message": self.problem.message,
                "tampered": self.problem.tampered,
                "index": self.problem.index,
                "line": self.problem.line,
            },
        }


class _Failed(Exception):
    def __init__(self, problem: VerifyProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _fail(message: str, *, index: int | None = None, line: int | None = None) -> _Failed:
    return _Failed(VerifyProblem(message=message, index=index, line=line))


def _bad_input(message: str, *, line: int | None = None) -> _Failed:
    return _Failed(VerifyProblem(message=message, tampered=False, line=line))


def verify_export(
    lines: Iterable[bytes],
    *,
    verifier_key: str,
    since_note: str | bytes | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Verify an export given as its lines (each ending in `\\n`, as a binary file yields).

    `progress`, if given, is called now and then with the number of bytes read so far.
    """
    state = _Verification(verifier_key=verifier_key, progress=progress)
    try:
        state.since = state.open_since(since_note)
        state.run(iter(lines))
    except _Failed as e:
        return state.report(e.problem)
    return state.report(state.final_problem())


class _Verification:
    """One pass over an export; `run` raises `_Failed` at the first integrity problem."""

    def __init__(self, *, verifier_key: str, progress: Callable[[int], None] | None) -> None:
        self.key = verifier_key
        self.progress = progress
        self.since: Checkpoint | None = None
        self.since_root: bytes | None = None
        self.start = 0
        self.count = 0
        self.checkpoint: Checkpoint | None = None
        self.tree = CompactRange()
        self.pending: list[bytes] = []
        self.replayer: Replayer | None = None
        self.bytes_read = 0

    def open_since(self, note: str | bytes | None) -> Checkpoint | None:
        if note is None:
            return None
        try:
            return parse_and_verify(note, self.key)
        except CheckpointError as e:
            raise _bad_input(f"the earlier checkpoint cannot be used: {e}") from e

    def report(self, problem: VerifyProblem | None) -> VerifyReport:
        return VerifyReport(
            start=self.start,
            entries=self.count,
            checkpoint=self.checkpoint,
            since=self.since,
            replay=self.replayer.finish() if self.replayer is not None else None,
            problem=problem,
        )

    def run(self, lines: Iterator[bytes]) -> None:
        first = next(lines, None)
        if first is None:
            raise _bad_input("the file is empty; it is not a cosignatory audit log export")
        try:
            header = read_header(first)
        except ExportFormatError as e:
            raise _bad_input(e.message, line=1) from e
        self.bytes_read = len(first)
        self.start = header.start
        self.tree = CompactRange(header.prefix)
        if self.since is not None:
            if self.since.size < self.start:
                raise _bad_input(
                    f"the export starts at entry {self.start}, after the earlier checkpoint's "
                    f"size {self.since.size}; export from `{self.since.size}` or earlier"
                )
            self._check_since()
        if self.start == 0:
            self.replayer = Replayer()
        line_no = 1
        ahead = next(lines, None)
        while ahead is not None:
            raw, ahead = ahead, next(lines, None)
            line_no += 1
            self.bytes_read += len(raw)
            try:
                item = read_line(raw, line_no)
            except ExportFormatError as e:
                # Every line but the last stands where an entry belongs.
                is_entry = ahead is not None or raw.startswith(b'{"entry":')
                index = self.start + self.count if is_entry else None
                raise _fail(e.message, index=index, line=line_no) from e
            if isinstance(item, ExportedCheckpoint):
                self._flush()
                self._checkpoint(item, ahead, line_no)
                return
            self._entry(item.entry, item.unverified_leaf_hash, line_no)
        self._flush()
        raise _fail(
            f"the export ends after entry {self.start + self.count - 1} without its "
            "checkpoint line (truncated?)",
            line=line_no,
        )

    def _entry(self, raw: bytes, unverified_leaf: bytes, line: int) -> None:
        index = self.start + self.count
        leaf = sha256(b"\x00" + raw).digest()
        if leaf != unverified_leaf:
            raise _fail(
                "the entry's bytes do not hash to the leaf hash the log stored for it; "
                "the entry or its hash was changed",
                index=index,
                line=line,
            )
        try:
            entry = parse_entry(raw)
        except EntryError as e:
            raise _fail(f"malformed entry: {e}", index=index, line=line) from e
        if entry.seq != index:
            raise _fail(
                f"found entry `{entry.seq}` where entry {index} belongs "
                "(an entry was removed, inserted or moved)",
                index=index,
                line=line,
            )
        self.count += 1
        self.pending.append(leaf)
        since_size = self.since.size if self.since is not None else -1
        if len(self.pending) >= _BATCH or index + 1 == since_size:
            self._flush()
            if self.progress is not None:
                self.progress(self.bytes_read)
        if self.replayer is not None:
            self.replayer.feed(entry)

    def _flush(self) -> None:
        if self.pending:
            self.tree.extend(self.pending)
            self.pending = []
        if self.since is not None and self.tree.size == self.since.size:
            self._check_since()

    def _check_since(self) -> None:
        if self.since is None or self.since_root is not None or self.tree.size != self.since.size:
            return
        self.since_root = self.tree.root()

    def _checkpoint(self, item: ExportedCheckpoint, extra: bytes | None, line: int) -> None:
        if extra is not None:
            raise _fail("the export goes on after its checkpoint line", line=line + 1)
        try:
            checkpoint = parse_and_verify(item.unverified_note, self.key)
        except CheckpointError as e:
            raise _fail(f"the checkpoint does not verify: {e}", line=line) from e
        self.checkpoint = checkpoint
        end = self.start + self.count
        if checkpoint.size > end:
            raise _fail(
                f"the signed checkpoint covers {checkpoint.size} entries, the export stops at "
                f"{end}: entries from {end} on are missing (truncated?)",
                index=end,
                line=line,
            )
        if checkpoint.size < end:
            raise _fail(
                f"the signed checkpoint covers {checkpoint.size} entries, but the export goes "
                f"on past it",
                index=checkpoint.size,
                line=2 + checkpoint.size - self.start,
            )
        if self.progress is not None:
            self.progress(self.bytes_read)

    def final_problem(self) -> VerifyProblem | None:
        """After a clean pass: roots against the checkpoints, then the replay."""
        checkpoint = self.checkpoint
        if checkpoint is None:  # pragma: no cover - run() returns only after the checkpoint
            raise RuntimeError("verification finished without a checkpoint")
        since = self.since
        if since is not None and since.size > checkpoint.size:
            return VerifyProblem(
                message=f"the log shrank: an earlier checkpoint signed {since.size} entries, "
                f"this one only {checkpoint.size}; the log was rolled back or forked"
            )
        if self.tree.root() != checkpoint.root_hash:
            where = ""
            if since is not None and since.size > 0:
                if self.since_root == since.root_hash:
                    where = (
                        f"; the first {since.size} entries still match the earlier checkpoint, "
                        f"so the change is among entries {since.size}–{checkpoint.size - 1}"
                    )
                else:
                    where = f"; the change is already among the first {since.size} entries"
            return VerifyProblem(
                message="the entries do not hash to the root of the signed checkpoint: every "
                "entry matches its own leaf hash, so a whole history was rewritten "
                f"consistently{where}"
            )
        if since is not None and since.size > 0 and self.since_root != since.root_hash:
            return VerifyProblem(
                message=f"the signed log is not consistent with the earlier checkpoint of "
                f"size {since.size}: its first {since.size} entries hash to another root; "
                "the log operator rewrote history and signed it again"
            )
        if self.replayer is not None:
            summary = self.replayer.finish()
            if summary.problem is not None:
                p = summary.problem
                return VerifyProblem(
                    message=f"the history breaks the rules ({p.kind} `{p.subject}`): {p.message}",
                    index=p.index,
                    line=2 + p.index - self.start,
                )
        return None
