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

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from eventide.archive import relayout, runs
from eventide.archive.bucketing import bucket_old_batches
from eventide.archive.day_mover import DayMover
from eventide.archive.lock import archive_lock
from eventide.archive.recovery import recover
from eventide.archive.runs import ArchiveRun, Trigger
from eventide.storage.engines import Engines

logger = logging.getLogger(__name__)

Faults = Callable[[str], Awaitable[None]]
"""Called with the name of each step of the protocol as it completes (tests inject
failures there): ``batch_created``, ``chunk_copied``, ``day_copied``, ``hot_removed``
(inside the commit transaction), ``committed``; and for each batch of the cold layout
from before projects, ``relayout_copied`` once its rows are copied into the current
layout (not yet committed) and ``relayout_committed`` once that copy counts instead; for
each batch archived before buckets existed, ``old_batch_bucketed`` once its buckets are
written (not yet marked)."""


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
        mover = DayMover(
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


async def _after_erasures_under_way(conn: asyncpg.Connection) -> None:
    """Wait for the end of every erasure under way (its lock conflicts with this one).
    Each erasure either saw this pass running, and so keeps the ids of the hot rows it
    deletes (the pass may copy them before they are gone: see ``day_mover._erased``), or commits
    before the pass reads a hot row."""
    async with conn.transaction():
        await conn.execute("LOCK TABLE ONLY events IN SHARE MODE")


async def _record_failure(conn: asyncpg.Connection, run_id: int, error: Exception) -> None:
    try:
        await runs.finish_run(conn, run_id=run_id, error=type(error).__name__)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        # Left 'running', the run is marked failed by the next pass's recovery.
        logger.warning("could not record the failure of archive run %s", run_id, exc_info=True)


async def _no_faults(step: str) -> None:
    return None
