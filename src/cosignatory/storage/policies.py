"""Published policy versions: immutable rows, numbered from 1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection

from cosignatory.storage.tables import policy_versions

__all__ = [
    "PolicyRecord",
    "get_policy",
    "insert_policy",
    "latest_head",
    "latest_policy",
    "list_policies",
    "lock_publishing",
]

_PUBLISH_LOCK = 0x636F7369676E02  # pg advisory lock key: one publisher at a time


@dataclass(frozen=True, kw_only=True)
class PolicyRecord:
    version: int
    name: str
    digest: str
    yaml_text: str
    published_by: str
    published_at: datetime
    in_flight: str


def _record(row: Any) -> PolicyRecord:
    return PolicyRecord(**dict(row._mapping))


def lock_publishing(conn: Connection) -> None:
    """Serialize publishers (SQLite's BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PUBLISH_LOCK})


def insert_policy(conn: Connection, record: PolicyRecord) -> None:
    conn.execute(insert(policy_versions).values(**record.__dict__))


def get_policy(conn: Connection, version: int) -> PolicyRecord | None:
    row = conn.execute(
        select(policy_versions).where(policy_versions.c.version == version)
    ).one_or_none()
    return _record(row) if row is not None else None


def latest_policy(conn: Connection) -> PolicyRecord | None:
    newest = select(func.max(policy_versions.c.version)).scalar_subquery()
    row = conn.execute(
        select(policy_versions).where(policy_versions.c.version == newest)
    ).one_or_none()
    return _record(row) if row is not None else None


_LATEST_HEAD = (
    select(policy_versions.c.version, policy_versions.c.digest)
    .order_by(policy_versions.c.version.desc())
    .limit(1)
)


def latest_head(conn: Connection) -> tuple[int, str] | None:
    """(version, digest) of the newest version, without its text."""
    row = conn.execute(_LATEST_HEAD).one_or_none()
    return (int(row.version), str(row.digest)) if row is not None else None


def list_policies(conn: Connection) -> list[PolicyRecord]:
    rows = conn.execute(select(policy_versions).order_by(policy_versions.c.version))
    return [_record(row) for row in rows]
