"""The reader side of the tier protocol: visibility read in the hot store's snapshot."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import pytest

from eventide.archive.cold_batches import COLUMNS
from eventide.archive.tiers import ColdVisibility, joined_snapshot, tier_snapshot
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import Scope
from tests.waiting import backend_waiting_for_lock

DAY = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)


async def _batches(engines: Engines, *states: str, cleaned: tuple[int, ...] = ()) -> list[int]:
    """Create one run and a batch per state (ids increase in the given order)."""
    async with engines.db.acquire() as conn:
        run = await conn.fetchval(
            "INSERT INTO archive_runs (trigger, cutoff) VALUES ('cli', $1) RETURNING id", DAY
        )
        ids = []
        for position, state in enumerate(states):
            ids.append(
                await conn.fetchval(
                    """INSERT INTO archive_batches (run_id, project_id, day, state, cleaned)
                       VALUES ($1, 1, $2, $3, $4) RETURNING id""",
                    run,
                    DAY.date(),
                    state,
                    position in cleaned,
                )
            )
        return ids


async def _cold_rows(engines: Engines, batch_ids: list[int]) -> None:
    await engines.cold.insert(
        "project_events",
        COLUMNS,
        [(1, f"e{b}", "u", "t", DAY, DAY, "", b) for b in batch_ids],
    )


async def _visible_batches(engines: Engines, visibility: ColdVisibility) -> list[int]:
    predicate, params = visibility.sql()
    rows = await engines.cold.fetch(
        f"SELECT batch_id FROM project_events WHERE {predicate} ORDER BY batch_id", params
    )
    return [row[0] for row in rows]


async def test_no_batches_sees_no_cold_rows(engines: Engines) -> None:
    await _cold_rows(engines, [1, 2])
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        assert tiers.visibility == ColdVisibility(0, (), bucketed=True)
        assert await _visible_batches(engines, tiers.visibility) == []


async def test_only_committed_batches_are_visible(engines: Engines) -> None:
    ids = await _batches(
        engines, "committed", "aborted", "committed", "aborted", "committed", "copying"
    )
    await _cold_rows(engines, ids)
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        assert tiers.visibility.max_committed == ids[4]
        assert tiers.visibility.excluded == (ids[1], ids[3])
        assert await _visible_batches(engines, tiers.visibility) == [ids[0], ids[2], ids[4]]


async def test_cleaned_aborted_batches_leave_the_exclusion_list(engines: Engines) -> None:
    ids = await _batches(engines, "aborted", "aborted", "committed", cleaned=(0,))
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        assert tiers.visibility == ColdVisibility(ids[2], (ids[1],), bucketed=True)


async def test_predicate_takes_a_qualified_column(engines: Engines) -> None:
    ids = await _batches(engines, "aborted", "committed")
    await _cold_rows(engines, ids)
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        predicate, params = tiers.visibility.sql("e.batch_id")
        rows = await engines.cold.fetch(
            f"SELECT e.batch_id FROM project_events AS e WHERE {predicate}", params
        )
        assert rows == [(ids[1],)]


async def test_commits_after_the_snapshot_are_not_seen(engines: Engines) -> None:
    ids = await _batches(engines, "committed", "copying")
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        async with engines.db.acquire() as other:
            await other.execute(
                "UPDATE archive_batches SET state = 'committed' WHERE id = $1", ids[1]
            )
        assert tiers.visibility.max_committed == ids[0]
        # The hot store is read in the same snapshot as the tiers.visibility.
        assert (
            await tiers.hot.fetchval(
                "SELECT max(id) FROM archive_batches WHERE state = 'committed'"
            )
            == ids[0]
        )
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        assert tiers.visibility.max_committed == ids[1]


async def test_snapshot_is_read_only(engines: Engines) -> None:
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await tiers.hot.fetch("UPDATE archive_batches SET cleaned = cleaned")


async def test_partition_drop_waits_for_open_snapshots(engines: Engines) -> None:
    async with engines.db.acquire() as conn:
        await conn.execute("SELECT ensure_event_partitions(ARRAY[$1::timestamptz])", DAY)
    async with (
        tier_snapshot(engines, scope=Scope.every_project()),
        engines.db.acquire() as archiver,
    ):
        await archiver.execute("SET lock_timeout = '200ms'")
        try:
            with pytest.raises(asyncpg.LockNotAvailableError):
                await archiver.execute("DROP TABLE events_20260110")
        finally:
            await archiver.execute("RESET lock_timeout")
    async with engines.db.acquire() as archiver:
        await asyncio.wait_for(archiver.execute("DROP TABLE events_20260110"), 5)


async def test_joined_snapshot_reads_the_same_snapshot(engines: Engines) -> None:
    ids = await _batches(engines, "committed", "copying")
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        async with engines.db.acquire() as other:
            await other.execute(
                "UPDATE archive_batches SET state = 'committed' WHERE id = $1", ids[1]
            )
        async with joined_snapshot(engines, tiers.hot) as joined:
            assert joined is not None
            assert (
                await joined.fetchval(
                    "SELECT max(id) FROM archive_batches WHERE state = 'committed'"
                )
                == ids[0]
            )
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await joined.fetch("UPDATE archive_batches SET cleaned = cleaned")


async def test_joined_snapshot_does_not_queue_behind_a_waiting_drop(engines: Engines) -> None:
    async with engines.db.acquire() as conn:
        await conn.execute("SELECT ensure_event_partitions(ARRAY[$1::timestamptz])", DAY)
    async with engines.db.acquire() as archiver, archiver.transaction():
        await archiver.execute("SET LOCAL lock_timeout = '10s'")
        async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
            drop = asyncio.create_task(archiver.execute("DROP TABLE events_20260110"))
            async with engines.db.acquire() as observer:
                # The drop now waits for the open snapshot.
                await backend_waiting_for_lock(observer, "DROP TABLE events_20260110%")
            async with asyncio.timeout(5), joined_snapshot(engines, tiers.hot) as joined:
                assert joined is None
            assert not drop.done()
        await drop  # leaving the snapshot lets it through
