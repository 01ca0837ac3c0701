"""Bearer tokens: only the SHA-256 of each secret is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from cosignatory.storage.driver import DriverCursor
from cosignatory.storage.tables import tokens
from cosignatory.storage.types import UTCDateTime, read_timestamp

__all__ = ["TokenRecord", "get_token", "insert_token", "list_tokens", "revoke_token"]


@dataclass(frozen=True, kw_only=True)
class TokenRecord:
    id: str
    person: str
    is_admin: bool
    label: str
    secret_hash: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None


def _record(row: Any) -> TokenRecord:
    return TokenRecord(**dict(row._mapping))


def insert_token(conn: Connection, record: TokenRecord) -> None:
    conn.execute(insert(tokens).values(**record.__dict__))


# Every authenticated request runs this primary-key lookup, and through SQLAlchemy's
# `execute` (execution context, result object, type processing) it cost several times
# what the database takes; so it runs on the driver's cursor, converting timestamps
# as `UTCDateTime` does (`types.read_timestamp`).
_COLUMNS = tuple(c.name for c in tokens.c)
_TIMES = tuple(c.name for c in tokens.c if isinstance(c.type, UTCDateTime))
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM tokens WHERE id = "  # noqa: S608 - fixed names
_GET_TOKEN = {"sqlite": _SELECT + ":id", "postgresql": _SELECT + "%(id)s"}


def get_token(conn: Connection, token_id: str) -> TokenRecord | None:
    dialect = conn.dialect
    with DriverCursor(conn) as cursor:
        row = cursor.execute(_GET_TOKEN[dialect.name], {"id": token_id}).fetchone()
    if row is None:
        return None
    values = dict(zip(_COLUMNS, row, strict=True))
    read_time = read_timestamp(dialect.name)
    for name in _TIMES:
        values[name] = read_time(values[name])
    values["is_admin"] = bool(values["is_admin"])  # SQLite stores 0/1
    return TokenRecord(**values)


def list_tokens(conn: Connection) -> list[TokenRecord]:
    return [_record(row) for row in conn.execute(select(tokens).order_by(tokens.c.id))]


def revoke_token(conn: Connection, token_id: str, *, by: str, at: datetime) -> bool:
    """Conditional: True only for the call that actually revoked it."""
    result = conn.execute(
        update(tokens)
        .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=at, revoked_by=by)
    )
    return result.rowcount == 1
