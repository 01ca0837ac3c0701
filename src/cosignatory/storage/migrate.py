"""Schema migrations (Alembic, shipped in this package) and the schema check on open."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from cosignatory.core.errors import InputError
from cosignatory.storage.tables import metadata

if TYPE_CHECKING:
    from cosignatory.storage.store import Store

__all__ = [
    "alembic_config",
    "current_revision",
    "downgrade",
    "ensure_current",
    "head_revision",
    "schema_diff",
    "upgrade",
]

_HERE = Path(__file__).resolve().parent
_MIGRATION_LOCK = 0x636F7369676E01  # pg advisory lock key: one migrator at a time


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migrations found in the package")
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _migrate(store: Store, fn: Any, revision: str) -> str | None:
    with store.begin_write() as conn:
        if store.is_postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        fn(alembic_config(conn), revision)
        return current_revision(conn)


def upgrade(store: Store, revision: str = "head") -> str | None:
    """Migrate to `revision` in one transaction; returns the revision reached."""
    return _migrate(store, command.upgrade, revision)


def downgrade(store: Store, revision: str) -> str | None:
    return _migrate(store, command.downgrade, revision)


def ensure_current(store: Store) -> None:
    """Refuse a database that cannot be reached or is not at the migrations' head."""
    where = store.describe()
    try:
        with store.engine.connect() as conn:
            current = current_revision(conn)
    except OperationalError as e:
        raise InputError(f"cannot open database `{where}`: {str(e.orig).strip()}") from e
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise InputError(
            f"database `{where}` has no cosignatory schema; run `cosignatory db upgrade`"
        )
    raise InputError(
        f"database `{where}` is at schema revision `{current}`, this version needs `{head}`; "
        "run `cosignatory db upgrade`"
    )


def schema_diff(conn: Connection) -> list[Any]:
    """Differences between the live schema and `tables.metadata` (empty when in step)."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))
