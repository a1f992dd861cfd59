"""With EVENTIDE_RETENTION_DAYS, every analytics answer equals the oracle over the events
from the boundary on, whatever the split between the tiers, before the removal of the
older ones, after it (interrupted or not), and after later archive passes."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventide.analytics.dau import daily_active_users
from eventide.analytics.event_properties import event_properties
from eventide.analytics.event_types import event_types
from eventide.analytics.filters import EventSelector, PropertyFilter
from eventide.analytics.funnel import FunnelOrder, funnel
from eventide.analytics.intervals import Interval
from eventide.analytics.listing import Event, EventFilter
from eventide.analytics.top_events import top_events
from eventide.analytics.trends import Measure, SeriesSpec, trends
from eventide.archive.archiver import archive_pass
from eventide.archive.boundary import BUCKET
from eventide.archive.expiry import remove_expired
from eventide.storage.engines import Engines
from tests.analytics import oracle, oracle_funnel, oracle_trends
from tests.analytics.random_properties import wheres
from tests.analytics.test_event_properties import answered
from tests.analytics.test_funnel_oracle import observed
from tests.analytics.test_oracle import (
    ANCHORS,
    ORACLE_SETTINGS,
    START,
    TIMEZONES,
    TYPES,
    Wave,
    assert_retention,
    histories,
    listed,
    ranges,
    store,
)

pytestmark = pytest.mark.slow  # each example compares every kind of answer three times

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
REMOVAL_STEPS = [None, "hot_day_dropped", "hot_chunk_deleted", "hot_deleted", "cold_deleted"]


class RemovalInterrupted(Exception):
    pass


@st.composite
def boundaries(draw: st.DrawFn) -> dt.datetime:
    """Where the retention period starts, before being floored to its bucket: near a
    day that is 23 or 25 hours long somewhere, or anywhere in the events' span."""
    if draw(st.booleans()):
        base = draw(st.sampled_from(ANCHORS))
        return base + dt.timedelta(seconds=draw(st.integers(-36 * 3600, 36 * 3600)))
    return START + dt.timedelta(seconds=draw(st.integers(0, 90 * 86400)))


def floored(instant: dt.datetime) -> dt.datetime:
    return EPOCH + (instant - EPOCH) // BUCKET * BUCKET


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


@ORACLE_SETTINGS
@given(
    history=histories(),
    start=boundaries(),
    days=st.integers(1, 40),
    tz_name=st.sampled_from(TIMEZONES),
    span=ranges(),
    event_type=st.one_of(st.none(), st.sampled_from(TYPES)),
    where=wheres(),
    interrupted_at=st.sampled_from(REMOVAL_STEPS),
)
async def test_answers_count_only_the_retained_events(
    engines: Engines,
    history: list[Wave],
    start: dt.datetime,
    days: int,
    tz_name: str,
    span: tuple[dt.date, dt.date],
    event_type: str | None,
    where: tuple[PropertyFilter, ...],
    interrupted_at: str | None,
) -> None:
    events = await store(engines, history)
    settings = dataclasses.replace(
        engines.settings, retention_days=days, retention_now=start + dt.timedelta(days=days)
    )
    keeping = dataclasses.replace(engines, settings=settings)
    boundary = floored(start)
    kept = [e for e in events if e.occurred_at >= boundary]
    await assert_answers(keeping, kept, tz_name, span, event_type, where)

    async def faults(step: str) -> None:
        if step == interrupted_at:
            raise RemovalInterrupted(step)

    with contextlib.suppress(RemovalInterrupted):
        await remove_expired(keeping, chunk=5, faults=faults)
    await assert_answers(keeping, kept, tz_name, span, event_type, where)
    await remove_expired(keeping)
    await archive_pass(keeping, trigger="cli", now=START + dt.timedelta(days=120))
    await assert_answers(keeping, kept, tz_name, span, event_type, where)
