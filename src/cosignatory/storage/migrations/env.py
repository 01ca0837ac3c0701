"""Alembic environment: migrations run on the connection `cosignatory.storage.migrate` passes.

Run by hand, the URL comes from `-x url=…`, else `sqlalchemy.url` in the ini file, else
the settings (`COSIGNATORY_DATABASE_URL`).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from cosignatory.config import load_settings
from cosignatory.storage.engine import make_engine
from cosignatory.storage.store import Store
from cosignatory.storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or load_settings().database_url
    )
    store = Store(make_engine(url))
    try:
        with store.begin_write() as connection:
            _run(connection)
    finally:
        store.close()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
