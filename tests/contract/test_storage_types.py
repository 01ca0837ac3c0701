"""Timestamp binding on SQLite: the fast spelling is the declared format, byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosignatory.storage.types import _SQLITE_FORMAT, read_timestamp, sqlite_timestamp

_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)


@given(
    st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30), timezones=_ZONES)
)
def test_sqlite_binding_is_the_declared_format(value: datetime) -> None:
    text = sqlite_timestamp(value)
    assert text == value.astimezone(UTC).strftime(_SQLITE_FORMAT)
    assert read_timestamp("sqlite")(text) == value


def test_whole_seconds_keep_their_microseconds() -> None:
    assert sqlite_timestamp(datetime(2030, 1, 1, 9, tzinfo=UTC)) == "2030-01-01 09:00:00.000000"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(TypeError, match="naive"):
        sqlite_timestamp(datetime(2030, 1, 1))


def test_years_before_1000_are_zero_padded_and_read_back() -> None:
    value = datetime(999, 3, 4, 5, 6, 7, 8, tzinfo=UTC)
    assert sqlite_timestamp(value) == "0999-03-04 05:06:07.000008"
    assert read_timestamp("sqlite")(sqlite_timestamp(value)) == value
