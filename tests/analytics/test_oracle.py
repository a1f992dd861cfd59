"""Every analytics answer equals a plain-Python computation over all events, whatever
the split of the events between the hot and the cold tier."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventide.analytics.calendar import Period
from eventide.analytics.dau import daily_active_users
from eventide.analytics.filters import PropertyFilter
from eventide.analytics.listing import Event, EventFilter, list_events
from eventide.analytics.retention import CohortKind, retention
from eventide.analytics.top_events import top_events
from eventide.archive.archiver import archive_pass
from eventide.storage.engines import Engines
from tests.analytics import oracle
from tests.analytics.random_properties import random_properties, wheres
from tests.analytics.stores import clear, put_hot

UTC = dt.UTC
TIMEZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # +10:30, and +11:00 in summer: a 30-minute shift
    "America/St_Johns",  # -03:30
    "Pacific/Chatham",  # +12:45
    "America/Sao_Paulo",
]
START = dt.datetime(2026, 2, 1, tzinfo=UTC)
SPAN = dt.timedelta(days=90)
# Instants where days are 23 or 25 hours long somewhere, or months turn.
ANCHORS = [
    dt.datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York springs forward
    dt.datetime(2026, 3, 29, 1, tzinfo=UTC),  # Berlin springs forward
    dt.datetime(2026, 4, 4, 15, tzinfo=UTC),  # Lord Howe falls back half an hour
    dt.datetime(2026, 4, 5, 14, tzinfo=UTC),  # Chatham falls back
    dt.datetime(2026, 3, 1, tzinfo=UTC),
    dt.datetime(2026, 4, 1, tzinfo=UTC),
]
# Ids with quotes, backslashes, percent signs, newlines and non-ASCII text travel
# between the stores too.
USERS = [f"user-{i}" for i in range(34)] + ["o'brien", "back\\slash", "100%", "ü-ñ", '"q"', "a\nb"]
TYPES = ["view", "click", "buy", "it's 50%"]

pytestmark = pytest.mark.slow  # each oracle compares thousands of generated events


@st.composite
def instants(draw: st.DrawFn) -> dt.datetime:
    if draw(st.integers(0, 2)):
        anchor = draw(st.sampled_from(ANCHORS))
        return anchor + dt.timedelta(minutes=draw(st.integers(-36 * 60, 36 * 60)))
    return START + dt.timedelta(
        microseconds=draw(st.integers(0, SPAN // dt.timedelta(microseconds=1)))
    )


def random_events(rng: random.Random, count: int) -> list[Event]:
    """``count`` events, two thirds of them within 36 hours of an anchor."""
    events = []
    for i in range(count):
        if rng.random() < 2 / 3:
            occurred = rng.choice(ANCHORS) + dt.timedelta(seconds=rng.uniform(-36, 36) * 3600)
        else:
            occurred = START + rng.random() * SPAN
        occurred = occurred.replace(microsecond=rng.choice([0, occurred.microsecond]))
        events.append(
            Event(
                event_id=f"e{rng.randrange(10**6):06d}-{i}",
                user_id=rng.choice(USERS),
                event_type=rng.choice(TYPES),
                occurred_at=occurred,
                received_at=occurred + dt.timedelta(seconds=rng.randrange(10**6)),
                properties=random_properties(rng),
            )
        )
    return events


@dataclass(frozen=True)
class Wave:
    """Events ingested together, then (maybe) an archive pass at ``now``."""

    events: list[Event]
    now: dt.datetime | None
    fail_at: str | None  # the pass dies after this step of its protocol


@st.composite
def histories(draw: st.DrawFn) -> list[Wave]:
    """How the events reached their tiers: waves of ingestion and archive passes; the
    events of a wave that occurred before the pass's cutoff move cold, and those of later
    waves that occurred before an earlier cutoff are late events that stay hot."""
    rng = draw(st.randoms(use_true_random=False))
    events = random_events(rng, draw(st.integers(0, 400)))
    waves = draw(st.integers(1, 4))
    assignment = [rng.randrange(waves) for _ in events]
    days = sorted(draw(st.lists(st.integers(0, 100), min_size=waves, max_size=waves)))
    return [
        Wave(
            events=[e for e, w in zip(events, assignment, strict=True) if w == wave],
            now=START + dt.timedelta(days=days[wave], hours=7) if draw(st.integers(0, 2)) else None,
            fail_at=draw(st.sampled_from([None, None, None, "chunk_copied", "day_copied"])),
        )
        for wave in range(waves)
    ]


class ArchiveInterrupted(Exception):
    pass


async def store(engines: Engines, history: list[Wave]) -> list[Event]:
    """Ingest and archive as ``history`` says; return every event."""
    await clear(engines)
    for wave in history:
        await put_hot(engines, wave.events)
        if wave.now is None:
            continue

        async def faults(step: str, fail_at: str | None = wave.fail_at) -> None:
            if step == fail_at:
                raise ArchiveInterrupted(step)

        with contextlib.suppress(ArchiveInterrupted):
            await archive_pass(engines, trigger="cli", now=wave.now, batch_size=7, faults=faults)
    return [e for wave in history for e in wave.events]


@st.composite
def ranges(draw: st.DrawFn) -> tuple[dt.date, dt.date]:
    first = START.date() + dt.timedelta(days=draw(st.integers(-3, 80)))
    return first, first + dt.timedelta(days=draw(st.integers(0, 60)))


ORACLE_SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@ORACLE_SETTINGS
@given(
    history=histories(),
    tz_name=st.sampled_from(TIMEZONES),
    span=ranges(),
    event_type=st.one_of(st.none(), st.sampled_from(TYPES)),
    limit=st.integers(1, 5),
    where=wheres(),
)
async def test_dau_and_top_events(
    engines: Engines,
    history: list[Wave],
    tz_name: str,
    span: tuple[dt.date, dt.date],
    event_type: str | None,
    limit: int,
    where: tuple[PropertyFilter, ...],
) -> None:
    events = await store(engines, history)
    tz, (first, last) = ZoneInfo(tz_name), span
    got = await daily_active_users(
        engines,
        project=1,
        first=first,
        last=last,
        timezone=tz_name,
        event_type=event_type,
        where=where,
    )
    assert [(r.date, r.users) for r in got] == oracle.dau(
        events, first, last, tz, event_type, where
    )
    top = await top_events(
        engines, project=1, first=first, last=last, timezone=tz_name, limit=limit, where=where
    )
    assert [(r.event_type, r.events, r.users) for r in top] == oracle.top_events(
        events, first, last, tz, limit, where
    )


@ORACLE_SETTINGS
@given(
    history=histories(),
    tz_name=st.sampled_from(TIMEZONES),
    span=ranges(),
    periods=st.integers(0, 10),
    cohort_type=st.one_of(st.none(), st.sampled_from(TYPES)),
    return_type=st.one_of(st.none(), st.sampled_from(TYPES)),
    cohort_where=wheres(),
    return_where=wheres(),
)
async def test_retention(
    engines: Engines,
    history: list[Wave],
    tz_name: str,
    span: tuple[dt.date, dt.date],
    periods: int,
    cohort_type: str | None,
    return_type: str | None,
    cohort_where: tuple[PropertyFilter, ...],
    return_where: tuple[PropertyFilter, ...],
) -> None:
    events = await store(engines, history)
    await assert_retention(
        engines,
        1,
        events,
        span,
        tz_name,
        periods=periods,
        types=(cohort_type, return_type),
        wheres=(cohort_where, return_where),
    )


async def assert_retention(
    engines: Engines,
    project: int,
    events: list[Event],
    span: tuple[dt.date, dt.date],
    tz_name: str,
    *,
    periods: int,
    types: tuple[str | None, str | None],
    wheres: tuple[tuple[PropertyFilter, ...], tuple[PropertyFilter, ...]] = ((), ()),
) -> None:
    """Every period and kind of cohort, with and without event types and property
    conditions, equals the oracle."""
    first, last = span
    for period in Period:
        for kind in CohortKind:
            for (cohort_type, return_type), (cohort_where, return_where) in (
                ((None, None), ((), ())),
                (types, wheres),
            ):
                got = await retention(
                    engines,
                    project=project,
                    first=first,
                    last=last,
                    period=period,
                    periods=periods,
                    kind=kind,
                    timezone=tz_name,
                    cohort_event_type=cohort_type,
                    return_event_type=return_type,
                    cohort_where=cohort_where,
                    return_where=return_where,
                )
                expected = oracle.retention(
                    events,
                    first,
                    last,
                    ZoneInfo(tz_name),
                    period=period.value,
                    periods=periods,
                    kind=kind.value,
                    cohort_type=cohort_type,
                    return_type=return_type,
                    cohort_where=cohort_where,
                    return_where=return_where,
                )
                assert [(r.cohort, r.size, r.retained) for r in got] == expected, (
                    project,
                    period,
                    kind,
                )


@st.composite
def filters(draw: st.DrawFn) -> EventFilter:
    return EventFilter(
        user_id=draw(st.one_of(st.none(), st.sampled_from(USERS))),
        event_type=draw(st.one_of(st.none(), st.sampled_from(TYPES))),
        occurred_from=draw(st.one_of(st.none(), instants())),
        occurred_to=draw(st.one_of(st.none(), instants())),
        where=draw(wheres()),
    )


@ORACLE_SETTINGS
@given(history=histories(), where=filters(), page_size=st.integers(1, 40))
async def test_listing_pages_through_every_event_once(
    engines: Engines, history: list[Wave], where: EventFilter, page_size: int
) -> None:
    events = await store(engines, history)
    assert await listed(engines, 1, where, page_size) == oracle.listing(events, where)


async def listed(engines: Engines, project: int, where: EventFilter, page_size: int) -> list[Event]:
    """Every event of ``where``, paged through ``page_size`` at a time."""
    seen: list[Event] = []
    below = None
    while True:
        page = await list_events(
            engines, project=project, where=where, first=page_size, below=below
        )
        seen.extend(page.events)
        if not page.has_next_page:
            return seen
        assert len(page.events) == page_size
        below = page.events[-1].key
