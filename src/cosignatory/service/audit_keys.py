"""The audit log's signing key: read from a private file or a setting, checked before use.

A key file must not be readable by other users (as ssh insists for its keys); a key
string must parse as a C2SP signed-note Ed25519 signer key (`PRIVATE+KEY+…`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cosignatory.config import AuditSettings
from cosignatory.core.audit import NoteFormatError, parse_signer_key
from cosignatory.core.errors import InputError

__all__ = ["configured_signer", "read_key_file", "signer_key", "write_key_file"]


def read_key_file(path: str) -> str:
    """The text of the key file at `path`, refusing one that other users could read."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise InputError(
            f"no key file `{path}`; create one with `cosignatory audit init-key --out {path}`"
        ) from e
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read key file `{path}`: {e}") from e
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(
            f"key file `{path}` is accessible to other users (mode {stat.S_IMODE(mode):04o}); "
            f"run `chmod 600 {path}`"
        )
    return text.strip()


def write_key_file(path: Path, signer: str, *, replace: bool = False) -> Path:
    """Write `signer` to a new file only its owner may read (mode 0600 from the start)."""
    if replace:
        path.unlink(missing_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as e:
        raise InputError(
            f"`{path}` exists; pass --force to replace the key (checkpoints it signed "
            "will no longer verify with the new one)"
        ) from e
    except OSError as e:
        raise InputError(f"cannot create `{path}`: {e.strerror}") from e
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(signer + "\n")
    return path


def signer_key(text: str, where: str) -> str:
    """`text` checked to be a signer key; `where` names its source in the error."""
    try:
        return parse_signer_key(text).encode()
    except NoteFormatError as e:
        raise InputError(f"{where} does not hold an audit log signing key: {e}") from e


def configured_signer(settings: AuditSettings, key_file: str | None = None) -> str | None:
    """The signer key from `key_file`, else the settings' key file or key; None if none."""
    path = key_file or settings.key_file
    if path:
        return signer_key(read_key_file(path), f"key file `{path}`")
    if settings.key:
        return signer_key(settings.key, "COSIGNATORY_AUDIT_KEY")
    return None
