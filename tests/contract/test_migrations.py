"""The Alembic migrations build exactly the schema `storage/tables.py` declares."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect

from cosignatory.core.errors import InputError
from cosignatory.storage import Store, head_revision, open_store
from cosignatory.storage.migrate import current_revision, downgrade, schema_diff, upgrade
from cosignatory.storage.tables import metadata


@pytest.fixture
def migrated(make_store_url: Callable[[], str]) -> Iterator[Store]:
    store = open_store(make_store_url(), check_schema=False)
    yield store
    store.close()


def _check_names(engine: Engine) -> dict[str, set[str]]:
    with engine.connect() as conn:
        inspector = inspect(conn)
        return {
            t: {c["name"] for c in inspector.get_check_constraints(t) if c.get("name")}
            for t in metadata.tables
        }


def _declared_check_names() -> dict[str, set[str]]:
    """Check constraints are not compared by autogenerate: build the declared schema in
    memory and compare their names (which the naming convention derives) directly."""
    engine = create_engine("sqlite://")
    try:
        metadata.create_all(engine)
        return _check_names(engine)
    finally:
        engine.dispose()


def test_upgrade_from_empty_gives_the_declared_schema(migrated: Store) -> None:
    downgrade(migrated, "base")
    with migrated.engine.connect() as conn:
        assert current_revision(conn) is None
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    assert upgrade(migrated) == head_revision()
    with migrated.engine.connect() as conn:
        assert schema_diff(conn) == []
        assert set(metadata.tables) <= set(inspect(conn).get_table_names())
    declared = _declared_check_names()
    assert declared["orders"] == {"ck_orders_state", "ck_orders_outcome"}
    assert _check_names(migrated.engine) == declared
    open_store(str(migrated.url.render_as_string(hide_password=False))).close()


def test_upgrade_twice_is_harmless(migrated: Store) -> None:
    assert upgrade(migrated) == head_revision()
    assert upgrade(migrated) == head_revision()


def test_the_event_log_head_starts_at_zero(migrated: Store) -> None:
    with migrated.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, next_seq FROM event_log_head").all()
    assert [tuple(r) for r in rows] == [(1, 0)]


def test_an_unmigrated_database_is_refused_with_the_fix(migrated: Store) -> None:
    downgrade(migrated, "base")
    url = migrated.url.render_as_string(hide_password=False)
    with pytest.raises(InputError, match="run `cosignatory db upgrade`"):
        open_store(url)
    upgrade(migrated)


def test_a_missing_sqlite_file_is_not_created_by_accident(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    with pytest.raises(InputError, match="no database at"):
        open_store(f"sqlite:///{path}")
    assert not path.exists()


@pytest.mark.parametrize("url", ["mysql://x/y", "not a url", "oracle+cx://a"])
def test_unsupported_urls_are_bad_input(url: str) -> None:
    with pytest.raises(InputError):
        open_store(url)
