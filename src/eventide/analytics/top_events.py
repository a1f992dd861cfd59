"""Top event types of a range of local days, by number of events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from eventide.analytics import calendar
from eventide.analytics._keyed import KeyedRows, union_counts
from eventide.analytics._sources import cold_source, hot_source
from eventide.analytics._sql_time import ClickHouse, Postgres
from eventide.analytics.filters import (
    ColdConditions,
    EventSelector,
    HotConditions,
    PropertyFilter,
)
from eventide.archive.tiers import Tiers, tier_snapshot
from eventide.errors import InvalidInput
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import Scope

MAX_LIMIT = 1000


@dataclass(frozen=True)
class EventTypeCount:
    event_type: str
    events: int
    users: int


async def top_events(
    engines: Engines,
    *,
    project: int,
    first: dt.date,
    last: dt.date,
    timezone: str,
    limit: int,
    where: tuple[PropertyFilter, ...] = (),
) -> list[EventTypeCount]:
    """At most ``limit`` event types, by events (matching ``where``) descending then
    event type ascending."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    days = calendar.DayRange.of(first, last)
    window = calendar.window(calendar.zone(timezone), days.first, days.last)
    if window.empty:
        return []
    async with tier_snapshot(engines, scope=Scope.of(project)) as tiers:
        # Nearly every event type has events in both tiers: one union pass counts them.
        counts = await union_counts(tiers, _rows(tiers, window, EventSelector(where=where)))
    top = sorted(counts, key=lambda t: (-counts[t][0], t))[:limit]
    return [EventTypeCount(t, counts[t][0], counts[t][1]) for t in top]


def _rows(tiers: Tiers, window: calendar.Window, selector: EventSelector) -> KeyedRows:
    conditioned = bool(selector.where)
    hot = hot_source(window, event_types=True, properties=conditioned)
    cold = cold_source(tiers, window, event_types=True, properties=conditioned)
    hot_args: list[Any] = []
    cold_params: dict[str, Any] = {}
    return KeyedRows(
        hot_sql=(
            f"SELECT event_type AS key, user_id, {hot.events} AS events FROM {hot.table}"
            f" WHERE {Postgres.in_window(hot.instant, window)}"
            f" AND {HotConditions(hot_args).selector(selector)}"
        ),
        hot_args=tuple(hot_args),
        cold_sql=(
            f"SELECT toString(event_type) AS key, user_id, {cold.events} AS events"
            f" FROM {cold.table} WHERE {ClickHouse.in_window(cold.instant, window)}"
            f" AND {ColdConditions(cold_params, 'where').selector(selector)}"
        ),
        cold_params=cold_params,
        key_type="String",
    )
