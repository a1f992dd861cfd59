"""Completing end-user erasures: their cold rows leave the cold store, in the background.

``eraseEndUser`` deletes the user's hot rows and records the erasure; readers hide its
cold rows from then on (see :mod:`eventide.archive.erased`). Here, under the archive lock
(no pass copies or commits meanwhile), each pending erasure, oldest first, is finished
step by step, each step safe to repeat, so one interrupted anywhere is finished exactly
by the next run:

1. its cold rows that readers counted at the erasure are counted, and the count is
   recorded once (``cold_deleted``; a repeated count, after the deletion, finds fewer);
2. once every reader whose snapshot predates the erasure has finished, a ClickHouse
   mutation deletes the user's rows the erasure hides, in ``project_events`` and, for
   the project of everything stored before projects, the old layout's table;
3. the user's cold buckets are counted again from the user's remaining rows (readers
   ignore the cold buckets while the erasure is pending);
4. a count must find none of its rows left; then ``completed_at`` and ``deleted_events``
   are set and its ``erased_events`` deleted, in one transaction.

Oldest first, because a later erasure of the same user counts only what the earlier
one left; a failure stops the run there.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

from eventide.archive.background import BackgroundWork
from eventide.archive.erased import PendingErasure, pending_erasures
from eventide.archive.lock import archive_lock
from eventide.archive.recovery import recover
from eventide.archive.tiers import readers_locked_out
from eventide.lifecycle import store
from eventide.storage.clickhouse import ColdStore
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import (
    COLD_BUCKET_TABLES,
    EVENTS,
    LEGACY_COLD_TABLE,
    LEGACY_PROJECT,
    TYPE_BUCKETS,
    USER_BUCKETS,
    ErasedRows,
    Scope,
    erased_condition,
    user_bucket_statements,
    user_condition,
)

logger = logging.getLogger(__name__)

# An erasure interrupted by a crash is finished by the next turn, if no new one does it.
COMPLETION_INTERVAL_SECONDS = 300
# How long the deletion of cold rows may wait for older readers (holding off ingestion
# meanwhile); a later turn tries again.
READERS_LOCK_TIMEOUT = "2s"
_SYNC = " SETTINGS mutations_sync = 1"

Faults = Callable[[str], Awaitable[None]]
"""Called with the name of each step as it completes (tests inject failures there):
``counted``, ``rows_deleted``, ``buckets_deleted``, ``buckets_counted``, ``completed``."""

# Completions: the periodic turns, and those an erasure starts at once.
_work = BackgroundWork(name="eventide-erasure-completion", what="completion of erasures")


async def complete_erasures(
    engines: Engines, *, wait: bool = True, faults: Faults | None = None
) -> list[int]:
    """Complete every pending erasure; return the ids completed.

    With ``wait`` an archive pass under way is waited for; without, :class:`ArchiveBusy`.
    """
    faults = faults or _no_faults
    async with engines.db.acquire() as conn:
        # The usual turn finds nothing to do: it need not wait for (or hold up) a pass.
        if not await pending_erasures(conn, project=None):
            return []
    async with engines.db.acquire() as conn, archive_lock(conn, wait=wait):
        # A batch a dead pass left copying may hold copies of erased rows: aborted now,
        # it counts for no reader, and its rows go with the others'.
        await recover(conn, engines.cold)
        done = []
        for erasure in await pending_erasures(conn, project=None):
            try:
                cold = await _delete_cold(conn, engines.cold, erasure, faults=faults)
            except asyncpg.LockNotAvailableError:
                logger.info("erasure %s waits for older readers to finish", erasure.id)
                break
            await store.mark_completed(conn, erasure=erasure.id)
            await faults("completed")
            done.append(erasure.id)
            logger.info("erasure %s completed: %s events", erasure.id, erasure.hot_deleted + cold)
        return done


async def _delete_cold(
    conn: asyncpg.Connection, cold: ColdStore, erasure: PendingErasure, *, faults: Faults
) -> int:
    """Delete the erasure's cold rows; return how many readers counted at the erasure."""
    scope, rows = Scope.of(erasure.project), erasure.rows
    counted_rows = ErasedRows(rows.user_id, rows.max_committed, rows.excluded)
    counted = await store.settle_cold_count(
        conn, erasure=erasure.id, counted=await _count(cold, scope, counted_rows)
    )
    await faults("counted")
    # A user erased in the hot store only (the usual case) costs no mutation.
    if await _count(cold, scope, rows):
        await _readers_of_before_done(conn)
        hidden = erased_condition(rows)
        await cold.execute(scope.cold_delete(hidden) + _SYNC)
        if scope.project == LEGACY_PROJECT and await cold.has_table(LEGACY_COLD_TABLE):
            await cold.execute(scope.cold_delete(hidden, table=LEGACY_COLD_TABLE) + _SYNC)
    await faults("rows_deleted")
    # Also after a run that died once the rows were gone: the buckets disagree then.
    if not await _buckets_agree(cold, scope, rows.user_id):
        user = user_condition(rows.user_id)
        for table in COLD_BUCKET_TABLES:
            await cold.execute(scope.cold_delete(user, table=table) + _SYNC)
        await faults("buckets_deleted")
        for statement in user_bucket_statements(project=erasure.project, user_id=rows.user_id):
            await cold.execute(statement)
        await faults("buckets_counted")
    if left := await _count(cold, scope, rows):
        raise RuntimeError(f"erasure {erasure.id}: {left} cold rows left after deletion")
    return counted


