"""Signed notes and checkpoints: exact layouts, the Go reference vector, every tampering."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cosignatory.core.audit import (
    EMPTY_ROOT,
    Checkpoint,
    CheckpointError,
    NoteFormatError,
    OriginMismatchError,
    SignatureError,
    UnknownKeyError,
    generate_key,
    key_from_seed,
    open_note,
    parse_and_verify,
    parse_checkpoint_text,
    parse_signer_key,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
)

NAME = "log.example/cosignatory"
SEED = bytes(range(32))
SIGNER = "PRIVATE+KEY+log.example/cosignatory+6a775489+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
VERIFIER = "log.example/cosignatory+6a775489+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
ROOT = hashlib.sha256(b"root").digest()
CHECKPOINT = Checkpoint(origin=NAME, size=20852163, root_hash=ROOT)
NOTE = (
    "log.example/cosignatory\n"
    "20852163\n"
    "SBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n"
    "\n"
    "\u2014 log.example/cosignatory "
    "andUifDI1hLPR/mefoGMOKqHZe6yxI9LMa2zQAZSU7iOyl+/j6K7FsyspMYQylk7m+rdjw1z0ASLTCEpE2nMk/bKUgw=\n"
)

PUBLIC_B64 = VERIFIER.split("+", 2)[2]

# golang.org/x/mod/sumdb/note's own test vector.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_key_strings_from_a_fixed_seed() -> None:
    assert key_from_seed(NAME, SEED) == (SIGNER, VERIFIER)
    public = (
        Ed25519PrivateKey.from_private_bytes(SEED)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    key_id = hashlib.sha256(NAME.encode() + b"\n\x01" + public).digest()[:4]
    public_b64 = base64.b64encode(b"\x01" + public).decode()
    seed_b64 = base64.b64encode(b"\x01" + SEED).decode()
    assert f"{NAME}+{key_id.hex()}+{public_b64}" == VERIFIER
    assert f"PRIVATE+KEY+{NAME}+{key_id.hex()}+{seed_b64}" == SIGNER
    assert parse_signer_key(SIGNER).verifier().encode() == VERIFIER
    assert parse_verifier_key(VERIFIER).encode() == VERIFIER


def test_signed_checkpoint_has_the_exact_c2sp_layout() -> None:
    assert CHECKPOINT.text() == NOTE.split("\n\n", maxsplit=1)[0] + "\n"
    assert sign_checkpoint(CHECKPOINT, SIGNER) == NOTE
    assert parse_and_verify(NOTE, VERIFIER) == CHECKPOINT
    assert parse_and_verify(NOTE.encode(), VERIFIER) == CHECKPOINT


def test_go_reference_note_signs_and_opens_byte_for_byte() -> None:
    assert parse_signer_key(GO_SIGNER).verifier().encode() == GO_VERIFIER
    assert sign_note(GO_TEXT, parse_signer_key(GO_SIGNER)) == GO_NOTE
    assert open_note(GO_NOTE, parse_verifier_key(GO_VERIFIER)) == GO_TEXT


@pytest.mark.parametrize(
    "checkpoint",
    [
        Checkpoint(origin=NAME, size=0, root_hash=EMPTY_ROOT),
        Checkpoint(origin=NAME, size=2**64 - 1, root_hash=ROOT, extensions=("a b", "— c")),
    ],
    ids=["empty tree", "largest size, extension lines"],
)
def test_round_trip(checkpoint: Checkpoint) -> None:
    assert parse_and_verify(sign_checkpoint(checkpoint, SIGNER), VERIFIER) == checkpoint


def test_generated_keys_work_and_differ() -> None:
    signer, verifier = generate_key("example.com/log")
    assert generate_key("example.com/log") != (signer, verifier)
    checkpoint = Checkpoint(origin="example.com/log", size=1, root_hash=ROOT)
    assert parse_and_verify(sign_checkpoint(checkpoint, signer), verifier) == checkpoint
    assert "seed" not in repr(parse_signer_key(signer))


def _changes(data: bytes) -> list[bytes]:
    out = []
    for i in range(len(data)):
        for mask in (0x01, 0x20, 0x80):
            out.append(data[:i] + bytes([data[i] ^ mask]) + data[i + 1 :])
        out.append(data[:i] + data[i + 1 :])
        out.append(data[:i] + b"\n" + data[i:])
        out.append(data[:i] + b"A" + data[i:])
    out.append(data + b"\n")
    out.append(data + b"A")
    return out


def test_every_single_byte_change_to_the_note_fails() -> None:
    changes = _changes(NOTE.encode())
    assert len(changes) > 1000
    for changed in changes:
        with pytest.raises(CheckpointError):
            parse_and_verify(changed, VERIFIER)


def test_another_key_is_unknown() -> None:
    _, other = key_from_seed(NAME, bytes(32))
    with pytest.raises(UnknownKeyError, match=r"not signed by `log\.example/cosignatory`"):
        parse_and_verify(NOTE, other)
    _, renamed = key_from_seed("log.example/other", SEED)
    with pytest.raises(UnknownKeyError):
        parse_and_verify(NOTE, renamed)


def test_a_known_key_whose_signature_fails_rejects_the_note() -> None:
    forged = NOTE.replace("20852163", "20852164")
    with pytest.raises(SignatureError, match="does not verify"):
        parse_and_verify(forged, VERIFIER)


def test_unknown_signatures_are_ignored_and_known_ones_still_checked() -> None:
    other_signer, _ = key_from_seed("witness.example/w1", bytes(32))
    cosigned = sign_checkpoint(CHECKPOINT, other_signer)
    both = NOTE + cosigned.split("\n\n")[1]
    assert parse_and_verify(both, VERIFIER) == CHECKPOINT


def test_origin_must_match() -> None:
    signer, verifier = key_from_seed("example.com/key", SEED)
    note = sign_checkpoint(Checkpoint(origin="example.com/log", size=1, root_hash=ROOT), signer)
    with pytest.raises(OriginMismatchError, match=r"expected `example\.com/key`"):
        parse_and_verify(note, verifier)
    assert parse_and_verify(note, verifier, origin="example.com/log").size == 1
    with pytest.raises(OriginMismatchError):
        parse_and_verify(NOTE, VERIFIER, origin="example.com/log")


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("no signatures\n", "no blank line"),
        (NOTE[:-1], "must end with a newline"),
        (NOTE.replace("\u2014 ", "- "), "em dash"),
        (
            NOTE.replace("\u2014 log.example/cosignatory ", "\u2014 log.example/cosignatory"),
            "key name",
        ),
        (NOTE.replace("20852163", "2085\t2163"), "control character"),
        (NOTE.replace("Ugw=", "Ugx="), "not canonical base64"),
        (NOTE.replace("andU", "and!"), "not valid base64"),
        (NOTE + "\u2014 a b\n" * 100, "more than 100 signatures"),
        ("\ud800\n\n\u2014 a AAAAAAA=\n", "not valid UTF-8"),
    ],
)
def test_malformed_notes(note: str, message: str) -> None:
    with pytest.raises(NoteFormatError, match=message):
        parse_and_verify(note, VERIFIER)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("origin\n1\n", "origin, a tree size and a root hash"),
        ("origin\n1\nroot", "end with a newline"),
        ("origin\n01\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n", "leading zeroes"),
        ("origin\n+1\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n", "not a decimal"),
        ("origin\n\u0661\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n", "not a decimal"),
        ("origin\n18446744073709551616\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "uint64"),
        ("origin\n1\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7J=\n", "not canonical"),
        ("origin\n1\nAAAA\n", "32 bytes"),
        ("\n1\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n", "origin must be one non-empty"),
        ("origin\n1\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n\nx\n", "extension line"),
    ],
)
def test_malformed_checkpoint_text(text: str, message: str) -> None:
    with pytest.raises(NoteFormatError, match=message):
        parse_checkpoint_text(text)


def test_a_signed_but_malformed_checkpoint_is_refused() -> None:
    note = sign_note("log.example/cosignatory\nmany\nroot\n", parse_signer_key(SIGNER))
    with pytest.raises(NoteFormatError, match="not a decimal"):
        parse_and_verify(note, VERIFIER)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("log.example/cosignatory+6a775489", "must look like"),
        ("log.example/cosignatory+6A775489+" + PUBLIC_B64, "lowercase hex"),
        ("log.example/cosignatory+6a77548+" + PUBLIC_B64, "lowercase hex"),
        ("log.example/cosignatory+6a775488+" + PUBLIC_B64, "does not match"),
        ("log.example/other+6a775489+" + PUBLIC_B64, "does not match"),
        ("log example+6a775489+" + PUBLIC_B64, "without spaces"),
        ("+6a775489+" + PUBLIC_B64, "non-empty"),
        (VERIFIER.replace("+AQ", "+Ag"), "not an ed25519 key"),
        (VERIFIER[:-1], "not valid base64"),
        (VERIFIER[:-4], "not an ed25519 key"),
    ],
)
def test_malformed_verifier_keys(key: str, message: str) -> None:
    with pytest.raises(NoteFormatError, match=message):
        parse_verifier_key(key)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (VERIFIER, "must start with `PRIVATE\\+KEY\\+`"),
        (SIGNER.replace("+6a775489+", "+6a775488+"), "does not match"),
        (SIGNER[:-4] + "HR4g", "does not match"),
    ],
)
def test_malformed_signer_keys(key: str, message: str) -> None:
    with pytest.raises(NoteFormatError, match=message):
        parse_signer_key(key)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"origin": "", "size": 0, "root_hash": ROOT}, "origin must be one non-empty"),
        ({"origin": "a\nb", "size": 0, "root_hash": ROOT}, "origin must be one non-empty"),
        ({"origin": "a", "size": -1, "root_hash": ROOT}, "uint64"),
        ({"origin": "a", "size": 0, "root_hash": ROOT[:31]}, "32 bytes"),
        ({"origin": "a", "size": 0, "root_hash": ROOT, "extensions": ("",)}, "extension"),
    ],
)
def test_checkpoint_invariants(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(NoteFormatError, match=message):
        Checkpoint(**kwargs)  # type: ignore[arg-type]
