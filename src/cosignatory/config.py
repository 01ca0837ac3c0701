"""Settings. The environment is read here and nowhere else.

COSIGNATORY_DATABASE_URL   the store for local/admin commands and the server
                           (default `sqlite:///cosignatory.db`; or `postgresql+psycopg://…`)
COSIGNATORY_OPERATOR       who local admin commands act as by default
                           (default `$USER`, else `admin`)
COSIGNATORY_URL            the server the remote CLI talks to (default http://127.0.0.1:8000)
COSIGNATORY_TOKEN          the bearer token of the remote CLI (who you are)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_SERVER_URL",
    "RemoteSettings",
    "Settings",
    "load_remote_settings",
    "load_settings",
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
