"""Every answer for a project equals the oracle over that project's events alone, while
projects share eventIds and userIds, interleave in time, and are archived together."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventide.analytics.dau import daily_active_users
from eventide.analytics.event_properties import event_properties
from eventide.analytics.event_types import event_types
from eventide.analytics.listing import Event, EventFilter
from eventide.analytics.top_events import top_events
from eventide.archive.archiver import archive_pass
from eventide.storage.engines import Engines
from tests.analytics import oracle
from tests.analytics.oracle_filters import canonical
from tests.analytics.stores import clear, put_hot
from tests.analytics.test_oracle import (
    ORACLE_SETTINGS,
    START,
    TIMEZONES,
    TYPES,
    ArchiveInterrupted,
    assert_retention,
    filters,
    listed,
    random_events,
    ranges,
)

pytestmark = pytest.mark.slow  # each example stores hundreds of events in three projects

# Three projects make an example cost about three of the single-project oracle's.
SETTINGS = settings(ORACLE_SETTINGS, max_examples=10)
PROJECTS = (1, 2, 3)
FAULT_STEPS = [None, None, "batch_created", "chunk_copied", "day_copied", "hot_removed"]


def sharing(rng: random.Random, theirs: list[Event], count: int, project: int) -> list[Event]:
    """``count`` events of ``project``: copies of ``theirs`` with the same eventId and
    userId (some identical in every field, others moved in time or of another type), and
    events of its own."""
    events = []
    for i in range(count):
        if theirs and rng.random() < 0.6:
            twin = rng.choice(theirs)
            if rng.random() < 0.5:
                moved = twin.occurred_at + dt.timedelta(hours=rng.uniform(-60, 60))
                twin = replace(twin, occurred_at=moved, event_type=rng.choice(TYPES))
            events.append(twin)
        else:
            own = random_events(rng, 1)[0]
            events.append(replace(own, event_id=f"p{project}-{i}"))
    # eventIds are unique within a project.
    return list({e.event_id: e for e in events}.values())


@dataclass(frozen=True)
class Wave:
    """Events of every project ingested together, then (maybe) an archive pass."""

    events: dict[int, list[Event]]
    now: dt.datetime | None
    fail_at: str | None


@st.composite
def histories(draw: st.DrawFn) -> list[Wave]:
    rng = draw(st.randoms(use_true_random=False))
    first = random_events(rng, draw(st.integers(0, 250)))
    by_project = {1: first}
    for project in PROJECTS[1:]:
        by_project[project] = sharing(rng, first, draw(st.integers(0, 200)), project)
    waves = draw(st.integers(1, 4))
    days = sorted(draw(st.lists(st.integers(0, 100), min_size=waves, max_size=waves)))
    assigned: list[dict[int, list[Event]]] = [{p: [] for p in PROJECTS} for _ in range(waves)]
    for project, events in by_project.items():
        for event in events:
            assigned[rng.randrange(waves)][project].append(event)
    return [
        Wave(
            events=assigned[wave],
            now=START + dt.timedelta(days=days[wave], hours=7) if draw(st.integers(0, 3)) else None,
            fail_at=draw(st.sampled_from(FAULT_STEPS)),
        )
        for wave in range(waves)
    ]


async def store(engines: Engines, history: list[Wave]) -> dict[int, list[Event]]:
    """Ingest and archive as ``history`` says; return every project's events."""
    await clear(engines)
    await engines.db.execute(
        "INSERT INTO projects (id, name) SELECT p, 'Project ' || p FROM unnest($1::bigint[]) p"
        " ON CONFLICT DO NOTHING",
        list(PROJECTS),
    )
    for wave in history:
        for project, events in wave.events.items():
            await put_hot(engines, events, project=project)
        if wave.now is None:
            continue

        async def faults(step: str, fail_at: str | None = wave.fail_at) -> None:
            if step == fail_at:
                raise ArchiveInterrupted(step)

        with contextlib.suppress(ArchiveInterrupted):
            await archive_pass(engines, trigger="cli", now=wave.now, batch_size=7, faults=faults)
    return {p: [e for wave in history for e in wave.events[p]] for p in PROJECTS}


