"""Retention cohorts: of the users in each cohort period, how many came back k periods later.

Per user, two sets of period numbers decide everything: the cohort periods (FIRST_SEEN:
the period of the user's first event ever; ACTIVE: every period with an event) and the
return periods. The hot tier reduces its rows to (user, period, flags) and, for
FIRST_SEEN, to each user's first instant; that small result is shipped into one
ClickHouse query, which takes the union with the visible cold rows per user, so a user
with events in both tiers is one user with the union of their periods.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from eventide.analytics import calendar
from eventide.analytics._sources import Source, cold_source, hot_source
from eventide.analytics._sql_time import ClickHouse, Postgres
from eventide.analytics.calendar import Period
from eventide.analytics.filters import (
    ColdConditions,
    EventSelector,
    HotConditions,
    PropertyFilter,
)
from eventide.archive.tiers import HotRows, Tiers, tier_snapshot
from eventide.errors import InvalidInput
from eventide.storable import checked_text
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import Scope

MAX_PERIODS = 400
_LAST_STORABLE_DAY = calendar.MAX_INSTANT_US // calendar.DAY_US - 1


class CohortKind(enum.Enum):
    FIRST_SEEN = "FIRST_SEEN"
    ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class RetentionCohort:
    cohort: dt.date
    size: int
    retained: list[int]


@dataclass(frozen=True)
class _Query:
    period: Period
    periods: int
    kind: CohortKind
    first_key: int
    last_key: int
    window: calendar.Window
    cohort: EventSelector
    returns: EventSelector


async def retention(
    engines: Engines,
    *,
    project: int,
    first: dt.date,
    last: dt.date,
    period: Period,
    periods: int,
    kind: CohortKind,
    timezone: str,
    cohort_event_type: str | None = None,
    return_event_type: str | None = None,
    cohort_where: tuple[PropertyFilter, ...] = (),
    return_where: tuple[PropertyFilter, ...] = (),
) -> list[RetentionCohort]:
    """One cohort per period holding a day of ``first..last``, ascending, empty ones too;
    cohorts count events of ``cohort_event_type`` matching ``cohort_where``, returns those
    of ``return_event_type`` matching ``return_where``."""
    if not 0 <= periods <= MAX_PERIODS:
        raise InvalidInput(f"periods must be between 0 and {MAX_PERIODS}")
    days = calendar.DayRange.of(first, last)
    tz = calendar.zone(timezone)
    first_key = calendar.period_key(period, days.first)
    last_key = calendar.period_key(period, days.last)
    # Return periods run up to periods after the last cohort; nothing is stored past 2261.
    end_key = min(last_key + periods + 1, calendar.period_key(period, _LAST_STORABLE_DAY))
    window_first = calendar.period_first_day(period, first_key)
    window_last = max(calendar.period_first_day(period, end_key) - 1, window_first)
    query = _Query(
        period=period,
        periods=periods,
        kind=kind,
        first_key=first_key,
        last_key=last_key,
        window=calendar.window(tz, window_first, window_last),
        cohort=EventSelector(checked_text("cohortEventType", cohort_event_type), cohort_where),
        returns=EventSelector(checked_text("returnEventType", return_event_type), return_where),
    )
    counts: dict[tuple[int, int], int] = {}
    if not query.window.empty:
        async with tier_snapshot(engines, scope=Scope.of(project)) as tiers:
            counts = await _counts(tiers, query)
    return [
        RetentionCohort(
            cohort=calendar.day_of(calendar.period_first_day(period, key)),
            size=counts.get((key, 0), 0),
            retained=[counts.get((key, k), 0) for k in range(periods + 1)],
        )
        for key in range(first_key, last_key + 1)
    ]


async def _counts(tiers: Tiers, query: _Query) -> dict[tuple[int, int], int]:
    """(cohort period, k) -> users of that cohort with a return event k periods later."""
    window = query.window
    selectors = (query.cohort, query.returns)
    # The hot store's buckets have no event types: only a question without them reads them.
    typed = any(selector.event_type is not None for selector in selectors)
    conditioned = any(selector.where for selector in selectors)
    hot = hot_source(window, event_types=typed, properties=conditioned)
    cold = cold_source(tiers, window, event_types=typed, properties=conditioned)
    hot_period = Postgres.period_key(query.period, Postgres.local_day(hot.instant, window.offsets))
    # Bucket rows are read only for selectors of every event (whose SQL is "true").
    hot_args: list[Any] = []
    hot_conditions = HotConditions(hot_args)
    params: dict[str, Any] = {}
    cold_conditions = ColdConditions(params, "sel")
    cohort_test = cold_conditions.selector(query.cohort)
    return_test = cold_conditions.selector(query.returns)
    hot_rows = HotRows(
        f"""SELECT user_id, p, bool_or(c_ok)::int AS c_ok, bool_or(r_ok)::int AS r_ok FROM (
                SELECT user_id, {hot_period} AS p, {hot_conditions.selector(query.cohort)} AS c_ok,
                       {hot_conditions.selector(query.returns)} AS r_ok
                FROM {hot.table} WHERE {Postgres.in_window(hot.instant, window)}
            ) r GROUP BY user_id, p""",
        tuple(hot_args),
        "user_id String, p Int64, c_ok UInt8, r_ok UInt8",
    )
    hot_firsts: str | None = None
    if query.kind is CohortKind.ACTIVE:
        hot_periods = await tiers.push_hot(
            hot_rows.sql, *hot_rows.args, structure=hot_rows.structure
        )
    else:
        # Each hot user's first instant is read from the whole hot store, at the same time.
        hot_periods, hot_firsts = await tiers.push_hot_concurrently(
            hot_rows, _hot_firsts(query, window, hot)
        )
    period_sql = ClickHouse.period_key(
        query.period, ClickHouse.local_day(cold.instant, window.offsets)
    )
    per_user_periods = f"""
        SELECT user_id,
               groupUniqArrayIf(p, c_ok = 1 AND p BETWEEN {query.first_key} AND {query.last_key})
                   AS cohorts,
               groupUniqArrayIf(p, r_ok = 1) AS returns
        FROM (
            SELECT user_id, {period_sql} AS p,
                   toUInt8({cohort_test}) AS c_ok,
                   toUInt8({return_test}) AS r_ok
            FROM {cold.table}
            WHERE {ClickHouse.in_window(cold.instant, window)}
            UNION ALL
            SELECT user_id, p, c_ok, r_ok
            FROM {hot_periods}
        ) GROUP BY user_id"""
    if hot_firsts is None:
        per_user = per_user_periods
    else:
        per_user = f"""
            SELECT f.user_id AS user_id, [f.cohort] AS cohorts, r.returns AS returns
            FROM ({_first_seen(query, hot_firsts, cold, cohort_test)}) AS f
            LEFT JOIN ({per_user_periods}) AS r ON f.user_id = r.user_id"""
    rows = await tiers.cold_fetch(
        f"""SELECT ck.1, ck.2, count() FROM ({per_user})
            ARRAY JOIN arrayFlatten(arrayMap(
                c -> arrayMap(
                    k -> (c, k),
                    arrayConcat([toInt64(0)], arrayFilter(
                        k -> k BETWEEN 1 AND {query.periods}, arrayMap(r -> r - c, returns)))),
                cohorts)) AS ck
            GROUP BY ck.1, ck.2""",
        params,
    )
    return {(c, k): n for c, k, n in rows}


def _hot_firsts(query: _Query, window: calendar.Window, hot: Source) -> HotRows:
    """The first instant of each hot user (with a cohort event) before the window ends
    (a bucket's start, from buckets: on the same day, inside the window or not)."""
    first = f"min({hot.instant})"
    args: list[Any] = []
    return HotRows(
        f"""SELECT user_id, (EXTRACT(EPOCH FROM {first}) * 1000000)::bigint AS t_us
            FROM {hot.table} WHERE {HotConditions(args).selector(query.cohort)}
            GROUP BY user_id HAVING {first} < {Postgres.instant(window.end_us)}""",
        tuple(args),
        "user_id String, t_us Int64",
    )


def _first_seen(query: _Query, hot_firsts: str, cold: Source, cohort_test: str) -> str:
    """A ClickHouse subquery (user_id, cohort): users whose first event ever (a cohort
    event: ``cohort_test``) lies in a cohort period, with the number of that period;
    ``hot_firsts`` holds the rows of :func:`_hot_firsts`."""
    window = query.window
    cohort_sql = ClickHouse.period_key(
        query.period, ClickHouse.local_day("first_at", window.offsets)
    )
    return f"""
        SELECT user_id, {cohort_sql} AS cohort FROM (
            SELECT user_id, min(t) AS first_at FROM (
                SELECT user_id, min({cold.instant}) AS t FROM {cold.table}
                WHERE {cohort_test}
                GROUP BY user_id
                UNION ALL
                SELECT user_id, fromUnixTimestamp64Micro(t_us, 'UTC')
                FROM {hot_firsts}
            ) GROUP BY user_id
        )
        WHERE first_at >= {ClickHouse.instant(window.start_us)}
          AND first_at < {ClickHouse.instant(window.end_us)}
          AND cohort BETWEEN {query.first_key} AND {query.last_key}"""
