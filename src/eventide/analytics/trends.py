"""Trends: events or distinct users per local interval of a range, for up to 10 series,
optionally broken down by a property or by event type.

Each series is counted over the union of both tiers in one ClickHouse query
(``_trend_rows``), whose intervals are the ones :func:`intervals.intervals` lists from
the same offsets; every listed interval gets a point, empty ones 0.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventide.analytics import calendar
from eventide.analytics._trend_rows import Count, SeriesRows, TrendQuery, trend_counts
from eventide.analytics.filters import EventSelector, json_value, property_path
from eventide.analytics.intervals import MAX_HOUR_RANGE_DAYS, Interval, intervals
from eventide.archive.tiers import tier_snapshot
from eventide.errors import InvalidInput
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import Scope

MAX_SERIES = 10
MAX_BREAKDOWN_LIMIT = 50
ALL_EVENTS_LABEL = "all events"


class Measure(enum.Enum):
    EVENTS = "EVENTS"
    USERS = "USERS"


@dataclass(frozen=True)
class SeriesSpec:
    """One input series: the events of ``selector`` (validated, see filters)."""

    selector: EventSelector = field(default_factory=EventSelector)
    measure: Measure = Measure.EVENTS
    label: str | None = None


@dataclass(frozen=True)
class Breakdown:
    """What the series are broken down by: the value at a property path, or the event type."""

    path: tuple[str, ...] | None = None
    by_event_type: bool = False

    @classmethod
    def of(cls, path: str | None, by_event_type: bool | None) -> Breakdown:
        """Exactly one of a property's dotted ``path`` and ``by_event_type: true``."""
        if (path is None) == (not by_event_type):
            raise InvalidInput("breakdown takes exactly one of property and byEventType: true")
        if path is None:
            return cls(by_event_type=True)
        return cls(path=property_path(path, argument="breakdown.property"))


@dataclass(frozen=True)
class TrendPoint:
    start: dt.datetime
    value: int


@dataclass(frozen=True)
class TrendSeries:
    label: str
    breakdown_value: Any  # a JSON value; None without a breakdown or without the property
    other: bool
    total: int
    points: list[TrendPoint]


async def trends(
    engines: Engines,
    *,
    project: int,
    first: dt.date,
    last: dt.date,
    timezone: str,
    interval: Interval,
    series: Sequence[SeriesSpec],
    breakdown: Breakdown | None = None,
    breakdown_limit: int = 10,
) -> list[TrendSeries]:
    """One series per input series (and per breakdown value, then ``other``), in order."""
    if not 1 <= len(series) <= MAX_SERIES:
        raise InvalidInput(f"series must hold 1 to {MAX_SERIES} series")
    if not 1 <= breakdown_limit <= MAX_BREAKDOWN_LIMIT:
        raise InvalidInput(f"breakdownLimit must be between 1 and {MAX_BREAKDOWN_LIMIT}")
    days = calendar.DayRange.of(first, last)
    if interval is Interval.HOUR and len(days.days()) > MAX_HOUR_RANGE_DAYS:
        raise InvalidInput(f"range covers more than {MAX_HOUR_RANGE_DAYS} days, the most for HOUR")
    window = calendar.window(calendar.zone(timezone), days.first, days.last)
    query = TrendQuery(
        window=window,
        interval=interval,
        series=[SeriesRows(s.selector, s.measure is Measure.USERS) for s in series],
        limit=breakdown_limit,
        path=breakdown.path if breakdown is not None else None,
        by_event_type=breakdown is not None and breakdown.by_event_type,
    )
    counts: list[Count] = []
    if not window.empty:
        async with tier_snapshot(engines, scope=Scope.of(project)) as tiers:
            counts = await trend_counts(tiers, query)
    return _answer(query, series, counts)


def _answer(
    query: TrendQuery, specs: Sequence[SeriesSpec], counts: list[Count]
) -> list[TrendSeries]:
    spans = intervals(query.window, query.interval)
    groups: dict[tuple[int, bool, str], dict[int | None, int]] = {}
    for count in counts:
        measured = count.users if query.series[count.s].users else count.events
        groups.setdefault((count.s, count.other, count.value), {})[count.key] = measured
    answer = []
    for number, spec in enumerate(specs):
        default = spec.selector.event_type or ALL_EVENTS_LABEL
        label = spec.label if spec.label is not None else default
        found = [(o, v, g) for (s, o, v), g in groups.items() if s == number]
        if not query.broken_down and not found:
            found = [(False, "", {})]
        # Ranked as ClickHouse ranked them (ties by the JSON text); ``other`` last.
        found.sort(key=lambda f: (f[0], -f[2].get(None, 0), f[1]))
        for other, value, values in found:
            answer.append(
                TrendSeries(
                    label=label,
                    breakdown_value=json_value(value) if query.broken_down and not other else None,
                    other=other,
                    total=values.get(None, 0),
                    points=[
                        TrendPoint(calendar.from_instant_us(span.start_us), values.get(span.key, 0))
                        for span in spans
                    ],
                )
            )
    return answer
