"""The analytics answers computed in plain Python over a list of all events."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from eventide.analytics.filters import PropertyFilter
from eventide.analytics.listing import Event, EventFilter
from tests.analytics.oracle_filters import matches

Where = Sequence[PropertyFilter]


def _day(event: Event, tz: ZoneInfo) -> dt.date:
    return event.occurred_at.astimezone(tz).date()


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _selected(e: Event, event_type: str | None, where: Where) -> bool:
    return (event_type is None or e.event_type == event_type) and matches(e.properties, where)


def dau(
    events: Sequence[Event],
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    event_type: str | None,
    where: Where = (),
) -> list[tuple[dt.date, int]]:
    users: dict[dt.date, set[str]] = defaultdict(set)
    for e in events:
        if _selected(e, event_type, where):
            users[_day(e, tz)].add(e.user_id)
    return [(day, len(users[day])) for day in _days(first, last)]


def top_events(
    events: Sequence[Event],
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    limit: int,
    where: Where = (),
) -> list[tuple[str, int, int]]:
    counts: dict[str, int] = defaultdict(int)
    users: dict[str, set[str]] = defaultdict(set)
    for e in events:
        if first <= _day(e, tz) <= last and matches(e.properties, where):
            counts[e.event_type] += 1
            users[e.event_type].add(e.user_id)
    order = sorted(counts, key=lambda t: (-counts[t], t))[:limit]
    return [(t, counts[t], len(users[t])) for t in order]


def period_start(day: dt.date, period: str) -> dt.date:
    if period == "DAY":
        return day
    if period == "WEEK":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def shift(start: dt.date, period: str, k: int) -> dt.date:
    if period == "DAY":
        return start + dt.timedelta(days=k)
    if period == "WEEK":
        return start + dt.timedelta(weeks=k)
    months = start.year * 12 + start.month - 1 + k
    return dt.date(months // 12, months % 12 + 1, 1)


def retention(
    events: Sequence[Event],
    first: dt.date,
    last: dt.date,
    tz: ZoneInfo,
    *,
    period: str,
    periods: int,
    kind: str,
    cohort_type: str | None,
    return_type: str | None,
    cohort_where: Where = (),
    return_where: Where = (),
) -> list[tuple[dt.date, int, list[int]]]:
    cohorts = sorted({period_start(day, period) for day in _days(first, last)})
    returns: dict[str, set[dt.date]] = defaultdict(set)
    members: dict[dt.date, set[str]] = defaultdict(set)
    first_seen: dict[str, Event] = {}
    for e in events:
        start = period_start(_day(e, tz), period)
        if _selected(e, return_type, return_where):
            returns[e.user_id].add(start)
        if _selected(e, cohort_type, cohort_where):
            if kind == "ACTIVE":
                members[start].add(e.user_id)
            elif e.user_id not in first_seen or e.occurred_at < first_seen[e.user_id].occurred_at:
                first_seen[e.user_id] = e
    for user, e in first_seen.items():
        members[period_start(_day(e, tz), period)].add(user)
    result = []
    for cohort in cohorts:
        users = members[cohort]
        retained = [len(users)] + [
            sum(1 for u in users if shift(cohort, period, k) in returns[u])
            for k in range(1, periods + 1)
        ]
        result.append((cohort, len(users), retained))
    return result


def listing(events: Sequence[Event], where: EventFilter) -> list[Event]:
    matching = [
        e
        for e in events
        if (where.user_id is None or e.user_id == where.user_id)
        and (where.event_type is None or e.event_type == where.event_type)
        and (where.occurred_from is None or e.occurred_at >= where.occurred_from)
        and (where.occurred_to is None or e.occurred_at < where.occurred_to)
        and matches(e.properties, where.where)
    ]
    return sorted(matching, key=lambda e: (e.occurred_at, e.event_id, e.received_at), reverse=True)
