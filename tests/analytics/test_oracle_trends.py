"""trends equals a plain-Python computation over all events, whatever the split of the
events between the tiers, for every interval, measure, selector and breakdown."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventide.analytics.filters import EventSelector, FilterOp, PropertyFilter
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


# Values that are equal as JSON (1 and 1.0, absent and null), alike as text ("1" and 1),
# nested, and many: breakdowns run past their limit.
PROPERTIES: list[dict[str, Any] | None] = [
    None,
    {},
    {"plan": "pro"},
    {"plan": "free", "n": 1},
    {"plan": 1},
    {"plan": 1.0, "n": 2.5},
    {"plan": "1"},
    {"plan": None},
    {"plan": {"tier": 2}, "n": 3},
    {"plan": {"tier": 2.0}},
    {"plan": [1, "x"]},
    {"plan": True},
    {"plan": 'it\'s "q" ü/%'},
]
SELECTORS = [
    (),
    (PropertyFilter(("plan",), FilterOp.EQ, "pro"),),
    (PropertyFilter(("plan",), FilterOp.IS_SET, None),),
    (PropertyFilter(("n",), FilterOp.GT, 1),),
    (PropertyFilter(("plan",), FilterOp.NOT_IN, ("free", 1)),),
]
BREAKDOWNS: list[tuple[str | None, bool]] = [
    (None, True),
    ("plan", False),
    ("plan.tier", False),
]


@st.composite
def with_properties(draw: st.DrawFn) -> list[Wave]:
    """A history whose events carry properties of :data:`PROPERTIES`, or one of many
    values."""
    rng = draw(st.randoms(use_true_random=False))

    def pick(i: int) -> dict[str, Any] | None:
        many = {"plan": f"v{i % 6}"}
        return many if rng.random() < 0.2 else rng.choice(PROPERTIES)

    return [
        dataclasses.replace(
            wave,
            events=[dataclasses.replace(e, properties=pick(i)) for i, e in enumerate(wave.events)],
        )
        for wave in draw(histories())
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
                selector=st.builds(
                    EventSelector,
                    event_type=st.one_of(st.none(), st.sampled_from(TYPES)),
                    where=st.sampled_from(SELECTORS),
                ),
                measure=st.sampled_from(Measure),
                label=st.one_of(st.none(), st.text(max_size=5)),
            ),
            min_size=1,
            max_size=3,
        )
    )


@ORACLE_SETTINGS
@given(
    history=with_properties(),
    tz_name=st.sampled_from(TIMEZONES),
    interval_and_span=st.sampled_from(Interval).flatmap(lambda i: st.tuples(st.just(i), spans(i))),
    series=series_lists(),
    breakdown=st.one_of(st.none(), st.sampled_from(BREAKDOWNS)),
    limit=st.integers(1, 16),
)
async def test_trends(
    engines: Engines,
    history: list[Wave],
    tz_name: str,
    interval_and_span: tuple[Interval, tuple[dt.date, dt.date]],
    series: list[SeriesSpec],
    breakdown: tuple[str | None, bool] | None,
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
        breakdown=Breakdown.of(*breakdown) if breakdown else None,
        breakdown_limit=limit,
    )
    expected = oracle_trends.trends(
        events,
        first,
        last,
        ZoneInfo(tz_name),
        interval=interval.value,
        series=[
            oracle_trends.Series(s.selector, s.measure is Measure.USERS, s.label) for s in series
        ],
        breakdown=_breakdown_value(breakdown),
        limit=limit,
    )
    assert [
        (s.label, s.breakdown_value, s.other, s.total, [(p.start, p.value) for p in s.points])
        for s in got
    ] == expected


def _breakdown_value(breakdown: tuple[str | None, bool] | None) -> oracle_trends.Value | None:
    if breakdown is None:
        return None
    path, _ = breakdown
    if path is None:
        return oracle_trends.event_type_value
    return oracle_trends.property_value(tuple(path.split(".")))
