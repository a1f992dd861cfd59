"""Closed days of the hot window: copied to the cold store at once and counted there,
their rows kept in PostgreSQL's copied_events until the window has passed."""

from __future__ import annotations

import datetime as dt

from eventide.archive.archiver import archive_pass
from eventide.archive.expiry import remove_expired
from eventide.archive.runs import archived_through
from eventide.storage.engines import Engines
from tests.archive.tiers import (
    CUTOFF,
    NOW,
    TODAY,
    assert_exactly_once,
    copied_events,
    hot_partitions,
    put_hot,
    spread,
)
from tests.configured import configured_engines

YESTERDAY = (TODAY - dt.timedelta(days=1)).date()


async def _copied_partitions(engines: Engines) -> set[str]:
    rows = await engines.db.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'copied_events'::regclass"""
    )
    return {r["relname"] for r in rows}


async def test_late_events_of_a_copied_day_join_its_copies(engines: Engines) -> None:
    events = spread("a", YESTERDAY, 8)
    await put_hot(engines, events)
    assert (await archive_pass(engines, trigger="cli", now=NOW)).moved == 8
    assert await _copied_partitions(engines) == {f"copied_events_{YESTERDAY:%Y%m%d}"}

    late = spread("late", YESTERDAY, 3)
    await put_hot(engines, late)  # a new partition of events for the day
    tiers = await assert_exactly_once(engines, events + late)
    assert tiers.hot == sorted(e.event_id for e in late)

    # The day's copies hold rows already: the late ones join them by id.
    assert (await archive_pass(engines, trigger="cli", now=NOW)).moved == 3
    assert (await assert_exactly_once(engines, events + late)).hot == []
    assert await copied_events(engines) == sorted(e.event_id for e in events + late)
    assert f"events_{YESTERDAY:%Y%m%d}" in await hot_partitions(engines)  # emptied, kept


async def test_copied_days_leave_postgresql_once_the_window_has_passed(
    engines: Engines,
) -> None:
    days = [YESTERDAY - dt.timedelta(days=2), YESTERDAY]
    events = [e for day in days for e in spread(f"{day:%d}-", day, 5)]
    await put_hot(engines, events)
    await archive_pass(engines, trigger="cli", now=NOW)
    assert len(await copied_events(engines)) == 10

    # Six days on, the earlier day is past the window; the later one is not yet.
    later = NOW + dt.timedelta(days=6)
    run = await archive_pass(engines, trigger="cli", now=later)
    assert run.moved == 0  # both were moved to the cold store by the first pass
    assert await copied_events(engines) == sorted(e.event_id for e in events[5:])
    assert await _copied_partitions(engines) == {f"copied_events_{YESTERDAY:%Y%m%d}"}
    assert (await assert_exactly_once(engines, events)).hot == []
    async with engines.db.acquire() as conn:
        assert await archived_through(conn) == CUTOFF + dt.timedelta(days=6)

    await archive_pass(engines, trigger="cli", now=later + dt.timedelta(days=1))
    assert await copied_events(engines) == []
    assert await _copied_partitions(engines) == set()
    assert (await assert_exactly_once(engines, events)).hot == []


async def test_retention_removes_the_copies_past_its_boundary(engines: Engines) -> None:
    days = [YESTERDAY - dt.timedelta(days=1), YESTERDAY]
    events = [e for day in days for e in spread(f"{day:%d}-", day, 8)]
    await put_hot(engines, events)
    await archive_pass(engines, trigger="cli", now=NOW)
    # The boundary falls within the later day: the earlier day's copies go as a whole
    # partition, the later day's before the boundary row by row.
    boundary = dt.datetime.combine(YESTERDAY, dt.time(12), dt.UTC)
    retaining = configured_engines(
        engines, retention_days=30, retention_now=boundary + dt.timedelta(days=30)
    )

    removal = await remove_expired(retaining)

    assert removal is not None
    assert f"copied_events_{days[0]:%Y%m%d}" in removal.hot_partitions
    kept = [e for e in events if e.occurred_at >= boundary]
    assert 0 < len(kept) < 8
    assert await copied_events(engines) == sorted(e.event_id for e in kept)
    assert removal.hot_rows == 8 - len(kept)
