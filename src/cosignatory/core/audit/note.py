"""C2SP `signed-note` with Ed25519 keys, in the key-string formats of golang.org/x/mod/sumdb/note.

A note is a text ending in a newline, a blank line, then signature lines
`— <key name> <base64(4-byte key ID || signature)>`. Keys travel as strings:

    verifier:  <name>+<8 hex digits of key ID>+<base64(0x01 || 32-byte public key)>
    signer:    PRIVATE+KEY+<name>+<8 hex digits of key ID>+<base64(0x01 || 32-byte seed)>

with key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4].
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass, field
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cosignatory.core.audit.errors import NoteFormatError, SignatureError, UnknownKeyError

__all__ = [
    "SignerKey",
    "VerifierKey",
    "generate_key",
    "key_from_seed",
    "open_note",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_note",
]

_ED25519 = 0x01  # signature type byte assigned by the signed-note spec
_SIG_PREFIX = "— "  # em dash U+2014, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_MAX_NOTE_BYTES = 1 << 20
_MAX_SIGNATURES = 100


def strict_b64decode(text: str, what: str) -> bytes:
    """Decode standard base64, refusing any other spelling of the same bytes."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as e:
        raise NoteFormatError(f"{what} is not valid base64: `{text}`") from e
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteFormatError(f"{what} is not canonical base64: `{text}`")
    return raw


def check_text(text: str, what: str) -> None:
    """Refuse text that is not valid UTF-8 or holds control characters other than newline."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise NoteFormatError(f"{what} is not valid UTF-8") from e
    for ch in text:
        if ch < " " and ch != "\n":
            raise NoteFormatError(f"{what} contains the control character `{ch!r}`")


def _check_name(name: str) -> None:
    check_text(name, "key name")
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteFormatError(
            f"key name `{name}` must be non-empty, without spaces or `+`; "
            "use a schema-less URL such as `example.com/log`"
        )


def _key_id(name: str, public_key: bytes) -> bytes:
    return sha256(name.encode("utf-8") + b"\n" + bytes([_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifierKey:
    """A trusted Ed25519 note key: its name, key ID and 32-byte public key."""

    name: str
    key_id: bytes
    public_key: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.public_key) != 32:
            raise NoteFormatError(
                f"ed25519 public key must be 32 bytes, got {len(self.public_key)}"
            )
        if self.key_id != _key_id(self.name, self.public_key):
            raise NoteFormatError(f"key ID `{self.key_id.hex()}` does not match key `{self.name}`")

    def encode(self) -> str:
        blob = base64.b64encode(bytes([_ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{blob}"


@dataclass(frozen=True, kw_only=True, slots=True)
class SignerKey:
    """An Ed25519 note signing key. The seed is kept out of `repr`."""

    name: str
    key_id: bytes
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.seed) != 32:
            raise NoteFormatError(f"ed25519 seed must be 32 bytes, got {len(self.seed)}")
        if self.key_id != _key_id(self.name, self.verifier().public_key):
            raise NoteFormatError(f"key ID `{self.key_id.hex()}` does not match key `{self.name}`")

    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    def verifier(self) -> VerifierKey:
        public = self._private().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return VerifierKey(name=self.name, key_id=_key_id(self.name, public), public_key=public)

    def sign(self, message: bytes) -> bytes:
        return self._private().sign(message)

    def encode(self) -> str:
        blob = base64.b64encode(bytes([_ED25519]) + self.seed).decode("ascii")
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id.hex()}+{blob}"


def key_from_seed(name: str, seed: bytes) -> tuple[str, str]:
    """`(signer key, verifier key)` strings for the Ed25519 key with this 32-byte seed."""
    _check_name(name)
    if len(seed) != 32:
        raise NoteFormatError(f"ed25519 seed must be 32 bytes, got {len(seed)}")
    public = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    signer = SignerKey(name=name, key_id=_key_id(name, public), seed=seed)
    return signer.encode(), signer.verifier().encode()


def generate_key(name: str) -> tuple[str, str]:
    """A new random `(signer key, verifier key)` pair named `name`.

    The one function here that is not deterministic: it draws the seed from the OS.
    """
    return key_from_seed(name, secrets.token_bytes(32))


def _split_key(text: str, what: str) -> tuple[str, bytes, bytes]:
    parts = text.split("+", 2)  # the base64 key itself may contain `+`
    if len(parts) != 3:
        raise NoteFormatError(f"{what} must look like `<name>+<key id>+<base64 key>`")
    name, key_id_hex, blob = parts
    _check_name(name)
    if len(key_id_hex) != 8 or any(c not in "0123456789abcdef" for c in key_id_hex):
        raise NoteFormatError(f"{what} key ID must be 8 lowercase hex digits, got `{key_id_hex}`")
    raw = strict_b64decode(blob, f"{what} key")
    if len(raw) != 33 or raw[0] != _ED25519:
        raise NoteFormatError(f"{what} key `{name}` is not an ed25519 key (type 0x01, 32 bytes)")
    return name, bytes.fromhex(key_id_hex), raw[1:]


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse `<name>+<hex key id>+<base64(0x01 || public key)>`."""
    name, key_id, public = _split_key(text.strip(), "verifier key")
    return VerifierKey(name=name, key_id=key_id, public_key=public)


