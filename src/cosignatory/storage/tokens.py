"""Bearer tokens: only the SHA-256 of each secret is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from cosignatory.storage.tables import tokens

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


# Built once: every authenticated request runs it, and a statement built per call costs
# more to construct and to cache-key than the primary-key lookup itself.
_GET_TOKEN = select(tokens).where(tokens.c.id == bindparam("b_id"))


def get_token(conn: Connection, token_id: str) -> TokenRecord | None:
    row = conn.execute(_GET_TOKEN, {"b_id": token_id}).one_or_none()
    return _record(row) if row is not None else None


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
