"""Answers stay exact while archive passes move events between the tiers."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from eventide.analytics.calendar import Period
from eventide.analytics.dau import daily_active_users
from eventide.analytics.event_properties import event_properties
from eventide.analytics.event_types import event_types
from eventide.analytics.filters import EventSelector
from eventide.analytics.intervals import Interval
from eventide.analytics.listing import Event, EventFilter, list_events
from eventide.analytics.retention import CohortKind, retention
from eventide.analytics.top_events import top_events
from eventide.analytics.trends import Breakdown, Measure, SeriesSpec, trends
from eventide.archive.archiver import archive_pass
from eventide.storage.engines import Engines
from tests.analytics import oracle, oracle_trends
from tests.analytics.oracle_filters import canonical
from tests.analytics.stores import put_hot

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAYS = 20
TZ = "America/New_York"  # springs forward on 8 March
FIRST, LAST = START.date(), (START + dt.timedelta(days=DAYS - 1)).date()


def generated_events(count: int) -> list[Event]:
    rng = random.Random(20260301)
    events = []
    for i in range(count):
        occurred = START + dt.timedelta(seconds=rng.randrange(DAYS * 86400))
        events.append(
            Event(
                event_id=f"evt-{i:05d}",
                user_id=f"user-{rng.randrange(60)}",
                event_type=rng.choice(["view", "click", "buy"]),
                occurred_at=occurred,
                received_at=occurred,
                properties={"i": i},
            )
        )
    return events


@pytest.mark.slow
async def test_paging_and_queries_are_exact_while_events_move(engines: Engines) -> None:
    events = generated_events(1500)
    await put_hot(engines, events)
    tz = ZoneInfo(TZ)
    expected_listing = oracle.listing(events, EventFilter())
    expected_dau = oracle.dau(events, FIRST, LAST, tz, None)
    expected_top = oracle.top_events(events, FIRST, LAST, tz, 10)
    expected_types = oracle.event_types(events, FIRST, LAST, tz)
    expected_properties = oracle.event_properties(events, FIRST, LAST, tz, None, 10)
    expected_retention = oracle.retention(
        events,
        FIRST,
        LAST,
        tz,
        period="DAY",
        periods=5,
        kind="FIRST_SEEN",
        cohort_type=None,
        return_type=None,
    )
    # Hourly distinct users by event type, the last past the limit in the other series.
    expected_trends = oracle_trends.trends(
        events,
        FIRST,
        LAST,
        tz,
        interval="HOUR",
        series=[oracle_trends.Series(EventSelector(), users=True)],
        breakdown=oracle_trends.event_type_value,
        limit=2,
    )
    finished = asyncio.Event()
    passes = 0

    async def archiver() -> None:
        nonlocal passes
        # Each pass moves one more day (the hot window is 7 days), in batches of 50 rows.
        for day in range(1, DAYS + 1):
            await archive_pass(
                engines, trigger="cli", now=START + dt.timedelta(days=day + 7), batch_size=50
            )
            passes += 1
        finished.set()

    async def reader() -> int:
        rounds = 0
        while not finished.is_set():
            seen: list[Event] = []
            below = None
            while True:
                page = await list_events(
                    engines, project=1, where=EventFilter(), first=97, below=below
                )
                seen.extend(page.events)
                if not page.has_next_page:
                    break
                below = page.events[-1].key
            assert seen == expected_listing
            dau = await daily_active_users(engines, project=1, first=FIRST, last=LAST, timezone=TZ)
            assert [(r.date, r.users) for r in dau] == expected_dau
            top = await top_events(
                engines, project=1, first=FIRST, last=LAST, timezone=TZ, limit=10
            )
            assert [(r.event_type, r.events, r.users) for r in top] == expected_top
            types = await event_types(engines, project=1, first=FIRST, last=LAST, timezone=TZ)
            assert [
                (r.event_type, r.events, r.users, r.last_seen_at) for r in types
            ] == expected_types
            keys = await event_properties(
                engines, project=1, first=FIRST, last=LAST, timezone=TZ, limit=10
            )
            assert [
                (r.property, r.types, r.events, [canonical(v) for v in r.top_values]) for r in keys
            ] == expected_properties
            cohorts = await retention(
                engines,
                project=1,
                first=FIRST,
                last=LAST,
                period=Period.DAY,
                periods=5,
                kind=CohortKind.FIRST_SEEN,
                timezone=TZ,
            )
            assert [(c.cohort, c.size, c.retained) for c in cohorts] == expected_retention
            hourly = await trends(
                engines,
                project=1,
                first=FIRST,
                last=LAST,
                timezone=TZ,
                interval=Interval.HOUR,
                series=[SeriesSpec(measure=Measure.USERS)],
                breakdown=Breakdown.of(None, True),
                breakdown_limit=2,
            )
            assert [
                (
                    s.label,
                    s.breakdown_value,
                    s.other,
                    s.total,
                    [(p.start, p.value) for p in s.points],
                )
                for s in hourly
            ] == expected_trends
            rounds += 1
        return rounds

    *rounds, _ = await asyncio.gather(reader(), reader(), archiver())
    assert passes == DAYS
    assert all(r >= 2 for r in rounds), rounds  # both readers ran across several passes
    assert await engines.cold.fetch("SELECT count() FROM project_events") == [(len(events),)]
