"""Process tests run on the real clock: the other processes cannot share a fake one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from cosignatory.service import utc_now


@pytest.fixture
def clock() -> Callable[[], datetime]:
    return utc_now
