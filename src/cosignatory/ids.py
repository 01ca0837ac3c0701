"""Sortable, prefixed identifiers: `ord_01J5Z8…` (a ULID: 48-bit milliseconds + 80 random bits).

ULIDs sort by creation time as plain strings; within one millisecond this process keeps
them increasing by incrementing the random part, so ids made one after another here
always sort in the order they were made. Across processes the order within a
millisecond is random, which is all a cursor needs (it only needs a total order).
"""

from __future__ import annotations

import secrets
import threading
import time

__all__ = ["new_id", "ulid"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last_ms = -1
_last_random = 0


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def ulid() -> str:
    """A 26-character ULID, monotonic within this process."""
    global _last_ms, _last_random  # noqa: PLW0603 - the monotonic state is process-wide
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _last_random += 1
            if _last_random >= 1 << _RANDOM_BITS:  # 2**80 ids in one ms: borrow the next ms
                ms, _last_random = ms + 1, secrets.randbits(_RANDOM_BITS - 1)
        else:
            _last_random = secrets.randbits(_RANDOM_BITS - 1)  # headroom for increments
        _last_ms = ms
        return _encode(ms, 10) + _encode(_last_random, 16)


def new_id(prefix: str) -> str:
    """`<prefix>_<ulid>`, e.g. `ord_01J5Z8Q9X3V7K2M4N6P8R0T2W4`."""
    return f"{prefix}_{ulid()}"
