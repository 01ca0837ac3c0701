"""Settings. The environment is read here and nowhere else.

COSIGNATORY_DATABASE_URL   the store for local/admin commands and the server
                           (default `sqlite:///cosignatory.db`; or `postgresql+psycopg://…`)
COSIGNATORY_OPERATOR       who local admin commands act as by default
                           (default `$USER`, else `admin`)
COSIGNATORY_URL            the server the remote CLI talks to (default http://127.0.0.1:8000)
COSIGNATORY_TOKEN          the bearer token of the remote CLI (who you are)
COSIGNATORY_AUDIT_*        the audit log's key and checkpoint schedule (see the audit block)
COSIGNATORY_WEB_SECRET     signs web sessions; hex or base64url, at least 32 bytes. Unset, a
                           random key per process: sessions end on restart and are not
                           shared between servers (set the same secret on every node).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from cosignatory.core.errors import InputError

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_SERVER_URL",
    "AuditSettings",
    "RemoteSettings",
    "Settings",
    "load_audit_settings",
    "load_remote_settings",
    "load_settings",
    "load_web_secret",
]

DEFAULT_DATABASE_URL = "sqlite:///cosignatory.db"
DEFAULT_SERVER_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    operator: str = "admin"


@dataclass(frozen=True, kw_only=True)
class RemoteSettings:
    url: str = DEFAULT_SERVER_URL
    token: str = field(default="", repr=False)


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `environ` (the process environment when None)."""
    env = _env(environ)
    operator = env.get("COSIGNATORY_OPERATOR") or env.get("USER") or env.get("LOGNAME") or "admin"
    return Settings(
        database_url=env.get("COSIGNATORY_DATABASE_URL") or DEFAULT_DATABASE_URL,
        operator=operator.strip().lower(),
    )


def load_remote_settings(environ: Mapping[str, str] | None = None) -> RemoteSettings:
    env = _env(environ)
    return RemoteSettings(
        url=(env.get("COSIGNATORY_URL") or DEFAULT_SERVER_URL).rstrip("/"),
        token=(env.get("COSIGNATORY_TOKEN") or "").strip(),
    )


# ---- the audit log (issue 5) -------------------------------------------------------
#
# COSIGNATORY_AUDIT_KEY_FILE            the log's private key file (`audit init-key`), mode 0600
# COSIGNATORY_AUDIT_KEY                 or the key itself (`PRIVATE+KEY+…`), e.g. from a vault
# COSIGNATORY_AUDIT_CHECKPOINT_INTERVAL seconds between the server's checkpoints (default 60)


@dataclass(frozen=True, kw_only=True)
class AuditSettings:
    key_file: str | None = None
    key: str | None = field(default=None, repr=False)
    checkpoint_interval: float = 60.0


def load_audit_settings(environ: Mapping[str, str] | None = None) -> AuditSettings:
    env = _env(environ)
    raw_interval = env.get("COSIGNATORY_AUDIT_CHECKPOINT_INTERVAL") or "60"
    try:
        interval = float(raw_interval)
    except ValueError:
        interval = -1.0
    if not interval > 0:
        raise InputError(
            f"COSIGNATORY_AUDIT_CHECKPOINT_INTERVAL `{raw_interval}` is not a positive number "
            "of seconds"
        )
    return AuditSettings(
        key_file=env.get("COSIGNATORY_AUDIT_KEY_FILE") or None,
        key=(env.get("COSIGNATORY_AUDIT_KEY") or "").strip() or None,
        checkpoint_interval=interval,
    )


def load_web_secret(environ: Mapping[str, str] | None = None) -> bytes | None:
    """COSIGNATORY_WEB_SECRET as bytes (hex or unpadded base64url), or None when unset."""
    raw = (_env(environ).get("COSIGNATORY_WEB_SECRET") or "").strip()
    if not raw:
        return None
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        try:
            key = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True)
        except (ValueError, binascii.Error) as e:
            raise InputError(
                "COSIGNATORY_WEB_SECRET is neither hex nor base64url; make one with "
                "`python3 -c 'import secrets; print(secrets.token_hex(32))'`"
            ) from e
    if len(key) < 32:
        raise InputError(
            f"COSIGNATORY_WEB_SECRET decodes to {len(key)} bytes; it needs at least 32 "
            "(e.g. `python3 -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return key
