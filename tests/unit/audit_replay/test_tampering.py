"""Any change to an exported log is detected, and single-byte changes name their entry.

The property test applies 1,200 random tamperings (modify, insert or delete a byte,
delete, duplicate or swap lines, truncate, rewrite an entry and re-hash its line) to
exports of random lawful histories; every one must fail verification, and every change
confined to one entry line must be reported at that entry's index. Then the forgeries
only a key holder or a careful forger can make: a consistent history under the genuine
checkpoint, a history signed by another key, and a rewrite or rollback signed with the
log's own key, caught by an earlier checkpoint.
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
from collections.abc import Callable
from functools import cache

import pytest

from cosignatory.core.audit import VerifyReport, verify_export
from cosignatory.core.audit.entry import AuditEntry

from .history import (
    OTHER_SIGNER,
    SIGNER,
    VERIFIER,
    checkpoint_of,
    export_bytes,
    random_history,
)

TAMPERINGS = 1200
BASE_LOGS = 6


def verify(data: bytes, *, since: str | None = None) -> VerifyReport:
    return verify_export(io.BytesIO(data), verifier_key=VERIFIER, since_note=since)


@cache
def base_log(seed: int) -> tuple[tuple[AuditEntry, ...], bytes]:
    entries = tuple(random_history(random.Random(seed), steps=22).entries)
    return entries, export_bytes(list(entries))


def test_the_untouched_exports_verify() -> None:
    for seed in range(BASE_LOGS):
        entries, data = base_log(seed)
        report = verify(data)
        assert report.ok, report.problem
        assert report.entries == len(entries) > 20
        assert report.replay is not None and report.replay.ok


def _lines(data: bytes) -> list[bytes]:
    return [line + b"\n" for line in data.split(b"\n")[:-1]]


def _entry_index_of_byte(lines: list[bytes], pos: int) -> int | None:
    """The entry whose line holds byte `pos` (None for the header and checkpoint lines)."""
    offset = 0
    for number, line in enumerate(lines):
        if pos < offset + len(line):
            return number - 1 if 0 < number < len(lines) - 1 else None
        offset += len(line)
    return None


Tampering = tuple[str, bytes, int | None]  # (what, tampered export, entry that must be named)


def _flip(rng: random.Random, data: bytes, lines: list[bytes]) -> Tampering:
    pos = rng.randrange(len(data))
    new = rng.choice([b for b in range(256) if b != data[pos]])
    return "flip", data[:pos] + bytes([new]) + data[pos + 1 :], _entry_index_of_byte(lines, pos)


def _insert(rng: random.Random, data: bytes, lines: list[bytes]) -> Tampering:
    pos = rng.randrange(len(data) + 1)
    byte = bytes([rng.randrange(256)])
    return "insert", data[:pos] + byte + data[pos:], _entry_index_of_byte(lines, pos)


def _delete(rng: random.Random, data: bytes, lines: list[bytes]) -> Tampering:
    pos = rng.randrange(len(data))
    return "delete", data[:pos] + data[pos + 1 :], _entry_index_of_byte(lines, pos)


def _delete_line(rng: random.Random, data: bytes, lines: list[bytes]) -> Tampering:
    k = rng.randrange(len(lines))
    index = k - 1 if 0 < k < len(lines) - 1 else None
    return "delete line", b"".join(lines[:k] + lines[k + 1 :]), index


def _duplicate_line(rng: random.Random, data: bytes, lines: list[bytes]) -> Tampering:
    k = rng.randrange(1, len(lines) - 1)
    return "duplicate line", b"".join(lines[: k + 1] + lines[k:]), k


def _swap_lines(rng: random.Random, data: bytes, lines: list[bytes]) -> Tampering:
    i, j = sorted(rng.sample(range(1, len(lines) - 1), 2))
    swapped = [*lines[:i], lines[j], *lines[i + 1 : j], lines[i], *lines[j + 1 :]]
    return "swap lines", b"".join(swapped), i - 1


def _truncate(rng: random.Random, data: bytes, lines: list[bytes]) -> Tampering:
    return "truncate", data[: rng.randrange(len(data))], None


def _rewrite_entry(rng: random.Random, data: bytes, lines: list[bytes]) -> Tampering:
    """Change one entry's content and recompute its line, leaf hash included."""
    k = rng.randrange(1, len(lines) - 1)
    entry = json.loads(lines[k])["entry"]
    field = rng.choice(["actor", "at", "subject", "payload"])
    if field == "payload":
        entry["payload"] = {**entry["payload"], "comment": "nothing to see here"}
    elif field == "at":
        entry["at"] = entry["at"].replace("2026", "2025")
    else:
        entry[field] = entry[field] + "x"
    from cosignatory.core.audit.entry import parse_entry
    from cosignatory.core.audit.export import entry_line
    from cosignatory.core.canonical import canonical_json

    raw = canonical_json(entry)
    new = entry_line(raw, parse_entry(raw).leaf_hash())
    return "rewrite entry", b"".join([*lines[:k], new, *lines[k + 1 :]]), None


MUTATORS: list[Callable[[random.Random, bytes, list[bytes]], Tampering]] = [
    _flip,
    _flip,
    _insert,
    _delete,
    _delete_line,
    _duplicate_line,
    _swap_lines,
    _truncate,
    _rewrite_entry,
]


def test_every_random_tampering_is_detected_and_single_entry_changes_are_located() -> None:
    rng = random.Random(6962)
    seen: dict[str, int] = {}
    located = 0
    for _ in range(TAMPERINGS):
        _, data = base_log(rng.randrange(BASE_LOGS))
        mutate = rng.choice(MUTATORS)
        what, tampered, index = mutate(rng, data, _lines(data))
        if tampered == data:  # e.g. swapping two identical lines
            continue
        seen[what] = seen.get(what, 0) + 1
        report = verify(tampered)
        assert report.problem is not None, (what, index)
        if index is not None:
            assert report.problem.index == index, (what, index, str(report.problem))
            assert report.problem.tampered
            located += 1
    assert sum(seen.values()) >= 1000
    assert all(n >= 50 for n in seen.values()), seen
    assert located >= 500


