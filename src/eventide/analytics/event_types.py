"""Every event type of a range of local days: its events, distinct users and last instant.

Counted like ``topEvents`` (:func:`eventide.analytics._keyed.union_counts`): the hot rows
reduced to (type, user, events, latest instant) are shipped into one ClickHouse query
over their union with the visible cold rows, so a user with events of a type in both
tiers is one user. The latest instant is a maximum, exact over any split of the events.

Cold buckets carry only their start, so when the cold rows are buckets the pass also
yields each type's latest cold bucket, and one more cold query reads the events of
those buckets only (one quarter hour per type) for the exact instant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from eventide.analytics import calendar
from eventide.analytics._sources import COLD_EVENTS, Source, cold_source, hot_source
from eventide.analytics._sql_time import ClickHouse, Postgres
from eventide.archive.tiers import Tiers, tier_snapshot
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, Scope


@dataclass(frozen=True)
class EventTypeInfo:
    event_type: str
    events: int
    users: int
    last_seen_at: dt.datetime


@dataclass(frozen=True)
class _Counted:
    events: int
    users: int
    hot_last_us: int | None
    # The latest cold event's instant, or its bucket's start when the rows are buckets.
    cold_last_us: int | None


async def event_types(
    engines: Engines, *, project: int, first: dt.date, last: dt.date, timezone: str
) -> list[EventTypeInfo]:
    """Every event type with an event on a day of ``first..last`` in ``timezone``, by
    events descending then event type ascending."""
    days = calendar.DayRange.of(first, last)
    window = calendar.window(calendar.zone(timezone), days.first, days.last)
    if window.empty:
        return []
    async with tier_snapshot(engines, scope=Scope.of(project)) as tiers:
        cold = cold_source(tiers, window, event_types=True)
        counted = await _counts(tiers, window, cold)
        cold_last = {t: c.cold_last_us for t, c in counted.items() if c.cold_last_us is not None}
        if cold is not COLD_EVENTS and cold_last:
            cold_last = await _last_instants(tiers, cold_last)
    result = []
    for event_type, c in counted.items():
        instants = [i for i in (c.hot_last_us, cold_last.get(event_type)) if i is not None]
        result.append(
            EventTypeInfo(event_type, c.events, c.users, calendar.from_instant_us(max(instants)))
        )
    return sorted(result, key=lambda info: (-info.events, info.event_type))


async def _counts(tiers: Tiers, window: calendar.Window, cold: Source) -> dict[str, _Counted]:
    hot = hot_source(window, event_types=True)
    pushed = await tiers.push_hot(
        f"SELECT event_type AS key, user_id, count(*)::bigint AS events,"
        f" (EXTRACT(EPOCH FROM max({hot.instant})) * 1000000)::bigint AS last"
        f" FROM {hot.table} WHERE {Postgres.in_window(hot.instant, window)}"
        " GROUP BY event_type, user_id",
        structure="key String, user_id String, events UInt64, last Int64",
    )
    rows = await tiers.cold_fetch(
        f"""SELECT key, sum(events), uniqExact(user_id),
                   maxIfOrNull(last, NOT cold), maxIfOrNull(last, cold)
            FROM (
                SELECT toString(event_type) AS key, user_id, toUInt64({cold.events}) AS events,
                       toUnixTimestamp64Micro({cold.instant}) AS last, true AS cold
                FROM {cold.table} WHERE {ClickHouse.in_window(cold.instant, window)}
                UNION ALL SELECT key, user_id, events, last, false FROM {pushed})
            GROUP BY key""",
    )
    return {key: _Counted(*counts) for key, *counts in rows}


async def _last_instants(tiers: Tiers, buckets: dict[str, int]) -> dict[str, int]:
    """The latest cold event of each type in its latest bucket (given by its start).

    Each bucket lies within one local day, inside the window (see
    ``calendar.Window.in_buckets``), so its events need no window condition."""
    conditions, params = [], {}
    for i, (event_type, start) in enumerate(buckets.items()):
        params[f"type_{i}"] = event_type
        conditions.append(
            f"(event_type = %(type_{i})s AND occurred_at >= {ClickHouse.instant(start)}"
            f" AND occurred_at < {ClickHouse.instant(start + calendar.BUCKET_US)})"
        )
    rows = await tiers.cold_fetch(
        f"SELECT toString(event_type), max(toUnixTimestamp64Micro(occurred_at)) FROM {EVENTS}"
        f" WHERE {' OR '.join(conditions)} GROUP BY event_type",
        params,
    )
    return dict(rows)
