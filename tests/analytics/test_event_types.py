"""``eventTypes`` equals the oracle whatever the split of the events between the tiers,
and its latest instant is exact to the microsecond, also when cold rows are buckets."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventide.analytics.event_types import event_types
from eventide.archive.archiver import archive_pass
from eventide.errors import InvalidInput
from eventide.storage.engines import Engines
from tests.analytics import oracle
from tests.analytics.stores import put_hot
from tests.analytics.test_graphql import event
from tests.analytics.test_oracle import ORACLE_SETTINGS, TIMEZONES, Wave, histories, ranges, store

UTC = dt.UTC


@pytest.mark.slow
@ORACLE_SETTINGS
@given(history=histories(), tz_name=st.sampled_from(TIMEZONES), span=ranges())
async def test_event_types_equal_the_oracle(
    engines: Engines, history: list[Wave], tz_name: str, span: tuple[dt.date, dt.date]
) -> None:
    events = await store(engines, history)
    first, last = span
    got = await event_types(engines, project=1, first=first, last=last, timezone=tz_name)
    assert [(r.event_type, r.events, r.users, r.last_seen_at) for r in got] == (
        oracle.event_types(events, first, last, ZoneInfo(tz_name))
    )


async def test_latest_instant_within_the_range_in_both_tiers(engines: Engines) -> None:
    # The range is 1 to 2 March in Berlin: 28 Feb 23:00 UTC to 2 March 23:00 UTC.
    cold = [
        event("c1", "ann", "view", dt.datetime(2026, 2, 28, 22, 59, 59, 999999, tzinfo=UTC)),
        event("c2", "ann", "view", dt.datetime(2026, 2, 28, 23, tzinfo=UTC)),
        event("c3", "bob", "view", dt.datetime(2026, 3, 1, 12, 7, 1, 500, tzinfo=UTC)),
        event("c4", "bob", "view", dt.datetime(2026, 3, 1, 12, 7, 1, 499, tzinfo=UTC)),
        event("c5", "bob", "buy", dt.datetime(2026, 3, 2, 22, 59, 59, 1, tzinfo=UTC)),
        event("c6", "bob", "buy", dt.datetime(2026, 3, 2, 23, tzinfo=UTC)),
    ]
    await put_hot(engines, cold)
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 20, tzinfo=UTC))
    hot = [
        # A late event on a cold day: the latest "view", by a user the cold tier has too.
        event("h1", "bob", "view", dt.datetime(2026, 3, 1, 12, 7, 2, tzinfo=UTC)),
        event("h2", "cid", "open", dt.datetime(2026, 3, 2, 1, tzinfo=UTC)),
    ]
    await put_hot(engines, hot)
    got = await event_types(
        engines,
        project=1,
        first=dt.date(2026, 3, 1),
        last=dt.date(2026, 3, 2),
        timezone="Europe/Berlin",
    )
    assert [(r.event_type, r.events, r.users, r.last_seen_at) for r in got] == [
        ("view", 4, 2, dt.datetime(2026, 3, 1, 12, 7, 2, tzinfo=UTC)),
        ("buy", 1, 1, dt.datetime(2026, 3, 2, 22, 59, 59, 1, tzinfo=UTC)),
        ("open", 1, 1, dt.datetime(2026, 3, 2, 1, tzinfo=UTC)),
    ]


async def test_cold_latest_instant_is_exact_within_its_bucket(engines: Engines) -> None:
    # Three events in one quarter hour, the latest not at the bucket's start.
    instants = [dt.datetime(2026, 3, 1, 10, 15, s, 7, tzinfo=UTC) for s in (0, 40, 20)]
    await put_hot(engines, [event(f"e{i}", "ann", "view", t) for i, t in enumerate(instants)])
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 20, tzinfo=UTC))
    (got,) = await event_types(
        engines, project=1, first=dt.date(2026, 3, 1), last=dt.date(2026, 3, 1), timezone="UTC"
    )
    assert got.last_seen_at == max(instants)


async def test_an_empty_range_and_invalid_arguments(engines: Engines) -> None:
    day = dt.date(2026, 3, 1)
    assert await event_types(engines, project=1, first=day, last=day, timezone="UTC") == []
    with pytest.raises(InvalidInput, match="range"):
        await event_types(engines, project=1, first=day, last=day - dt.timedelta(1), timezone="UTC")
    with pytest.raises(InvalidInput, match="time zone"):
        await event_types(engines, project=1, first=day, last=day, timezone="Mars/Base")
