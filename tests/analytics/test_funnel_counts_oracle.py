"""Without medians a funnel looks only for each user's depth (and, with a breakdown, the
path's entry): its counts, conversions and groups still equal the plain-Python ones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventide.analytics.filters import EventSelector
from eventide.analytics.funnel import Breakdown, FunnelOrder, funnel
from eventide.storage.engines import Engines
from tests.analytics import oracle_funnel
from tests.analytics.test_funnel_oracle import histories, observed, selectors
from tests.analytics.test_oracle import ORACLE_SETTINGS, START, TIMEZONES, Wave, store

pytestmark = pytest.mark.slow


@ORACLE_SETTINGS
@given(
    history=histories(),
    tz_name=st.sampled_from(TIMEZONES),
    start=st.integers(-2, 20),
    length=st.integers(0, 20),
    steps=st.lists(selectors(), min_size=2, max_size=4),
    window_seconds=st.sampled_from([60, 3600, 86_400, 7 * 86_400]),
    breakdown=st.one_of(st.none(), st.sampled_from([("plan",), ("n",)])),
)
async def test_counts_without_medians_equal_the_oracle(
    engines: Engines,
    history: list[Wave],
    tz_name: str,
    start: int,
    length: int,
    steps: list[EventSelector],
    window_seconds: int,
    breakdown: tuple[str, ...] | None,
) -> None:
    events = await store(engines, history)
    first = START.date() + dt.timedelta(days=start)
    last = first + dt.timedelta(days=length)
    for order in FunnelOrder:
        got = await funnel(
            engines,
            project=1,
            first=first,
            last=last,
            timezone=tz_name,
            steps=steps,
            window_seconds=window_seconds,
            order=order,
            breakdown=None if breakdown is None else Breakdown(property=".".join(breakdown)),
            breakdown_limit=2,
            medians=False,
        )
        expected = oracle_funnel.funnel(
            events,
            first,
            last,
            ZoneInfo(tz_name),
            steps,
            window_seconds=window_seconds,
            strict=order is FunnelOrder.STRICT,
            breakdown=breakdown,
            limit=2,
        )
        without_medians = [
            (value, other, [(users, conversion, None) for users, conversion, _ in steps_])
            for value, other, steps_ in expected
        ]
        assert observed(got) == without_medians, order
