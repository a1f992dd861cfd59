"""trends equals a plain-Python computation over all events, whatever the split of the
events between the tiers, for every interval, measure and breakdown."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventide.analytics.intervals import Interval
from eventide.analytics.trends import Breakdown, Measure, SeriesSpec, trends
from eventide.storage.engines import Engines
from tests.analytics import oracle_trends
from tests.analytics.test_oracle import (
    ORACLE_SETTINGS,
    START,
    TIMEZONES,
    TYPES,
    Wave,
    histories,
    store,
)

pytestmark = pytest.mark.slow

# Days on which some of TIMEZONES changes its offset: HOUR ranges start near them.
DST_DAYS = [
    dt.date(2026, 3, 8),  # New York
    dt.date(2026, 3, 29),  # Berlin
    dt.date(2026, 4, 5),  # Lord Howe (30 minutes), Chatham
]


@st.composite
def spans(draw: st.DrawFn, interval: Interval) -> tuple[dt.date, dt.date]:
    if interval is Interval.HOUR:
        first = draw(st.sampled_from(DST_DAYS)) + dt.timedelta(days=draw(st.integers(-2, 1)))
        return first, first + dt.timedelta(days=draw(st.integers(0, 3)))
    first = START.date() + dt.timedelta(days=draw(st.integers(-3, 80)))
    return first, first + dt.timedelta(days=draw(st.integers(0, 60)))


@st.composite
def series_lists(draw: st.DrawFn) -> list[SeriesSpec]:
    return draw(
        st.lists(
            st.builds(
                SeriesSpec,
                event_type=st.one_of(st.none(), st.sampled_from(TYPES)),
                measure=st.sampled_from(Measure),
                label=st.one_of(st.none(), st.text(max_size=5)),
            ),
            min_size=1,
            max_size=3,
        )
    )


@ORACLE_SETTINGS
@given(
    history=histories(),
    tz_name=st.sampled_from(TIMEZONES),
    interval_and_span=st.sampled_from(Interval).flatmap(lambda i: st.tuples(st.just(i), spans(i))),
    series=series_lists(),
    by_event_type=st.booleans(),
    limit=st.integers(1, 4),
)
async def test_trends(
    engines: Engines,
    history: list[Wave],
    tz_name: str,
    interval_and_span: tuple[Interval, tuple[dt.date, dt.date]],
    series: list[SeriesSpec],
    by_event_type: bool,
    limit: int,
) -> None:
    events = await store(engines, history)
    interval, (first, last) = interval_and_span
    got = await trends(
        engines,
        project=1,
        first=first,
        last=last,
        timezone=tz_name,
        interval=interval,
        series=series,
        breakdown=Breakdown.of(True) if by_event_type else None,
        breakdown_limit=limit,
    )
    expected = oracle_trends.trends(
        events,
        first,
        last,
        ZoneInfo(tz_name),
        interval=interval.value,
        series=[
            oracle_trends.Series(s.event_type, s.measure is Measure.USERS, s.label) for s in series
        ],
        breakdown=oracle_trends.event_type_value if by_event_type else None,
        limit=limit,
    )
    assert [
        (s.label, s.breakdown_value, s.other, s.total, [(p.start, p.value) for p in s.points])
        for s in got
    ] == expected
