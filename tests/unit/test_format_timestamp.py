"""`format_timestamp` is part of every order digest: its fast path must not change a byte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from cosignatory.core.orders import format_timestamp

offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


# Years 2..9998: an offset cannot push the UTC instant out of datetime's range.
@given(
    st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.just(UTC) | offsets,
    )
)
def test_same_text_as_strftime(value: datetime):
    expected = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert format_timestamp(value) == expected


def test_known_spelling():
    assert format_timestamp(datetime(2026, 1, 31, 12, tzinfo=UTC)) == "2026-01-31T12:00:00.000000Z"
