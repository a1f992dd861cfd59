"""Prometheus metrics.

Counters are kept per process (``EVENTS.labels(outcome=...).inc(n)`` with outcome
``accepted``, ``duplicate`` or ``rejected``). The archive's state is shared by every
replica, so its gauges are read from PostgreSQL at scrape time instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from eventide.archive import erased, runs
from eventide.archive.archiver import hot_cutoff
from eventide.archive.runs import ArchiveRun
from eventide.storage.engines import Engines
from eventide.storage.outages import unavailable_engine

OPERATIONS = Counter(
    "eventide_graphql_operations",
    "GraphQL operations by operation name and outcome (ok or the first error code).",
    ["operation", "outcome"],
)
OPERATION_SECONDS = Histogram(
    "eventide_graphql_operation_duration_seconds",
    "Time from parsing to the result of a GraphQL operation.",
    ["operation", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
HTTP_REQUESTS = Counter(
    "eventide_http_requests", "HTTP requests by route and status.", ["route", "status"]
)
HTTP_REFUSALS = Counter(
    "eventide_http_refusals",
    "Requests refused at the HTTP level (before or instead of an operation), by error code.",
    ["code"],
)
EVENTS = Counter(
    "eventide_events", "Ingested events by outcome: accepted, duplicate, rejected.", ["outcome"]
)
RETENTION_PARTITIONS = Counter(
    "eventide_retention_dropped_partitions",
    "Partitions dropped whole by the removal of events past retention, by store (hot, cold).",
    ["store"],
)
RETENTION_HOT_EVENTS = Counter(
    "eventide_retention_deleted_hot_events",
    "Hot events past retention deleted one by one (outside the partitions dropped whole).",
)

# Operation names come from clients: keep the label set bounded.
_MAX_OPERATION_NAMES = 200
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_seen_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _OPERATION_NAME.fullmatch(name):
        return "other"
    if name not in _seen_operations:
        if len(_seen_operations) >= _MAX_OPERATION_NAMES:
            return "other"
        _seen_operations.add(name)
    return name


class PoolCollector(Collector):
    """The PostgreSQL pool's size and idle connections, read at scrape time."""

    def __init__(self, engines: Engines) -> None:
        self._engines = engines

    def collect(self) -> Iterator[Metric]:
        pool = self._engines.db
        size = GaugeMetricFamily(
            "eventide_db_pool_connections", "Open PostgreSQL connections in the pool."
        )
        size.add_metric([], pool.get_size())
        idle = GaugeMetricFamily(
            "eventide_db_pool_idle_connections", "Idle PostgreSQL connections in the pool."
        )
        idle.add_metric([], pool.get_idle_size())
        limit = GaugeMetricFamily(
            "eventide_db_pool_max_connections", "Most connections the pool may open."
        )
        limit.add_metric([], pool.get_max_size())
        yield from (size, idle, limit)


class ArchiveCollector(Collector):
    """How far the archiver is behind, and its last run, as read before the scrape."""

    def __init__(
        self, *, lag_seconds: float, last_run: ArchiveRun | None, pending_erasures: int
    ) -> None:
        self._lag_seconds = lag_seconds
        self._last_run = last_run
        self._pending_erasures = pending_erasures

    def collect(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "eventide_archive_lag_seconds",
            "How far the archived-through instant is behind the hot window's start.",
        )
        lag.add_metric([], self._lag_seconds)
        yield lag
        # One that stays pending keeps readers off the cold buckets: worth an alert.
        erasures = GaugeMetricFamily(
            "eventide_erasures_pending", "End-user erasures waiting for their completion."
        )
        erasures.add_metric([], self._pending_erasures)
        yield erasures
        run = self._last_run
        if run is not None and run.finished_at is not None:
            finished = GaugeMetricFamily(
                "eventide_archive_last_run_timestamp_seconds",
                "Unix time the last archive pass finished.",
            )
            finished.add_metric([], run.finished_at.timestamp())
            moved = GaugeMetricFamily(
                "eventide_archive_last_run_moved_events", "Events the last archive pass moved."
            )
            moved.add_metric([], run.moved)
            yield from (finished, moved)


async def _archive_collector(engines: Engines) -> ArchiveCollector:
    async with engines.db.acquire() as conn:
        through = await runs.archived_through(conn)
        last = await runs.last_run(conn)
        pending = await erased.pending_count(conn)
    due = hot_cutoff(dt.datetime.now(dt.UTC), engines.settings.hot_window_days)
    lag = 0.0 if through is None else max(0.0, (due - through).total_seconds())
    return ArchiveCollector(lag_seconds=lag, last_run=last, pending_erasures=pending)


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format: the process's metrics, its engine pools and the archive."""
    engines: Engines = request.app.state.engines
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PoolCollector(engines))
    try:
        registry.register(await _archive_collector(engines))
    except Exception as error:
        # While PostgreSQL is down the archive's gauges are unknown; the rest still serves.
        if unavailable_engine(error) is None:
            raise
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
