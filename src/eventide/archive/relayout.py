"""Rewriting the cold rows of a server from before projects into the current layout.

Those rows (all of project 1, Default) sit in the cold table of the layout without
``project_id``; readers read that table beside the current one until none of its
batches counts any more. Each archive pass rewrites them a batch at a time, the way a
pass moves hot rows: a new batch (``copying``, so invisible) receives a copy of the old
batch's rows, then one PostgreSQL transaction commits the new batch and marks the old
one ``superseded``, so every reader counts each row exactly once, in one table or the
other. A pass interrupted anywhere leaves the old batch committed and the new one
copying, which the next pass's recovery aborts and deletes. Once every old batch is
superseded, the old table is dropped, with the lock readers hold while they read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg

from eventide.archive import cold_batches, erased, runs
from eventide.archive.cold_batches import Batch
from eventide.archive.tiers import readers_locked_out
from eventide.storage.clickhouse import ColdStore
from eventide.storage.tenant_sql import (
    EVENTS,
    LEGACY_COLD_TABLE,
    LEGACY_PROJECT,
    Scope,
    relayout_statement,
)

logger = logging.getLogger(__name__)

# How long retiring the old table may wait for open readers; the next pass tries again.
_RETIRE_LOCK_TIMEOUT = "2s"


async def rewrite_legacy(
    conn: asyncpg.Connection,
    cold: ColdStore,
    *,
    run_id: int,
    faults: Callable[[str], Awaitable[None]],
) -> int:
    """Rewrite every committed batch of the old layout; return the rows rewritten.

    Must run under the archive lock, after recovery.
    """
    if await erased.erasing(conn, project=LEGACY_PROJECT):
        return 0  # see _rewrite; checked here too, to spare a copy that cannot commit
    rewritten = 0
    for row in await conn.fetch(
        """SELECT id, day, moved FROM archive_batches
           WHERE legacy AND state = 'committed' ORDER BY id"""
    ):
        copied = await _rewrite(conn, cold, run_id=run_id, old=row, faults=faults)
        if copied is None:
            logger.info("cold rows from before projects wait for an erasure to complete")
            return rewritten
        rewritten += copied
        await faults("relayout_committed")
    await _retire_old_table(conn, cold)
    return rewritten


async def _rewrite(
    conn: asyncpg.Connection,
    cold: ColdStore,
    *,
    run_id: int,
    old: asyncpg.Record,
    faults: Callable[[str], Awaitable[None]],
) -> int | None:
    """The rows rewritten; None when an erasure in the project is pending: a pending
    erasure hides the rows of the batches its snapshot counted, and the new batch is not
    one of them, so the old batch keeps counting (the copy is aborted) until it is
    complete."""
    batch_id = await runs.create_batch(
        conn,
        run_id=run_id,
        project=LEGACY_PROJECT,
        day=old["day"],
        rows=old["moved"],
        supersedes=old["id"],
    )
    await cold.execute(relayout_statement(legacy_batch=old["id"], batch=batch_id))
    copied = await _rows_of(cold, Batch(batch_id, LEGACY_PROJECT, old["day"]))
    if copied != await _rows_of(cold, Batch(old["id"], LEGACY_PROJECT, old["day"], True)):
        # Left copying: the next pass's recovery aborts it and deletes what was copied.
        raise RuntimeError(f"archive batch {old['id']} was not copied whole")
    await cold_batches.insert_buckets(cold, batch=Batch(batch_id, LEGACY_PROJECT, old["day"]))
    await faults("relayout_copied")
    async with conn.transaction():
        # An erasure takes a lock conflicting with this one before it reads which batches
        # count: it either sees this commit or is seen here.
        await conn.execute("LOCK TABLE ONLY events IN SHARE MODE")
        if await erased.erasing(conn, project=LEGACY_PROJECT):
            await conn.execute(
                """UPDATE archive_batches SET state = 'aborted', finished_at = clock_timestamp()
                   WHERE id = $1 AND state = 'copying'""",
                batch_id,
            )
            return None
        await conn.execute(
            """UPDATE archive_batches SET state = 'superseded', finished_at = clock_timestamp()
               WHERE id = $1 AND state = 'committed'""",
            old["id"],
        )
        await runs.commit_batches(conn, run_id=run_id, batch_ids=[batch_id], moved=0)
    return copied


async def _rows_of(cold: ColdStore, batch: Batch) -> int:
    rows = await cold.fetch(
        Scope.of(batch.project).cold(
            f"SELECT count() FROM {EVENTS}", visible=f"batch_id = {batch.id}", legacy=True
        )
    )
    return int(rows[0][0])


async def _retire_old_table(conn: asyncpg.Connection, cold: ColdStore) -> None:
    """Drop the old table once no batch of it counts; mark its batches cleaned."""
    if await conn.fetchval(
        "SELECT EXISTS (SELECT FROM archive_batches WHERE legacy AND state = 'committed')"
    ):
        return
    present = await cold.has_table(LEGACY_COLD_TABLE)
    pending = await conn.fetchval(
        "SELECT EXISTS (SELECT FROM archive_batches WHERE legacy AND NOT cleaned)"
    )
    if not present and not pending:
        return
    try:
        # A reader whose snapshot still counted an old batch has finished once this
        # is granted.
        async with readers_locked_out(conn, lock_timeout=_RETIRE_LOCK_TIMEOUT):
            await cold.execute(f"DROP TABLE IF EXISTS {LEGACY_COLD_TABLE}")
            await conn.execute(
                "UPDATE archive_batches SET cleaned = true WHERE legacy AND NOT cleaned"
            )
    except asyncpg.LockNotAvailableError:
        logger.info("old cold table kept for now: readers are busy")
        return
    logger.info("cold rows from before projects are all in the current layout")