def parse_signer_key(text: str) -> SignerKey:
    """Parse `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>`."""
    text = text.strip()
    if not text.startswith(_PRIVATE_PREFIX):
        raise NoteFormatError(f"signer key must start with `{_PRIVATE_PREFIX}`")
    name, key_id, seed = _split_key(text.removeprefix(_PRIVATE_PREFIX), "signer key")
    return SignerKey(name=name, key_id=key_id, seed=seed)


def sign_note(text: str, signer: SignerKey) -> str:
    """The signed note: `text` (ending in a newline), a blank line, one signature line."""
    check_text(text, "note text")
    if not text.endswith("\n"):
        raise NoteFormatError("note text must end with a newline")
    signature = signer.sign(text.encode("utf-8"))
    blob = base64.b64encode(signer.key_id + signature).decode("ascii")
    return f"{text}\n{_SIG_PREFIX}{signer.name} {blob}\n"


def open_note(unverified_note: str | bytes, verifier: VerifierKey) -> str:
    """The text of a note signed by `verifier`; raise if it is not.

    Signatures by other keys are ignored, as the spec requires; every signature by
    `verifier` must verify, and there must be at least one.
    """
    if isinstance(unverified_note, bytes):
        if len(unverified_note) > _MAX_NOTE_BYTES:
            raise NoteFormatError(f"note is larger than {_MAX_NOTE_BYTES} bytes")
        try:
            note = unverified_note.decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteFormatError("note is not valid UTF-8") from e
    else:
        note = unverified_note
    if len(note) > _MAX_NOTE_BYTES:
        raise NoteFormatError(f"note is larger than {_MAX_NOTE_BYTES} bytes")
    check_text(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteFormatError("note has no blank line before its signatures")
    text, signature_block = note[: split + 1], note[split + 2 :]
    if not signature_block.endswith("\n"):
        raise NoteFormatError("note must end with a newline after its last signature")
    lines = signature_block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise NoteFormatError(f"note has more than {_MAX_SIGNATURES} signatures")
    message = text.encode("utf-8")
    verified = False
    for number, line in enumerate(lines, start=1):
        if not line.startswith(_SIG_PREFIX):
            raise NoteFormatError(f"signature line {number} must start with an em dash and a space")
        name, sep, blob = line.removeprefix(_SIG_PREFIX).partition(" ")
        if not sep:
            raise NoteFormatError(f"signature line {number} must be `— <key name> <signature>`")
        _check_name(name)
        raw = strict_b64decode(blob, f"signature line {number}")
        if len(raw) < 5:
            raise NoteFormatError(f"signature line {number} is too short")
        if name != verifier.name or raw[:4] != verifier.key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(raw[4:], message)
        except InvalidSignature as e:
            raise SignatureError(
                f"signature by `{verifier.name}` does not verify; the note was altered "
                "or signed by another key with the same name and ID"
            ) from e
        verified = True
    if not verified:
        raise UnknownKeyError(
            f"note is not signed by `{verifier.name}` (key ID `{verifier.key_id.hex()}`)"
        )
    return text
