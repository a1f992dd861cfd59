"""Archive passes: which events move, how the hot store is emptied, what is recorded."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from eventide.archive.archiver import archive_pass, hot_cutoff
from eventide.archive.lock import ARCHIVE_LOCK, LOCK_POLL_SECONDS, ArchiveBusy
from eventide.archive.runs import archived_through, last_run
from eventide.archive.tiers import tier_snapshot
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, Scope
from tests.archive.tiers import (
    CUTOFF,
    NOW,
    TODAY,
    Event,
    assert_exactly_once,
    copied_events,
    hot_partitions,
    put_hot,
    spread,
)
from tests.waiting import eventually

MICRO = dt.timedelta(microseconds=1)


def test_cutoff_is_the_start_of_a_utc_day() -> None:
    assert hot_cutoff(NOW, 7) == CUTOFF
    just_after_midnight = dt.datetime(
        2026, 11, 22, 0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )
    assert hot_cutoff(just_after_midnight, 1) == dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


async def test_moves_exactly_the_events_of_closed_days(engines: Engines) -> None:
    events = [
        Event("old", dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC), properties={"a": [1, "x"]}),
        Event("edge-old", CUTOFF - MICRO, user_id="u2", event_type="buy"),
        Event("edge-new", CUTOFF),
        Event("yesterday", TODAY - MICRO),
        Event("new", TODAY),
    ]
    await put_hot(engines, events)

    run = await archive_pass(engines, trigger="cli", now=NOW)

    assert (run.moved, run.status, run.cutoff) == (4, "succeeded", CUTOFF)
    assert run.finished_at is not None
    assert run.finished_at >= run.started_at
    tiers = await assert_exactly_once(engines, events)
    assert tiers.hot == ["new"]
    # Days leave the hot store's events as whole partitions: dropped before the cutoff,
    # kept in PostgreSQL (copied_events) within the hot window.
    partitions = await hot_partitions(engines)
    assert {"events_20260301", "events_20261114", "events_20261115"}.isdisjoint(partitions)
    assert "events_20261122" in partitions
    assert await copied_events(engines) == ["edge-new", "yesterday"]
    rows = await engines.cold.fetch(
        "SELECT event_id, user_id, event_type, occurred_at, received_at, properties "
        "FROM project_events ORDER BY occurred_at"
    )
    assert rows == [
        ("old", "u1", "click", events[0].occurred_at, NOW, json.dumps({"a": [1, "x"]})),
        ("edge-old", "u2", "buy", CUTOFF - MICRO, NOW, ""),
        ("edge-new", "u1", "click", CUTOFF, NOW, ""),
        ("yesterday", "u1", "click", TODAY - MICRO, NOW, ""),
    ]
    async with engines.db.acquire() as conn:
        # The copied days have not left PostgreSQL yet.
        assert await archived_through(conn) == CUTOFF
        assert await last_run(conn) == run


async def test_a_second_pass_moves_nothing(engines: Engines) -> None:
    events = spread("a", dt.date(2026, 11, 1), 20)
    await put_hot(engines, events)
    assert (await archive_pass(engines, trigger="cli", now=NOW)).moved == 20
    assert (await archive_pass(engines, trigger="cli", now=NOW)).moved == 0
    assert (await assert_exactly_once(engines, events)).hot == []


async def test_large_days_move_in_bounded_batches(engines: Engines) -> None:
    events = spread("a", dt.date(2026, 11, 1), 30) + spread("b", dt.date(2026, 11, 3), 7)
    await put_hot(engines, events)

    run = await archive_pass(engines, trigger="cli", now=NOW, batch_size=7)

    assert run.moved == 37
    batches = await engines.db.fetch("SELECT day, state, moved FROM archive_batches ORDER BY id")
    assert [(b["day"].day, b["state"], b["moved"]) for b in batches] == [
        *[(1, "committed", 7)] * 4,
        (1, "committed", 2),
        (3, "committed", 7),
    ]
    cold_batches = await engines.cold.fetch(
        "SELECT batch_id, count() FROM project_events GROUP BY batch_id ORDER BY batch_id"
    )
    assert [n for _, n in cold_batches] == [7, 7, 7, 7, 2, 7]
    assert (await assert_exactly_once(engines, events)).hot == []
    assert {"events_20261101", "events_20261103"}.isdisjoint(await hot_partitions(engines))


async def test_late_events_are_counted_then_moved_by_a_later_pass(engines: Engines) -> None:
    day = dt.date(2026, 11, 2)
    events = spread("a", day, 10)
    await put_hot(engines, events)
    await archive_pass(engines, trigger="cli", now=NOW)

    late = spread("late", day, 3)
    await put_hot(engines, late)  # re-creates the dropped partition
    tiers = await assert_exactly_once(engines, events + late)
    assert tiers.hot == [e.event_id for e in late]

    run = await archive_pass(engines, trigger="cli", now=NOW)
    assert run.moved == 3
    assert (await assert_exactly_once(engines, events + late)).hot == []
    async with engines.db.acquire() as conn:
        # Late arrivals never move the watermark back.
        assert await archived_through(conn) == CUTOFF


async def test_events_arriving_during_a_copy_stay_hot(engines: Engines) -> None:
    day = dt.date(2026, 11, 2)
    events = spread("a", day, 12)
    await put_hot(engines, events)
    late = [Event("late-early", dt.datetime(2026, 11, 2, 0, 0, tzinfo=dt.UTC))]

    async def ingest_meanwhile(step: str) -> None:
        if step == "chunk_copied" and not await engines.db.fetchval(
            "SELECT count(*) FROM events WHERE event_id = 'late-early'"
        ):
            await put_hot(engines, late)  # sorts before every copied row

    run = await archive_pass(engines, trigger="cli", now=NOW, batch_size=5, faults=ingest_meanwhile)

    # The partition no longer holds only copied rows: each batch deletes its own rows.
    assert run.moved == 12
    assert (await assert_exactly_once(engines, events + late)).hot == ["late-early"]
    assert "events_20261102" in await hot_partitions(engines)
    assert (await archive_pass(engines, trigger="cli", now=NOW)).moved == 1
    assert (await assert_exactly_once(engines, events + late)).hot == []


@pytest.mark.slow  # waits out the drop's lock timeout
async def test_a_day_read_by_open_snapshots_is_deleted_by_id(engines: Engines) -> None:
    events = spread("a", dt.date(2026, 11, 2), 6)
    await put_hot(engines, events)
    reader_holds = asyncio.Event()
    release = asyncio.Event()

    async def long_reader() -> None:
        async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
            await tiers.hot.fetchval(f"SELECT count(*) FROM {EVENTS}")
            reader_holds.set()
            await release.wait()

    reader = asyncio.create_task(long_reader())
    await reader_holds.wait()
    try:
        run = await archive_pass(engines, trigger="cli", now=NOW, batch_size=4)
    finally:
        release.set()
        await reader
    assert run.moved == 6
    assert (await assert_exactly_once(engines, events)).hot == []
    # The emptied partition stays; a later pass would drop it only if it held rows again.
    assert "events_20261102" in await hot_partitions(engines)


async def test_passes_run_one_at_a_time(engines: Engines) -> None:
    events = spread("a", dt.date(2026, 11, 2), 10)
    await put_hot(engines, events)
    first_copying = asyncio.Event()
    go_on = asyncio.Event()

    async def pause(step: str) -> None:
        if step == "batch_created":
            first_copying.set()
            await go_on.wait()

    first = asyncio.create_task(archive_pass(engines, trigger="cli", now=NOW, faults=pause))
    await first_copying.wait()
    with pytest.raises(ArchiveBusy):
        await archive_pass(engines, trigger="schedule", now=NOW, wait=False)
    observer = await asyncpg.connect(engines.settings.database_url)
    try:
        since = await observer.fetchval("SELECT clock_timestamp()")
        second = asyncio.create_task(archive_pass(engines, trigger="admin", now=NOW))
        await _asks_for_the_lock_again(observer, since)
        assert not second.done()  # waits for the lock
    finally:
        await observer.close()
    go_on.set()
    runs = [await first, await second]
    assert [r.moved for r in runs] == [10, 0]
    assert runs[1].started_at >= runs[0].finished_at  # type: ignore[operator]
    await assert_exactly_once(engines, events)


async def _asks_for_the_lock_again(observer: asyncpg.Connection, since: dt.datetime) -> None:
    """Return once a backend has failed to take the archive lock twice since ``since``:
    a waiting pass, one poll interval apart, while the lock's holder is another one."""

    async def attempt() -> tuple[int, dt.datetime] | None:
        row = await observer.fetchrow(
            """SELECT a.pid, a.query_start FROM pg_stat_activity a
               WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
                 AND a.query LIKE '%pg_try_advisory_lock%' AND a.state = 'idle'
                 AND a.query_start > $1
                 AND NOT EXISTS (SELECT FROM pg_locks l WHERE l.pid = a.pid
                                 AND l.locktype = 'advisory' AND l.granted)""",
            since,
        )
        return None if row is None else (row["pid"], row["query_start"])

    pid, first = await eventually(attempt, what="a pass asking for the archive lock")
    retried = await eventually(
        lambda: _later_attempt(attempt, pid, first), what="a second ask for the lock"
    )
    assert retried - first >= dt.timedelta(seconds=LOCK_POLL_SECONDS)
    holders = await observer.fetch(
        """SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND (classid::bigint << 32 | objid::bigint) = $1""",
        ARCHIVE_LOCK,
    )
    assert len(holders) == 1
    assert holders[0]["pid"] != pid


async def _later_attempt(
    attempt: Callable[[], Awaitable[tuple[int, dt.datetime] | None]],
    pid: int,
    first: dt.datetime,
) -> dt.datetime | None:
    seen = await attempt()
    if seen is None:
        return None
    assert seen[0] == pid, "another backend asked for the lock"
    return seen[1] if seen[1] > first else None


async def test_an_empty_hot_store_still_advances_the_watermark(engines: Engines) -> None:
    run = await archive_pass(engines, trigger="cli", now=NOW)
    assert run.moved == 0
    async with engines.db.acquire() as conn:
        assert await archived_through(conn) == CUTOFF


async def test_events_before_1900_stay_hot(engines: Engines) -> None:
    # ClickHouse servers cannot hold them without clamping the time.
    events = [
        Event("ancient", dt.datetime(1899, 12, 31, 23, 59, 59, tzinfo=dt.UTC)),
        Event("old", dt.datetime(1900, 1, 1, tzinfo=dt.UTC)),
    ]
    await put_hot(engines, events)
    assert (await archive_pass(engines, trigger="cli", now=NOW)).moved == 1
    assert (await assert_exactly_once(engines, events)).hot == ["ancient"]
