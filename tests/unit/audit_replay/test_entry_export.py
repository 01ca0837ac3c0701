"""Audit entries and the export format: one spelling each, and errors that say where."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosignatory.core.audit import CompactRange, EntryError, ExportFormatError, Frontier
from cosignatory.core.audit.entry import AuditEntry, event_entry_bytes, is_order_event, parse_entry
from cosignatory.core.audit.export import (
    ExportedCheckpoint,
    ExportedEntry,
    checkpoint_line,
    entry_line,
    header_line,
    read_header,
    read_line,
)
from cosignatory.core.canonical import canonical_json, canonical_text
from cosignatory.core.events import EventKind

AT = datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)
DIGEST = "sha256:" + "ab" * 32


def _review(**overrides: object) -> AuditEntry:
    fields: dict[str, object] = {
        "seq": 7,
        "at": AT,
        "kind": EventKind.ORDER_REVIEWED,
        "actor": "pak",
        "subject": "ord_01",
        "payload": {"order_id": "ord_01", "comment": "né — ok 😀", "amount": 1.5},
        "order_digest": DIGEST,
    }
    fields.update(overrides)
    return AuditEntry(**fields)  # type: ignore[arg-type]


def test_entry_bytes_are_rfc8785_and_parse_back_to_the_same_entry() -> None:
    entry = _review()
    raw = entry.to_bytes()
    assert raw == canonical_json(json.loads(raw))
    assert raw.startswith(b'{"actor":"pak","at":"2026-03-01T08:00:00.123456Z","kind":')
    assert parse_entry(raw) == entry
    assert entry.leaf_hash() == hashlib.sha256(b"\x00" + raw).digest()


def test_from_event_takes_the_stored_payload_text() -> None:
    entry = AuditEntry.from_event(
        seq=0,
        at=AT,
        kind=EventKind.TOKEN_CREATED,
        actor="admin",
        subject="tok_1",
        payload='{"person":"kim","token_id":"tok_1"}',
    )
    assert entry.payload == {"person": "kim", "token_id": "tok_1"}
    assert b'"order_digest"' not in entry.to_bytes()


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    seq=st.integers(0, 2**40),
    kind=st.sampled_from(list(EventKind)),
    actor=_text.filter(bool),
    subject=_text.filter(bool),
    payload=st.dictionaries(_text, _json, max_size=4),
)
def test_spliced_event_bytes_equal_the_entry_bytes(
    seq: int, kind: EventKind, actor: str, subject: str, payload: dict[str, object]
) -> None:
    """What `append_event` hashes (the stored payload spliced in) is `AuditEntry.to_bytes`."""
    digest = DIGEST if is_order_event(kind) else None
    entry = AuditEntry(
        seq=seq,
        at=AT,
        kind=kind,
        actor=actor,
        subject=subject,
        payload=payload,
        order_digest=digest,
    )
    spliced = event_entry_bytes(
        seq=seq,
        at=AT,
        kind=kind,
        actor=actor,
        subject=subject,
        payload_json=canonical_text(payload),
        order_digest=digest,
    )
    assert spliced == entry.to_bytes() == canonical_json(entry.to_json())
    assert parse_entry(spliced) == entry


def _raw(value: dict[str, object]) -> bytes:
    return canonical_json(value)


BASE = json.loads(_review().to_bytes())

# (name, bytes, fragment of the error)
BAD_ENTRIES = [
    ("whitespace", _review().to_bytes().replace(b",", b", ", 1), "not canonical"),
    ("keys out of order", json.dumps(BASE).encode(), "not canonical"),
    (
        "escaped non-ascii",
        json.dumps(BASE, sort_keys=True, separators=(",", ":")).encode(),
        "not canonical",
    ),
    ("float spelled long", _review().to_bytes().replace(b"1.5", b"1.50"), "not canonical"),
    ("not json", b'{"seq":', "not valid JSON"),
    ("lone surrogate", b'{"a":"\\ud800"}', "lone surrogate"),
    ("escaped printable", b'{"a":"\\u00e9"}', "not canonical"),
    ("not utf-8", b'{"actor":"\xff"}', "not valid UTF-8"),
    ("NaN", b'{"a":NaN}', "not a JSON number"),
    ("a list", b"[1,2]", "must be a JSON object"),
    ("missing kind", _raw({k: v for k, v in BASE.items() if k != "kind"}), "lacks `kind`"),
    ("unknown field", _raw({**BASE, "zz": 1}), "unknown fields `zz`"),
    ("unknown kind", _raw({**BASE, "kind": "order:teleported"}), "unknown event kind"),
    ("time without micros", _raw({**BASE, "at": "2026-03-01T08:00:00Z"}), "not a UTC timestamp"),
    ("time with offset", _raw({**BASE, "at": "2026-03-01T08:00:00.000000+01:00"}), "not a UTC"),
    ("impossible date", _raw({**BASE, "at": "2026-02-30T08:00:00.000000Z"}), "not a valid date"),
    ("negative seq", _raw({**BASE, "seq": -1}), "non-negative"),
    ("boolean seq", _raw({**BASE, "seq": True}), "non-negative"),
    ("empty actor", _raw({**BASE, "actor": ""}), "actor must be"),
    ("payload not object", _raw({**BASE, "payload": [1]}), "payload must be"),
    (
        "order event without digest",
        _raw({k: v for k, v in BASE.items() if k != "order_digest"}),
        "needs `order_digest`",
    ),
    ("bad digest", _raw({**BASE, "order_digest": "sha256:AB"}), "needs `order_digest`"),
    ("null digest", _raw({**BASE, "order_digest": None}), "needs `order_digest`"),
    ("digest on a token event", _raw({**BASE, "kind": "token:created"}), "carries no order digest"),
    (
        "inexact large number",
        _raw({**BASE, "seq": 2**53 - 1}).replace(b"9007199254740991", b"9007199254740993"),
        "not canonical",
    ),
]


@pytest.mark.parametrize(
    ("raw", "fragment"), [c[1:] for c in BAD_ENTRIES], ids=[c[0] for c in BAD_ENTRIES]
)
def test_malformed_entries_are_refused(raw: bytes, fragment: str) -> None:
    with pytest.raises(EntryError, match=None) as info:
        parse_entry(raw)
    assert fragment in str(info.value)


def test_export_lines_round_trip() -> None:
    entries = [_review(seq=i).to_bytes() for i in range(5)]
    tree = CompactRange()
    tree.extend_entries(entries[:3])
    header = read_header(header_line(tree.frontier()))
    assert header.start == 3
    assert header.prefix == tree.frontier()

    line = entry_line(entries[3], hashlib.sha256(b"\x00" + entries[3]).digest())
    parsed = read_line(line, 5)
    assert parsed == ExportedEntry(
        line=5, entry=entries[3], unverified_leaf_hash=hashlib.sha256(b"\x00" + entries[3]).digest()
    )
    assert json.loads(line)["entry"] == json.loads(entries[3])  # plain JSON Lines to any tool

    note = "log\n3\nAAAA\n\n— log sig\n"
    assert read_line(checkpoint_line(note), 9) == ExportedCheckpoint(line=9, unverified_note=note)


GOOD_HEADER = header_line(Frontier.empty())
LEAF = base64.b64encode(bytes(32)).decode()

BAD_HEADERS = [
    ("empty line", b"\n", "not a cosignatory audit log export"),
    ("other json", b'{"hello":1}\n', "must name format"),
    ("no newline", GOOD_HEADER[:-1], "does not end with a newline"),
    (
        "future version",
        GOOD_HEADER.replace(b'"version":1', b'"version":2'),
        "version `2` is not supported",
    ),
    (
        "prefix does not fit",
        GOOD_HEADER.replace(b'"start":0', b'"start":1'),
        "does not fit start `1`",
    ),
    (
        "prefix not base64",
        _raw({"format": "cosignatory-audit-log", "prefix": ["!!"], "start": 1, "version": 1})
        + b"\n",
        "not base64",
    ),
    (
        "extra key",
        _raw({"format": "cosignatory-audit-log", "prefix": [], "start": 0, "version": 1, "x": 1})
        + b"\n",
        "exactly",
    ),
]


@pytest.mark.parametrize(
    ("raw", "fragment"), [c[1:] for c in BAD_HEADERS], ids=[c[0] for c in BAD_HEADERS]
)
def test_bad_headers_name_line_1(raw: bytes, fragment: str) -> None:
    with pytest.raises(ExportFormatError) as info:
        read_header(raw)
    assert info.value.line == 1
    assert fragment in info.value.message


BAD_LINES = [
    ("neither", b'{"foo":1}\n', "neither an entry nor the checkpoint"),
    ("entry without hash", b'{"entry":{"a":1}}\n', "must end with its `leaf_hash`"),
    ("short hash", b'{"entry":{"a":1},"leaf_hash":"AAAA"}\n', "must end with its `leaf_hash`"),
    (
        "non-canonical base64",
        b'{"entry":{"a":1},"leaf_hash":"' + LEAF[:-2].encode() + b'B="}\n',
        "not a canonical base64",
    ),
    ("checkpoint not a string", b'{"checkpoint":1}\n', "must be a string"),
    ("checkpoint with extra key", b'{"checkpoint":"x","z":1}\n', "only `checkpoint`"),
    ("checkpoint not canonical", b'{"checkpoint": "x"}\n', "not canonical"),
]


@pytest.mark.parametrize(
    ("raw", "fragment"), [c[1:] for c in BAD_LINES], ids=[c[0] for c in BAD_LINES]
)
def test_bad_lines_name_their_line(raw: bytes, fragment: str) -> None:
    with pytest.raises(ExportFormatError) as info:
        read_line(raw, 42)
    assert info.value.line == 42
    assert fragment in info.value.message
