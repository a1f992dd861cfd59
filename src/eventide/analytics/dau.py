"""Daily active users: distinct users with an event on each local day of a range."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from eventide.analytics import calendar
from eventide.analytics._keyed import KeyedRows, merged_counts, partial_counts
from eventide.analytics._sources import cold_source, hot_source
from eventide.analytics._sql_time import ClickHouse, Postgres
from eventide.analytics.filters import (
    ColdConditions,
    EventSelector,
    HotConditions,
    PropertyFilter,
)
from eventide.archive.runs import archived_through
from eventide.archive.tiers import Tiers, tier_snapshot
from eventide.storable import checked_text
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import Scope


@dataclass(frozen=True)
class DailyActiveUsers:
    date: dt.date
    users: int


async def daily_active_users(
    engines: Engines,
    *,
    project: int,
    first: dt.date,
    last: dt.date,
    timezone: str,
    event_type: str | None = None,
    where: tuple[PropertyFilter, ...] = (),
) -> list[DailyActiveUsers]:
    """One row per day of ``first..last`` in ``timezone``, ascending, zeros included;
    users with an event of ``event_type`` matching ``where``."""
    selector = EventSelector(checked_text("eventType", event_type), where)
    days = calendar.DayRange.of(first, last)
    window = calendar.window(calendar.zone(timezone), days.first, days.last)
    users: dict[int, int] = {}
    if not window.empty:
        async with tier_snapshot(engines, scope=Scope.of(project)) as tiers:
            rows = _rows(tiers, window, selector)
            late_before = await archived_through(tiers.hot)
            partial = await partial_counts(
                tiers,
                rows,
                late_before=late_before,
                last_late_key=(
                    window.offsets.last_day_before(calendar.instant_us(late_before))
                    if late_before is not None
                    else None
                ),
            )
            keys = partial.hot.keys() | partial.cold.keys()
            counts = await merged_counts(tiers, partial, rows, keys)
        users = {day: pair[1] for day, pair in counts.items()}
    return [DailyActiveUsers(calendar.day_of(day), users.get(day, 0)) for day in days.days()]


def _rows(tiers: Tiers, window: calendar.Window, selector: EventSelector) -> KeyedRows:
    typed, conditioned = selector.event_type is not None, bool(selector.where)
    hot = hot_source(window, event_types=typed, properties=conditioned)
    cold = cold_source(tiers, window, event_types=typed, properties=conditioned)
    hot_args: list[Any] = []
    cold_params: dict[str, Any] = {}
    # Bucket rows are read only for a selector of every event (whose SQL is "true").
    hot_filter = HotConditions(hot_args).selector(selector)
    cold_filter = ColdConditions(cold_params, "where").selector(selector)
    return KeyedRows(
        hot_sql=(
            f"SELECT {Postgres.local_day(hot.instant, window.offsets)} AS key, user_id,"
            f" {hot.instant} AS instant, {hot.events} AS events"
            f" FROM {hot.table} WHERE {Postgres.in_window(hot.instant, window)}"
            f" AND {hot_filter}"
        ),
        hot_args=tuple(hot_args),
        cold_sql=(
            f"SELECT {ClickHouse.local_day(cold.instant, window.offsets)} AS key, user_id,"
            f" {cold.events} AS events"
            f" FROM {cold.table} WHERE {ClickHouse.in_window(cold.instant, window)}"
            f" AND {cold_filter}"
        ),
        cold_params=cold_params,
        key_type="Int64",
    )
