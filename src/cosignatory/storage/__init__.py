"""Durable storage: SQLAlchemy Core tables, SQLite and PostgreSQL engines, Alembic migrations.

The service layer talks to the database only through `Store` transactions and the
repository functions of `events`, `orders`, `policies` and `tokens`; every state
change appends an event through `events.append_event`.
"""

from cosignatory.storage.events import EventRecord, append_event
from cosignatory.storage.migrate import ensure_current, head_revision, upgrade
from cosignatory.storage.store import Store, memory_store, open_store

__all__ = [
    "EventRecord",
    "Store",
    "append_event",
    "ensure_current",
    "head_revision",
    "memory_store",
    "open_store",
    "upgrade",
]
