"""Prometheus metrics: request latency, reviews, decisions, executions, orders by state.

Each app owns its registry (several apps in one process, as in tests, never collide).
Counters are per process; Prometheus sums them across server processes. Orders by
state is a gauge read from the database at scrape time, so every process reports the
same shared truth.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ApiMetrics", "MetricsMiddleware"]

log = logging.getLogger("cosignatory.api")

_METHODS: Final = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
_LATENCY_BUCKETS: Final = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


class _OrdersByState(Collector):
    def __init__(self, count_by_state: Callable[[], Mapping[str, int]], states: Iterable[str]):
        self._count = count_by_state
        self._states = tuple(states)

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "cosignatory_orders", "Orders currently in each state.", labels=["state"]
        )
        try:
            counts = self._count()
        except Exception:  # a scrape must not fail because the database hiccupped
            log.exception("could not count orders by state for /metrics")
            return
        for state in self._states:
            family.add_metric([state], float(counts.get(state, 0)))
        yield family


class _GroupCommit(Collector):
    """Write functions and the transactions that committed them (SQLite group commit):
    their ratio is how many writes shared each fsync."""

    def __init__(self, counts: Callable[[], tuple[int, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[Metric]:
        functions, batches = self._counts()
        yield CounterMetricFamily(
            "cosignatory_store_writes",
            "Write use cases run by this process's group commit (SQLite).",
            value=functions,
        )
        yield CounterMetricFamily(
            "cosignatory_store_write_transactions",
            "Transactions (one fsync each) those writes shared (SQLite group commit).",
            value=batches,
        )


class ApiMetrics:
    def __init__(
        self,
        *,
        count_orders_by_state: Callable[[], Mapping[str, int]] | None = None,
        states: Iterable[str] = (),
        write_counts: Callable[[], tuple[int, int]] | None = None,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.request_seconds = Histogram(
            "cosignatory_http_request_duration_seconds",
            "HTTP request latency by route template, method and status.",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.reviews = Counter(
            "cosignatory_reviews",
            "Reviews accepted, by decision (approve, deny).",
            ["decision"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "cosignatory_decisions",
            "Orders decided by a review, by resulting state (approved, rejected).",
            ["state"],
            registry=self.registry,
        )
        self.proposals = Counter("cosignatory_proposals", "Orders created.", registry=self.registry)
        self.executions = Counter(
            "cosignatory_executions",
            "Tickets claimed and results recorded, by stage (claimed, succeeded, failed).",
            ["stage"],
            registry=self.registry,
        )
        self.expired = Counter(
            "cosignatory_expired",
            "Orders this process moved to expired in its background sweep.",
            registry=self.registry,
        )
        self.sweep_errors = Counter(
            "cosignatory_sweep_errors",
            "Background expiry sweeps that failed (see the server log).",
            registry=self.registry,
        )
        if count_orders_by_state is not None:
            self.registry.register(_OrdersByState(count_orders_by_state, states))
        if write_counts is not None:
            self.registry.register(_GroupCommit(write_counts))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "OTHER"
        self.request_seconds.labels(method, route, str(status)).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Times every HTTP request; labels by route template, never by raw path."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "<unmatched>"
            self.metrics.observe_request(
                scope["method"], route, status, time.perf_counter() - start
            )
