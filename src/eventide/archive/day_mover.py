"""Copying closed days to the cold store and taking them out of ``events``: steps 3 and 4
of an archive pass (``archive.archiver``), one day at a time, oldest first."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from eventide.archive import cold_batches, erased, runs
from eventide.archive.cold_batches import Batch
from eventide.archive.lock import DROP_LOCK_TIMEOUT
from eventide.storage.engines import Engines
from eventide.storage.postgres import day_partitions
from eventide.storage.tenant_sql import COPIED_TABLE, EVENTS, Scope

logger = logging.getLogger(__name__)

# The earliest instant every supported ClickHouse stores in DateTime64: older events stay
# hot rather than be clamped.
COLD_RANGE_START = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)

_FIRST_CHUNK = f"""
SELECT event_id, user_id, event_type, occurred_at, received_at,
       coalesce(properties::text, '') AS properties
FROM {EVENTS} WHERE occurred_at >= $1 AND occurred_at < $2
ORDER BY occurred_at, event_id LIMIT $3
"""
_NEXT_CHUNK = f"""
SELECT event_id, user_id, event_type, occurred_at, received_at,
       coalesce(properties::text, '') AS properties
FROM {EVENTS} WHERE occurred_at >= $1 AND occurred_at < $2 AND (occurred_at, event_id) > ($4, $5)
ORDER BY occurred_at, event_id LIMIT $3
"""
# The archiver alone reads across projects: to find the days and projects to move.
_EVERY_PROJECT = Scope.every_project()
# Rows of a deleted project stay hot until its removal takes them; they are never
# copied, so nothing of it can reach the cold store after that removal.
_NOT_DELETED = "project_id NOT IN (SELECT id FROM projects WHERE deleted_at IS NOT NULL)"


class DayMover:
    """One pass's moves, on the connection holding the archive lock, as run ``run_id``."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        engines: Engines,
        *,
        run_id: int,
        batch_size: int,
        faults: Callable[[str], Awaitable[None]],
    ) -> None:
        self.conn = conn
        self.cold = engines.cold
        self.run_id = run_id
        self.batch_size = batch_size
        self.faults = faults

    async def archive_before(self, *, cutoff: dt.datetime, today: dt.datetime) -> None:
        """Copy every closed day (before ``today``), and remove what is older than
        ``cutoff`` from PostgreSQL."""
        await self._drop_copied_before(cutoff)
        start = COLD_RANGE_START
        while True:
            oldest: dt.datetime | None = await self.conn.fetchval(
                _EVERY_PROJECT.hot(
                    f"SELECT min(occurred_at) FROM {EVENTS}"
                    f" WHERE occurred_at >= $1 AND occurred_at < $2 AND {_NOT_DELETED}"
                ),
                start,
                today,
            )
            if oldest is None:
                break
            day = oldest.astimezone(dt.UTC).date()
            start = _day_start(day + dt.timedelta(days=1))
            await self._move_day(day, keep=start > cutoff)
            # Days are moved oldest first: nothing that was hot at the pass's start and
            # occurred before the next day is hot any more.
            await runs.advance_watermark(self.conn, through=min(start, cutoff))
        await runs.advance_watermark(self.conn, through=cutoff)

    async def _drop_copied_before(self, cutoff: dt.datetime) -> None:
        """Drop the days of ``copied_events`` that ended by ``cutoff``: their events are
        counted from their cold copies, and the hot window has passed."""
        for name, day in await day_partitions(self.conn, parent=COPIED_TABLE):
            if _day_start(day + dt.timedelta(days=1)) > cutoff:
                continue
            try:
                async with self.conn.transaction():
                    await self.conn.execute(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")
                    await self.conn.execute(f'DROP TABLE "{name}"')
            except asyncpg.LockNotAvailableError:
                logger.info("copied day %s busy, dropped by a later pass", day)

    async def _move_day(self, day: dt.date, *, keep: bool) -> None:
        batches: list[tuple[Batch, int]] = []  # (batch, rows copied)
        start, end = _day_start(day), _day_start(day + dt.timedelta(days=1))
        projects = await self.conn.fetch(
            _EVERY_PROJECT.hot(
                f"SELECT DISTINCT project_id FROM {EVENTS}"
                f" WHERE occurred_at >= $1 AND occurred_at < $2 AND {_NOT_DELETED}"
                " ORDER BY project_id"
            ),
            start,
            end,
        )
        for (project,) in projects:
            batches += await self._copy_project_day(project, day)
        if not batches:
            return
        await self.faults("day_copied")
        if not await self._commit_day(day, batches, keep=keep):
            if keep:  # the rows go by id, into the day's partition of copied_events
                await self.conn.execute("SELECT ensure_copied_partition($1)", day)
            for batch, copied in batches:
                await self._commit_batch(batch, copied, keep=keep)

    async def _copy_project_day(self, project: int, day: dt.date) -> list[tuple[Batch, int]]:
        """Copy one project's rows of ``day`` in batches of at most ``batch_size``."""
        scope = Scope.of(project)
        batches: list[tuple[Batch, int]] = []
        start, end = _day_start(day), _day_start(day + dt.timedelta(days=1))
        rows = await self.conn.fetch(scope.hot(_FIRST_CHUNK), start, end, self.batch_size)
        while rows:
            batch_id = await runs.create_batch(
                self.conn, run_id=self.run_id, project=project, day=day, rows=len(rows)
            )
            await self.faults("batch_created")
            batch = Batch(batch_id, project, day)
            await cold_batches.insert_batch(self.cold, batch=batch, rows=rows)
            batches.append((batch, len(rows)))
            await self.faults("chunk_copied")
            if len(rows) < self.batch_size:
                break
            last = rows[-1]
            rows = await self.conn.fetch(
                scope.hot(_NEXT_CHUNK),
                start,
                end,
                self.batch_size,
                last["occurred_at"],
                last["event_id"],
            )
        return batches

    async def _commit_day(
        self, day: dt.date, batches: Sequence[tuple[Batch, int]], *, keep: bool
    ) -> bool:
        """Commit every batch of ``day`` by dropping its partition (with ``keep``: by
        attaching it to ``copied_events``, when that holds none of the day's rows yet), if it
        holds exactly the rows copied; False (nothing changed) otherwise."""
        partition, buckets = f"events_{day:%Y%m%d}", f"user_buckets_{day:%Y%m%d}"
        copied = sum(rows for _, rows in batches)
        try:
            async with self.conn.transaction():
                await self.conn.execute(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'")
                # SHARE on the parent keeps inserts out while reads go on; the drop (or
                # detach) then needs ACCESS EXCLUSIVE on it, waiting for open tier snapshots.
                await self.conn.execute("LOCK TABLE ONLY events IN SHARE MODE")
                if await self.conn.fetchval("SELECT to_regclass($1)", partition) is None:
                    return False
                # An erasure may have deleted copied rows (it waits for this lock, and is
                # pending until a run under the archive lock completes it): then equal
                # counts prove nothing.
                for project in {batch.project for batch, _ in batches}:
                    if await erased.erasing(self.conn, project=project):
                        return False
                # Every copied row is still there (only this pass and erasures remove hot
                # rows), so equal counts mean the partition holds nothing else.
                if await self.conn.fetchval(f'SELECT count(*) FROM "{partition}"') != copied:
                    return False
                if keep:
                    if not await self.conn.fetchval("SELECT attach_copied_day($1)", day):
                        return False
                else:
                    await self.conn.execute(f'DROP TABLE "{partition}"')
                # The day's buckets count exactly its events (both change together).
                await self.conn.execute(f'DROP TABLE IF EXISTS "{buckets}"')
                await self.faults("hot_removed")
                await runs.commit_batches(
                    self.conn,
                    run_id=self.run_id,
                    batch_ids=[batch.id for batch, _ in batches],
                    moved=copied,
                )
        except asyncpg.LockNotAvailableError:
            logger.info("day %s: partition busy, deleting its archived rows instead", day)
            return False
        await self.faults("committed")
        return True

    async def _commit_batch(self, batch: Batch, copied: int, *, keep: bool) -> None:
        """Commit ``batch`` in a transaction that deletes (with ``keep``: moves to
        ``copied_events``) precisely its rows."""
        event_ids, received = await cold_batches.batch_keys(self.cold, batch=batch)
        if len(event_ids) != copied:
            raise RuntimeError(f"archive batch {batch.id} has {len(event_ids)} cold rows")
        batch_id, day = batch.id, batch.day
        scope = Scope.of(batch.project)
        rows = """occurred_at >= $1 AND occurred_at < $2
                  AND (event_id, received_at) IN (
                      SELECT * FROM unnest($3::text[], $4::timestamptz[]))"""
        async with self.conn.transaction():
            status: str = await self.conn.execute(
                scope.hot_move_to_copied(rows) if keep else scope.hot_delete(rows),
                _day_start(day),
                _day_start(day + dt.timedelta(days=1)),
                event_ids,
                received,
            )
            removed = int(status.rsplit(" ", 1)[1])
            if (
                removed != copied
                and removed + await _erased(self.conn, batch.project, event_ids, received) != copied
            ):
                # Rolled back: the batch stays uncommitted and is aborted by the next pass.
                raise RuntimeError(f"archive batch {batch_id} no longer matches the hot store")
            await self.faults("hot_removed")
            await runs.commit_batches(
                self.conn, run_id=self.run_id, batch_ids=[batch_id], moved=removed
            )
        await self.faults("committed")


async def _erased(
    conn: asyncpg.Connection, project: int, event_ids: list[str], received: list[dt.datetime]
) -> int:
    """How many of the rows keyed by ``event_ids`` and ``received`` an erasure under way
    deleted from the hot store while they were being copied. The batch commits without
    them; readers hide their cold copies until the erasure completes and deletes them."""
    count: int = await conn.fetchval(
        """SELECT count(*) FROM erased_events x JOIN erasures e ON e.id = x.erasure_id
           WHERE e.project_id = $1 AND e.completed_at IS NULL
             AND (x.event_id, x.received_at) IN (
                 SELECT * FROM unnest($2::text[], $3::timestamptz[]))""",
        project,
        event_ids,
        received,
    )
    return count


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)
