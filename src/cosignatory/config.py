"""Settings. The environment is read here and nowhere else.

| variable                   | default                    | meaning                                   |
|----------------------------|----------------------------|-------------------------------------------|
| `COSIGNATORY_DATABASE_URL` | `sqlite:///cosignatory.db` | the store (`sqlite:///…` or `postgresql+psycopg://…`) |
| `COSIGNATORY_OPERATOR`     | `$USER`, else `admin`      | who local admin commands act as by default |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_DATABASE_URL", "Settings", "load_settings"]

DEFAULT_DATABASE_URL = "sqlite:///cosignatory.db"


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    operator: str = "admin"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `environ` (the process environment when None)."""
    env = os.environ if environ is None else environ
    operator = env.get("COSIGNATORY_OPERATOR") or env.get("USER") or env.get("LOGNAME") or "admin"
    return Settings(
        database_url=env.get("COSIGNATORY_DATABASE_URL") or DEFAULT_DATABASE_URL,
        operator=operator,
    )