def test_a_single_byte_change_names_the_entry_and_its_line() -> None:
    _entries, data = base_log(0)
    lines = _lines(data)
    target = 5
    start = sum(map(len, lines[: target + 1]))
    pos = start + lines[target + 1].index(b'"actor":"') + len('"actor":"')
    tampered = data[:pos] + b"X" + data[pos + 1 :]
    report = verify(tampered)
    assert report.problem is not None
    assert (report.problem.index, report.problem.line) == (target, target + 2)
    assert "do not hash to the leaf hash" in report.problem.message


# --- forgeries --------------------------------------------------------------------------


def _comment_rewritten(entries: tuple[AuditEntry, ...]) -> list[AuditEntry]:
    """The same history with one review's comment changed: still lawful, other bytes."""
    out = list(entries)
    k = next(i for i, e in enumerate(out) if e.kind.value == "order:reviewed")
    out[k] = dataclasses.replace(out[k], payload={**out[k].payload, "comment": "forged"})
    return out


def test_a_consistent_forgery_under_the_genuine_checkpoint_fails_on_the_root() -> None:
    entries, _ = base_log(1)
    forged = _comment_rewritten(entries)
    data = export_bytes(forged, note=checkpoint_of(list(entries)))
    report = verify(data)
    assert report.problem is not None and report.problem.tampered
    assert "do not hash to the root of the signed checkpoint" in report.problem.message


def test_a_forgery_signed_by_another_key_fails_on_the_signature() -> None:
    entries, _ = base_log(1)
    data = export_bytes(_comment_rewritten(entries), signer=OTHER_SIGNER)
    report = verify(data)
    assert report.problem is not None and report.problem.tampered
    assert "does not verify" in report.problem.message


def test_a_history_rewritten_and_resigned_by_the_log_is_caught_by_an_earlier_checkpoint() -> None:
    entries, _ = base_log(2)
    earlier = checkpoint_of(list(entries), size=len(entries) - 3)
    forged = _comment_rewritten(entries)
    data = export_bytes(forged, signer=SIGNER)  # the log operator holds the key
    assert verify(data).ok  # on its own, a re-signed lawful history cannot be told apart
    report = verify(data, since=earlier)
    assert report.problem is not None and report.problem.tampered
    assert f"not consistent with the earlier checkpoint of size {len(entries) - 3}" in (
        report.problem.message
    )


def test_a_rollback_is_caught_by_an_earlier_checkpoint() -> None:
    entries, _ = base_log(3)
    earlier = checkpoint_of(list(entries))
    shorter = list(entries[:-4])
    report = verify(export_bytes(shorter), since=earlier)
    assert report.problem is not None and report.problem.tampered
    assert "the log shrank" in report.problem.message


def test_a_grown_log_is_consistent_with_each_of_its_earlier_checkpoints() -> None:
    entries, data = base_log(4)
    for size in (0, 1, 7, len(entries) // 2, len(entries)):
        report = verify(data, since=checkpoint_of(list(entries), size=size))
        assert report.ok, (size, report.problem)
        assert report.since is not None and report.since.size == size


def test_a_forged_rewrite_of_the_newer_part_is_located_after_the_earlier_checkpoint() -> None:
    entries, _ = base_log(4)
    forged = list(entries)
    forged[-1] = dataclasses.replace(forged[-1], actor="mallory")
    data = export_bytes(forged, note=checkpoint_of(list(entries)))
    report = verify(data, since=checkpoint_of(list(entries), size=10))
    assert report.problem is not None
    assert "the first 10 entries still match the earlier checkpoint" in report.problem.message


def test_an_earlier_checkpoint_by_another_key_is_bad_input() -> None:
    entries, data = base_log(0)
    report = verify(data, since=checkpoint_of(list(entries), signer=OTHER_SIGNER))
    assert report.problem is not None and not report.problem.tampered
    assert "earlier checkpoint cannot be used" in report.problem.message


# --- partial exports --------------------------------------------------------------------


@pytest.mark.parametrize("start", [1, 8, 16, 21])
def test_an_export_from_the_middle_verifies_without_replay(start: int) -> None:
    entries, _ = base_log(5)
    data = export_bytes(list(entries), start=start)
    report = verify(data)
    assert report.ok, report.problem
    assert (report.start, report.entries, report.replay) == (start, len(entries) - start, None)
    assert verify(data, since=checkpoint_of(list(entries), size=start)).ok
    assert verify(data, since=checkpoint_of(list(entries), size=len(entries) - 1)).ok
    too_early = verify(data, since=checkpoint_of(list(entries), size=start - 1))
    assert too_early.problem is not None and not too_early.problem.tampered

    lines = _lines(data)
    pos = len(lines[0]) + 20  # inside the first entry line
    tampered = verify(data[:pos] + b"~" + data[pos + 1 :])
    assert tampered.problem is not None and tampered.problem.index == start


def test_a_forged_prefix_in_a_partial_export_fails_on_the_root() -> None:
    entries, _ = base_log(5)
    data = export_bytes(list(entries), start=8)
    header, rest = data.split(b"\n", 1)
    value = json.loads(header)
    value["prefix"][0] = "A" * 43 + "="
    from cosignatory.core.canonical import canonical_json

    report = verify(canonical_json(value) + b"\n" + rest)
    assert report.problem is not None and report.problem.tampered
