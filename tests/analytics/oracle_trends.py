"""The trends answer computed in plain Python over a list of all events.

Intervals are found by reading the wall clock (``astimezone``) at every quarter hour
around the range: in the zones the tests use, every offset and every change of offset
is a whole quarter hour, so each interval starts at one of those instants.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from eventide.analytics.filters import EventSelector
from eventide.analytics.listing import Event
from tests.analytics.oracle_filters import answered, canonical, matches, value_at

_STEP = dt.timedelta(minutes=15)
# The breakdown value of an event: its canonical JSON text.
Value = Callable[[Event], str]


@dataclass(frozen=True)
class Series:
    selector: EventSelector
    users: bool
    label: str | None = None


def interval_of(instant: dt.datetime, tz: ZoneInfo, interval: str) -> tuple[Any, ...]:
    local = instant.astimezone(tz)
    day = local.date()
    if interval == "HOUR":
        # The same wall-clock hour read at another offset is another interval.
        return (day, local.hour, local.utcoffset())
    if interval == "WEEK":
        return (day - dt.timedelta(days=day.weekday()),)
    if interval == "MONTH":
        return (day.replace(day=1),)
    return (day,)


def intervals(
    first: dt.date, last: dt.date, tz: ZoneInfo, interval: str
) -> list[tuple[tuple[Any, ...], dt.datetime]]:
    """Every interval of the range's days with its earliest instant on those days."""
    starts: dict[tuple[Any, ...], dt.datetime] = {}
    instant = dt.datetime.combine(first, dt.time(), dt.UTC) - dt.timedelta(days=2)
    end = dt.datetime.combine(last, dt.time(), dt.UTC) + dt.timedelta(days=3)
    while instant < end:
        if first <= instant.astimezone(tz).date() <= last:
            starts.setdefault(interval_of(instant, tz, interval), instant)
        instant += _STEP
    return sorted(starts.items(), key=lambda item: item[1])


def trends(
    events: Sequence[Event],
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    *,
    interval: str,
    series: Sequence[Series],
    breakdown: Value | None,
    limit: int,
) -> list[tuple[str, Any, bool, int, list[tuple[dt.datetime, int]]]]:
    spans = intervals(first, last, tz, interval)
    in_range = [e for e in events if first <= e.occurred_at.astimezone(tz).date() <= last]
    answer = []
    for s in series:
        event_type, where = s.selector.event_type, s.selector.where
        label = s.label if s.label is not None else event_type or "all events"
        matching = [
            e
            for e in in_range
            if (event_type is None or e.event_type == event_type) and matches(e.properties, where)
        ]
        by_value: dict[str, list[Event]] = defaultdict(list)
        for e in matching:
            by_value[breakdown(e) if breakdown else ""].append(e)
        if breakdown is None:
            groups = [(None, False, matching)]
        else:
            ranked = sorted(by_value, key=lambda v: (-_total(by_value[v], s.users), v))
            groups = [(answered(v), False, by_value[v]) for v in ranked[:limit]]
            rest = [e for v in ranked[limit:] for e in by_value[v]]
            if rest:
                groups.append((None, True, rest))
        for value, other, group in groups:
            keyed: dict[tuple[Any, ...], list[Event]] = defaultdict(list)
            for e in group:
                keyed[interval_of(e.occurred_at, tz, interval)].append(e)
            points = [(start, _total(keyed.get(key, []), s.users)) for key, start in spans]
            answer.append((label, value, other, _total(group, s.users), points))
    return answer


def _total(events: Sequence[Event], users: bool) -> int:
    return len({e.user_id for e in events}) if users else len(events)


def event_type_value(event: Event) -> str:
    return canonical(event.event_type)


def property_value(path: tuple[str, ...]) -> Value:
    """The value at ``path``; absent and JSON null alike are the null value."""

    def value(event: Event) -> str:
        found, stored = value_at(event.properties, path)
        return canonical(stored) if found else "null"

    return value
