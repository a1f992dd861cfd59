"""Every kind of analytics answer, each asked with and without a selection, compared with
the plain-Python oracle over the events a test expects to count."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from eventide.analytics.dau import daily_active_users
from eventide.analytics.event_properties import event_properties
from eventide.analytics.event_types import event_types
from eventide.analytics.filters import EventSelector, PropertyFilter
from eventide.analytics.funnel import FunnelOrder, funnel
from eventide.analytics.intervals import Interval
from eventide.analytics.listing import Event, EventFilter
from eventide.analytics.top_events import top_events
from eventide.analytics.trends import Measure, SeriesSpec, trends
from eventide.storage.engines import Engines
from tests.analytics import oracle, oracle_funnel, oracle_trends
from tests.analytics.test_event_properties import answered
from tests.analytics.test_funnel_oracle import observed
from tests.analytics.test_oracle import TYPES, assert_retention, listed


async def assert_answers(
    engines: Engines,
    kept: list[Event],
    tz_name: str,
    span: tuple[dt.date, dt.date],
    event_type: str | None,
    where: tuple[PropertyFilter, ...],
) -> None:
    tz, (first, last) = ZoneInfo(tz_name), span
    common: dict[str, Any] = {
        "engines": engines,
        "project": 1,
        "first": first,
        "last": last,
        "timezone": tz_name,
    }
    for selected, conditions in ((None, ()), (event_type, where)):
        got = await daily_active_users(**common, event_type=selected, where=conditions)
        assert [(r.date, r.users) for r in got] == oracle.dau(
            kept, first, last, tz, selected, conditions
        )
    top = await top_events(**common, limit=3, where=where)
    assert [(r.event_type, r.events, r.users) for r in top] == oracle.top_events(
        kept, first, last, tz, 3, where
    )
    types = await event_types(**common)
    assert [(r.event_type, r.events, r.users, r.last_seen_at) for r in types] == (
        oracle.event_types(kept, first, last, tz)
    )
    properties = await event_properties(**common, event_type=event_type, limit=5)
    assert answered(properties) == oracle.event_properties(kept, first, last, tz, event_type, 5)
    series = [
        SeriesSpec(EventSelector(event_type, where), Measure.USERS),
        SeriesSpec(EventSelector(), Measure.EVENTS),
    ]
    got_trends = await trends(
        **common, interval=Interval.DAY, series=series, breakdown=None, breakdown_limit=5
    )
    assert [
        (s.label, s.breakdown_value, s.other, s.total, [(p.start, p.value) for p in s.points])
        for s in got_trends
    ] == oracle_trends.trends(
        kept,
        first,
        last,
        tz,
        interval="DAY",
        series=[oracle_trends.Series(s.selector, s.measure is Measure.USERS) for s in series],
        breakdown=None,
        limit=5,
    )
    steps = [EventSelector(TYPES[0]), EventSelector(event_type, where)]
    got_funnel = await funnel(
        **common, steps=steps, window_seconds=86_400, order=FunnelOrder.ORDERED
    )
    assert observed(got_funnel) == oracle_funnel.funnel(
        kept, first, last, tz, steps, window_seconds=86_400, strict=False
    )
    await assert_retention(engines, 1, kept, span, tz_name, periods=3, types=(None, event_type))
    listing = EventFilter(event_type=event_type, where=where)
    assert await listed(engines, 1, listing, 25) == oracle.listing(kept, listing)
