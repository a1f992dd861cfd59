"""One archive pass: copy the events of closed days from PostgreSQL to ClickHouse, and
remove those older than the hot window from PostgreSQL.

Protocol (each step is safe to interrupt; the next pass recovers):

1. Under a PostgreSQL advisory lock (one pass at a time across every process), recover:
   batches left ``copying`` by a dead pass become ``aborted`` and their cold rows are
   deleted. Until deleted they are invisible: readers count only committed batches.
2. The copied days older than the cutoff (start of the UTC day ``hot_window_days``
   before now) are dropped from ``copied_events``, which no reader reads.
3. Every closed UTC day (before today's) still holding rows in ``events`` is copied,
   oldest first, each in chunks of at most ``batch_size`` rows. A chunk gets its own
   batch row (``copying``, committed) before its rows are inserted into ClickHouse with
   that batch id.
4. Once a day is copied, one PostgreSQL transaction takes it out of ``events`` and flips
   its batches to ``committed``, so that readers count each event in exactly one tier: a
   day older than the cutoff is removed, a day within the hot window is moved to
   ``copied_events`` (kept in PostgreSQL until the window has passed). The day
   partition is dropped (or detached and attached to ``copied_events``) when, with
   inserts held off by a lock, it holds exactly the rows copied; otherwise (late events
   arrived meanwhile, or the lock is contended) each batch is committed in its own
   transaction that deletes (or moves) precisely its rows by id. Late events stay in
   ``events`` for a later pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import asyncpg

from eventide.archive import cold_batches, erased, relayout, runs
from eventide.archive.bucketing import bucket_old_batches
from eventide.archive.cold_batches import Batch
from eventide.archive.recovery import recover
from eventide.archive.runs import ArchiveRun, Trigger
from eventide.storage.engines import Engines
from eventide.storage.postgres import day_partitions
from eventide.storage.tenant_sql import COPIED_TABLE, EVENTS, Scope

logger = logging.getLogger(__name__)

# Any fixed 64-bit number, the same in every Eventide process.
ARCHIVE_LOCK = 0x45564E544152
# How often a pass that waits for a running one asks for the lock again.
LOCK_POLL_SECONDS = 0.25
# How long the commit of a whole day may wait for readers before falling back to deletes.
DROP_LOCK_TIMEOUT = "2s"

# The earliest instant every supported ClickHouse stores in DateTime64: older events stay
# hot rather than be clamped.
COLD_RANGE_START = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)

Faults = Callable[[str], Awaitable[None]]
"""Called with the name of each step of the protocol as it completes (tests inject
failures there): ``batch_created``, ``chunk_copied``, ``day_copied``, ``hot_removed``
(inside the commit transaction), ``committed``; and for each batch of the cold layout
from before projects, ``relayout_copied`` once its rows are copied into the current
layout (not yet committed) and ``relayout_committed`` once that copy counts instead; for
each batch archived before buckets existed, ``old_batch_bucketed`` once its buckets are
written (not yet marked)."""

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


class ArchiveBusy(Exception):
    """Another pass holds the archive lock (raised only when not waiting for it)."""


def hot_cutoff(now: dt.datetime, hot_window_days: int) -> dt.datetime:
    """Events that occurred before this instant leave the hot store: whole UTC days only,
    so the hot store keeps between ``hot_window_days`` and one more day."""
    day = (now.astimezone(dt.UTC) - dt.timedelta(days=hot_window_days)).date()
    return dt.datetime.combine(day, dt.time(), dt.UTC)


async def archive_pass(
    engines: Engines,
    *,
    trigger: Trigger,
    wait: bool = True,
    now: dt.datetime | None = None,
    batch_size: int | None = None,
    faults: Faults | None = None,
) -> ArchiveRun:
    """Run one pass and return its record.

    With ``wait`` a pass already running elsewhere is waited for, then this one runs
    (and moves what is left); without, :class:`ArchiveBusy` is raised at once.
    """
    async with engines.db.acquire() as conn, archive_lock(conn, wait=wait):
        await recover(conn, engines.cold)
        now = now or dt.datetime.now(dt.UTC)
        cutoff = hot_cutoff(now, engines.settings.hot_window_days)
        run_id = await runs.start_run(conn, trigger=trigger, cutoff=cutoff)
        await _after_erasures_under_way(conn)
        mover = _DayMover(
            conn,
            engines,
            run_id=run_id,
            batch_size=batch_size or engines.settings.archive_batch_size,
            faults=faults or _no_faults,
        )
        try:
            await relayout.rewrite_legacy(
                conn, engines.cold, run_id=run_id, faults=faults or _no_faults
            )
            await bucket_old_batches(conn, engines.cold, faults=faults or _no_faults)
            await mover.archive_before(cutoff=cutoff, today=hot_cutoff(now, 0))
        except Exception as error:
            await _record_failure(conn, run_id, error)
            raise
        run = await runs.finish_run(conn, run_id=run_id, error=None)
        logger.info("archive pass %s moved %s events before %s", run_id, run.moved, cutoff)
        return run


@contextlib.asynccontextmanager
async def archive_lock(conn: asyncpg.Connection, *, wait: bool) -> AsyncIterator[None]:
    """Hold :data:`ARCHIVE_LOCK` on ``conn`` for the block: whatever rewrites archived
    rows (a pass, the removal of a deleted project's events) runs alone across every
    process. With ``wait`` a holder is waited for; without, :class:`ArchiveBusy`."""
    # Polled rather than waited for inside one statement: the holder may take longer
    # than the command timeout that bounds every statement.
    while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", ARCHIVE_LOCK):
        if not wait:
            raise ArchiveBusy("an archive pass is already running")
        await asyncio.sleep(LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        await _unlock(conn)


async def _after_erasures_under_way(conn: asyncpg.Connection) -> None:
    """Wait for the end of every erasure under way (its lock conflicts with this one).
    Each erasure either saw this pass running, and so keeps the ids of the hot rows it
    deletes (the pass may copy them before they are gone: see ``_erased``), or commits
    before the pass reads a hot row."""
    async with conn.transaction():
        await conn.execute("LOCK TABLE ONLY events IN SHARE MODE")


async def _record_failure(conn: asyncpg.Connection, run_id: int, error: Exception) -> None:
    try:
        await runs.finish_run(conn, run_id=run_id, error=type(error).__name__)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        # Left 'running', the run is marked failed by the next pass's recovery.
        logger.warning("could not record the failure of archive run %s", run_id, exc_info=True)


async def _unlock(conn: asyncpg.Connection) -> None:
    # A connection broken mid-pass has lost the lock already; the pool discards it.
    if conn.is_closed():
        return
    try:
        await conn.execute("SELECT pg_advisory_unlock($1)", ARCHIVE_LOCK)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        logger.warning("could not release the archive lock; the pool resets it", exc_info=True)


async def _no_faults(step: str) -> None:
    return None


class _DayMover:
    def __init__(
        self,
        conn: asyncpg.Connection,
        engines: Engines,
        *,
        run_id: int,
        batch_size: int,
        faults: Faults,
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