async def test_history_mixes_projects_in_batches(engines: Engines) -> None:
    """The scenario is what it claims: batches of several projects in one pass, shared
    eventIds, and events in both tiers."""
    rng = random.Random(7)
    first = random_events(rng, 200)
    history = [
        Wave({1: first, 2: sharing(rng, first, 150, 2), 3: []}, START + dt.timedelta(days=40), None)
    ]
    events = await store(engines, history)
    shared = {e.event_id for e in events[1]} & {e.event_id for e in events[2]}
    assert len(shared) > 50
    projects_by_run = await engines.db.fetch(
        "SELECT count(DISTINCT project_id) AS n FROM archive_batches GROUP BY run_id"
    )
    assert [r["n"] for r in projects_by_run] == [2]
    hot = await engines.db.fetch("SELECT DISTINCT project_id FROM events ORDER BY 1")
    assert [r["project_id"] for r in hot] == [1, 2]


@SETTINGS
@given(
    history=histories(),
    tz_name=st.sampled_from(TIMEZONES),
    span=ranges(),
    event_type=st.one_of(st.none(), st.sampled_from(TYPES)),
    limit=st.integers(1, 5),
    where=filters(),
    page_size=st.integers(1, 40),
)
async def test_dau_top_events_catalog_and_listing_per_project(
    engines: Engines,
    history: list[Wave],
    tz_name: str,
    span: tuple[dt.date, dt.date],
    event_type: str | None,
    limit: int,
    where: EventFilter,
    page_size: int,
) -> None:
    by_project = await store(engines, history)
    tz, (first, last) = ZoneInfo(tz_name), span
    for project, events in by_project.items():
        for kind in (None, event_type):
            got = await daily_active_users(
                engines, project=project, first=first, last=last, timezone=tz_name, event_type=kind
            )
            assert [(r.date, r.users) for r in got] == oracle.dau(events, first, last, tz, kind)
        top = await top_events(
            engines, project=project, first=first, last=last, timezone=tz_name, limit=limit
        )
        assert [(r.event_type, r.events, r.users) for r in top] == oracle.top_events(
            events, first, last, tz, limit
        )
        types = await event_types(
            engines, project=project, first=first, last=last, timezone=tz_name
        )
        assert [(r.event_type, r.events, r.users, r.last_seen_at) for r in types] == (
            oracle.event_types(events, first, last, tz)
        )
        keys = await event_properties(
            engines, project=project, first=first, last=last, timezone=tz_name, limit=limit
        )
        assert [
            (r.property, r.types, r.events, [canonical(v) for v in r.top_values]) for r in keys
        ] == oracle.event_properties(events, first, last, tz, None, limit)
        assert await listed(engines, project, where, page_size) == oracle.listing(events, where)
        assert await listed(engines, project, EventFilter(), 1000) == oracle.listing(
            events, EventFilter()
        )


@SETTINGS
@given(
    history=histories(),
    tz_name=st.sampled_from(TIMEZONES),
    span=ranges(),
    periods=st.integers(0, 10),
    cohort_type=st.one_of(st.none(), st.sampled_from(TYPES)),
    return_type=st.one_of(st.none(), st.sampled_from(TYPES)),
)
async def test_retention_per_project(
    engines: Engines,
    history: list[Wave],
    tz_name: str,
    span: tuple[dt.date, dt.date],
    periods: int,
    cohort_type: str | None,
    return_type: str | None,
) -> None:
    by_project = await store(engines, history)
    for project, events in by_project.items():
        await assert_retention(
            engines,
            project,
            events,
            span,
            tz_name,
            periods=periods,
            types=(cohort_type, return_type),
        )