async def _readers_of_before_done(conn: asyncpg.Connection) -> None:
    """Wait until no reader whose snapshot is older than the erasure is still reading: it
    counts the user's cold rows, and would find some gone. The erasure committed before
    this began, so every snapshot taken once the lock is granted hides the rows."""
    async with readers_locked_out(conn, lock_timeout=READERS_LOCK_TIMEOUT):
        pass


async def _buckets_agree(cold: ColdStore, scope: Scope, user_id: str) -> bool:
    """Whether both bucket tables count exactly the user's cold rows (of every batch)."""
    user = user_condition(user_id)
    found = await cold.fetch(
        scope.cold(f"SELECT count() FROM {EVENTS}", visible=user, legacy=False)
        + " UNION ALL "
        + scope.cold(
            f"SELECT sum(events) FROM {USER_BUCKETS}"
            f" UNION ALL SELECT sum(events) FROM {TYPE_BUCKETS}",
            visible=user,
            legacy=False,
        )
    )
    return len({int(row[0]) for row in found}) == 1


async def _count(cold: ColdStore, scope: Scope, rows: ErasedRows) -> int:
    """The cold rows (in either layout) ``rows`` describes, whatever their batch's state."""
    found = await cold.fetch(
        scope.cold(f"SELECT count() FROM {EVENTS}", visible=erased_condition(rows), legacy=True)
    )
    return int(found[0][0])


async def _no_faults(step: str) -> None:
    return None


def complete_soon(engines: Engines) -> None:
    """Start completing now, in a task that outlives the caller (an erasure returns at
    once); a failure is logged and the periodic turn retries."""
    _work.start(complete_erasures(engines))


async def stop_started() -> None:
    """Cancel the completions started by erasures and wait for them to end (at shutdown:
    the next start's periodic turn finishes what they left)."""
    await _work.stop()


@contextlib.asynccontextmanager
async def erasure_completion(
    engines: Engines, *, interval: float = COMPLETION_INTERVAL_SECONDS
) -> AsyncIterator[None]:
    """Run :func:`complete_erasures` at once and every ``interval`` seconds while open;
    a turn that finds the archive lock held is skipped."""
    async with _work.turns(interval, lambda: complete_erasures(engines, wait=False)):
        yield
