"""The SQL of a trend: each series' rows in each store, and the one ClickHouse query
that counts them.

Every series reads its rows as ``(s, key, v, user_id, events)``: the series' number, the
interval's key (``intervals``), the breakdown value's JSON text (``''`` without a
breakdown), the user (``''`` for an EVENTS series, which counts no users) and how many
events the row stands for. Cold rows read the value's canonical text at once
(:func:`filters.canonical_json`, ``null`` when the event has no such property); hot rows
carry PostgreSQL's own text (``''`` when absent), made canonical in ClickHouse. PostgreSQL
reduces the hot rows to one row per distinct ``(s, key, v, user_id)``, and they are
shipped into the ClickHouse query, which takes their union with the visible cold rows:
a user with events in both tiers is then one user, for every interval, value and total.
The ranking of breakdown values and the ``other`` series are computed there too, so
only the answer's rows ever reach Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventide.analytics._sources import (
    COLD_EVENTS,
    HOT_EVENTS,
    Source,
    cold_source,
    hot_source,
)
from eventide.analytics._sql_time import ClickHouse, Postgres
from eventide.analytics.calendar import Window
from eventide.analytics.filters import ColdConditions, EventSelector, HotConditions, canonical_json
from eventide.analytics.intervals import Interval
from eventide.archive.tiers import Tiers

PUSHED_STRUCTURE = "s UInt8, key Int64, v String, user_id String, events UInt64"


@dataclass(frozen=True)
class SeriesRows:
    """What one series counts: events of ``selector``, and whether distinct users."""

    selector: EventSelector
    users: bool


@dataclass(frozen=True)
class TrendQuery:
    """``path`` (a property's) or ``by_event_type``: what the series are broken down by."""

    window: Window
    interval: Interval
    series: Sequence[SeriesRows]
    limit: int
    path: tuple[str, ...] | None = None
    by_event_type: bool = False

    @property
    def broken_down(self) -> bool:
        return self.by_event_type or self.path is not None


@dataclass(frozen=True)
class Count:
    """One row of the answer: of series ``s``, the breakdown value's canonical JSON text
    ``value`` (or ``other``), the interval ``key`` (None for the whole range)."""

    s: int
    other: bool
    value: str
    key: int | None
    events: int
    users: int


async def trend_counts(tiers: Tiers, query: TrendQuery) -> list[Count]:
    hot_args: list[Any] = []
    cold_params: dict[str, Any] = {}
    hot_parts, cold_parts = [], []
    for number, series in enumerate(query.series):
        hot, cold = _sources(tiers, query, series)
        hot_parts.append(_hot_rows(query, number, series, hot, hot_args))
        cold_parts.append(_cold_rows(query, number, series, cold, cold_params))
    pushed = await tiers.push_hot(
        "SELECT s, key, v, user_id, sum(events)::bigint AS events"
        f" FROM ({' UNION ALL '.join(hot_parts)}) r GROUP BY s, key, v, user_id",
        *hot_args,
        structure=PUSHED_STRUCTURE,
    )
    rows = f"""{" UNION ALL ".join(cold_parts)} UNION ALL
        SELECT s, key, {_canonical(query, "v")} AS v, user_id, events FROM {pushed}"""
    other = "false"
    if query.broken_down:
        rows, other = _ranked(query, rows), f"rank > {query.limit}"
    found = await tiers.cold_fetch(
        f"""SELECT s, o, b, key, grouping(key), sum(events), uniqExact(user_id) FROM (
                SELECT s, {other} AS o, if(o, '', v) AS b, key, user_id, events FROM ({rows}))
            GROUP BY GROUPING SETS ((s, o, b, key), (s, o, b))""",
        cold_params,
    )
    return [
        Count(s, bool(o), b, None if whole else key, events, users)
        for s, o, b, key, whole, events, users in found
    ]


def _ranked(query: TrendQuery, rows: str) -> str:
    """``rows`` with each breakdown value's ``rank`` in its series, by total descending
    (events, or distinct users of the range), then by JSON text.

    The rows are read once: reduced to one per distinct ``(s, v, key, user_id)`` (no
    more than were read, and no state per value and interval), the totals and ranks are
    window functions over them, and the answer counts the same reduced rows.
    """
    users = ", ".join(str(n) for n, series in enumerate(query.series) if series.users)
    total = "sum(events) OVER value"
    if users:
        total = f"if(s IN ({users}), uniqExact(user_id) OVER value, {total})"
    return f"""SELECT s, v, key, user_id, events,
            dense_rank() OVER (PARTITION BY s ORDER BY total DESC, v ASC) AS rank
        FROM (SELECT s, v, key, user_id, events, {total} AS total
              FROM (SELECT s, v, key, user_id, sum(events) AS events
                    FROM ({rows}) GROUP BY s, v, key, user_id)
              WINDOW value AS (PARTITION BY s, v))"""


def _sources(tiers: Tiers, query: TrendQuery, series: SeriesRows) -> tuple[Source, Source]:
    """Buckets where they count exactly what the series' events would count: buckets
    hold no properties."""
    if series.selector.where or query.path is not None:
        return HOT_EVENTS, COLD_EVENTS
    typed = series.selector.event_type is not None or query.by_event_type
    return (
        hot_source(query.window, event_types=typed),
        cold_source(tiers, query.window, event_types=typed),
    )


def _hot_rows(
    query: TrendQuery, number: int, series: SeriesRows, source: Source, args: list[Any]
) -> str:
    window = query.window
    sql = HotConditions(args)
    conditions = [Postgres.in_window(source.instant, window), sql.selector(series.selector)]
    value = "event_type" if query.by_event_type else "''"
    if query.path is not None:
        value = f"coalesce({sql.value_json(query.path)}, '')"
    user = "user_id" if series.users else "''"
    return (
        f"SELECT {number} AS s,"
        f" {Postgres.interval_key(query.interval, source.instant, window.offsets)} AS key,"
        f" {value} AS v, {user} AS user_id,"
        f" {source.events} AS events FROM {source.table} WHERE {' AND '.join(conditions)}"
    )


def _cold_rows(
    query: TrendQuery, number: int, series: SeriesRows, source: Source, params: dict[str, Any]
) -> str:
    window = query.window
    sql = ColdConditions(params, prefix=f"s{number}")
    conditions = [ClickHouse.in_window(source.instant, window), sql.selector(series.selector)]
    value = _canonical(query, "toString(event_type)") if query.by_event_type else "''"
    if query.path is not None:
        value = f"coalesce({sql.value_canonical(query.path)}, 'null')"
    user = "user_id" if series.users else "''"
    return (
        f"SELECT toUInt8({number}) AS s,"
        f" {ClickHouse.interval_key(query.interval, source.instant, window.offsets)} AS key,"
        f" {value} AS v, {user} AS user_id,"
        f" toUInt64({source.events}) AS events FROM {source.table}"
        f" WHERE {' AND '.join(conditions)}"
    )


def _canonical(query: TrendQuery, column: str) -> str:
    """The breakdown value's canonical JSON text from a hot row's text (or an event
    type), the same as the cold rows': ``null`` for events without the property (and
    with a JSON null there)."""
    if query.by_event_type:
        return canonical_json(f"toJSONString({column})")
    if query.path is not None:
        present = f"nullIf({column}, '')"
        return f"coalesce({canonical_json(present)}, 'null')"
    return column
