"""Bearer tokens: `tok_<ulid>.<secret>`; the id finds the row, the SHA-256 of the whole
string is compared in constant time, and only that hash is ever stored."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from cosignatory.core.errors import DomainError, ErrorCode
from cosignatory.core.events import EventKind
from cosignatory.core.orders import format_timestamp
from cosignatory.ids import new_id
from cosignatory.service.orders import hash_secret
from cosignatory.service.views import Principal
from cosignatory.storage import tokens as token_rows
from cosignatory.storage.events import append_event
from cosignatory.storage.tokens import TokenRecord

__all__ = ["authenticate", "create", "revoke"]

_UNKNOWN = "unknown token; check it was copied whole, or ask an admin for a new one"


def create(
    conn: Connection,
    *,
    now: datetime,
    person: str,
    by: str,
    admin: bool,
    expires_in: timedelta | None,
    label: str,
) -> tuple[TokenRecord, str]:
    token_id = new_id("tok")
    secret = f"{token_id}.{secrets.token_urlsafe(32)}"
    record = TokenRecord(
        id=token_id,
        person=person,
        is_admin=admin,
        label=label,
        secret_hash=hash_secret(secret),
        created_at=now,
        created_by=by,
        expires_at=now + expires_in if expires_in is not None else None,
    )
    token_rows.insert_token(conn, record)
    append_event(
        conn,
        kind=EventKind.TOKEN_CREATED,
        actor=by,
        subject=token_id,
        payload={
            "token_id": token_id,
            "person": person,
            "is_admin": admin,
            "label": label,
            "expires_at": format_timestamp(record.expires_at) if record.expires_at else None,
        },
        at=now,
    )
    return record, secret


def authenticate(conn: Connection, *, secret: str, now: datetime) -> Principal:
    token_id, dot, _ = secret.partition(".")
    record = token_rows.get_token(conn, token_id) if dot and token_id.startswith("tok_") else None
    presented = hash_secret(secret)
    stored = record.secret_hash if record is not None else hash_secret("")
    if record is None or not hmac.compare_digest(stored, presented):
        raise DomainError(_UNKNOWN, code=ErrorCode.UNAUTHENTICATED)
    if record.revoked_at is not None:
        raise DomainError(
            f"token `{record.id}` was revoked at {format_timestamp(record.revoked_at)}",
            code=ErrorCode.UNAUTHENTICATED,
        )
    if record.expires_at is not None and now >= record.expires_at:
        raise DomainError(
            f"token `{record.id}` expired at {format_timestamp(record.expires_at)}; "
            "ask an admin for a new one",
            code=ErrorCode.UNAUTHENTICATED,
        )
    return Principal(person=record.person, is_admin=record.is_admin, token_id=record.id)


def revoke(conn: Connection, *, token_id: str, by: str, now: datetime) -> None:
    """Revoke a token; revoking a revoked token again changes nothing."""
    record = token_rows.get_token(conn, token_id)
    if record is None:
        raise DomainError(f"no token `{token_id}`", code=ErrorCode.NOT_FOUND)
    if token_rows.revoke_token(conn, token_id, by=by, at=now):
        append_event(
            conn,
            kind=EventKind.TOKEN_REVOKED,
            actor=by,
            subject=token_id,
            payload={"token_id": token_id, "person": record.person},
            at=now,
        )
