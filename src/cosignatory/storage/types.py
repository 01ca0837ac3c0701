"""Column types: timestamps go in and come out timezone-aware, in UTC, on every database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# SQLAlchemy's own SQLite DATETIME text format: fixed width, so text order is time order.
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def _aware(value: datetime | None) -> datetime | None:
    """Naive datetimes are a programmer mistake, refused rather than guessed at."""
    if value is not None and value.tzinfo is None:
        raise TypeError("naive datetime given to a UTC column; pass an aware datetime")
    return value


def _sqlite_bind(value: datetime | None) -> str | None:
    """`_SQLITE_FORMAT`, written by `isoformat` (a fraction of `strftime`'s cost; every
    write binds several). The same text for every year from 1000 on; below it, zero-padded
    as SQLAlchemy's own DATETIME writes it (`strftime` wrote `999`, which did not read
    back). tests/contract/test_storage_types.py pins both."""
    value = _aware(value)
    if value is None:
        return None
    # The UTC instant's isoformat less its `+00:00`: `replace(tzinfo=None)` first cost
    # more than the formatting (keyword arguments are slow in 3.11's `replace`).
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:-6]


def _sqlite_result(value: str | None) -> datetime | None:
    # The stored text is naive UTC (`_sqlite_bind` wrote it): parsed with its offset
    # spelled out, a quarter of the cost of parsing and then `replace(tzinfo=UTC)`.
    return datetime.fromisoformat(value + "+00:00") if value is not None else None


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


__all__ = ["UTCDateTime", "bind_timestamp", "read_timestamp", "sqlite_timestamp"]

# What `UTCDateTime` binds on SQLite, for statements run on the driver's cursor.
sqlite_timestamp = _sqlite_bind


def bind_timestamp(dialect: str) -> Callable[[datetime | None], Any]:
    """What `UTCDateTime` binds on `dialect`, for statements run on the driver's cursor."""
    return _sqlite_bind if dialect == "sqlite" else _aware


def read_timestamp(dialect: str) -> Callable[[Any], datetime | None]:
    """What `UTCDateTime` reads on `dialect`: the driver's value as an aware UTC datetime."""
    return _sqlite_result if dialect == "sqlite" else _utc


class UTCDateTime(TypeDecorator[datetime]):
    """`timestamptz` on PostgreSQL; on SQLite a naive UTC text that sorts by instant.

    Naive datetimes are a programmer mistake and are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        value = _aware(value)
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    # On SQLite, convert the stored text directly (the C `fromisoformat`, not a regex):
    # same format as SQLAlchemy's DATETIME, a good deal cheaper on every row read.
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_bind
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_result
        return super().result_processor(dialect, coltype)
