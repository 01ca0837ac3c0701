"""The background expiry sweep: an asyncio task that calls `service.expire_due()`.

Several server processes may share one PostgreSQL database: each runs its own
sweeper, and the service's conditional updates (`UPDATE … WHERE state = 'pending'`,
claimed with `FOR UPDATE SKIP LOCKED`) make every expiry happen exactly once, however
the sweeps interleave. A random phase offset keeps processes from sweeping in lockstep.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence

import anyio.to_thread

from cosignatory.api.metrics import ApiMetrics

__all__ = ["sweep_forever", "sweep_once"]

log = logging.getLogger("cosignatory.sweeper")


async def sweep_once(expire_due: Callable[[], Sequence[str]], metrics: ApiMetrics) -> int:
    """One sweep in a worker thread (the service is blocking); returns how many expired."""
    try:
        expired = await anyio.to_thread.run_sync(expire_due)
    except Exception:
        metrics.sweep_errors.inc()
        log.exception("expiry sweep failed; retrying at the next interval")
        return 0
    if expired:
        metrics.expired.inc(len(expired))
        log.info("expired %d order(s): %s", len(expired), ", ".join(expired))
    return len(expired)


async def sweep_forever(
    expire_due: Callable[[], Sequence[str]], metrics: ApiMetrics, *, interval: float
) -> None:
    if interval <= 0:
        raise RuntimeError("the sweep interval must be positive")
    await asyncio.sleep(random.uniform(0, interval))  # noqa: S311 - jitter, not a secret
    while True:
        await sweep_once(expire_due, metrics)
        await asyncio.sleep(interval)
