"""Removing a deleted project's data from both stores, in the background.

``deleteProject`` only sets ``deleted_at``: from then on nothing reads the project. Its
rows go here, step by step, each step safe to repeat, so a removal interrupted at any
instant is finished by the next one (after every archive-lock holder is done):

1. once every ingestion statement that saw the project live has ended, its hot
   events, in chunks of at most ``chunk`` rows, each chunk its own transaction;
2. its ledger rows (``event_ids``), in chunks too;
3. its cold rows: a ClickHouse mutation on ``project_events`` (and, for the project of
   everything stored before projects, on the cold table of that layout), then a count
   that must find none left;
4. its archive batches. A cold row counts for readers only through its batch, so the
   rows go first: a batch left without rows counts nothing. A batch aborted too recently
   may still receive an insert sent by a process that died (see
   ``archive.recovery.SETTLE_AFTER``); it stays, excluding whatever lands, until it has
   settled, and the removal is finished by a later run that deletes the rows again;
5. its API tokens, invitations and members;
6. ``purged_at``, once nothing of it is left.

Everything runs under the archive lock, so no archive pass copies the project's rows
meanwhile; passes also never copy rows of a deleted project at all. Statements name the
project through its :class:`Scope`, so nothing of another project is touched.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

from eventide.archive.background import BackgroundWork
from eventide.archive.lock import archive_lock
from eventide.archive.recovery import SETTLE_AFTER, recover
from eventide.storage.clickhouse import ColdStore
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import (
    COLD_BUCKET_TABLES,
    COLD_TABLE,
    COPIED_EVENTS,
    EVENTS,
    LEGACY_COLD_TABLE,
    LEGACY_PROJECT,
    TYPE_BUCKETS,
    USER_BUCKETS,
    Scope,
)

logger = logging.getLogger(__name__)

PURGE_CHUNK = 10_000
# A removal interrupted by a crash is finished by the next turn, if no deletion does it.
PURGE_INTERVAL_SECONDS = 600

Faults = Callable[[str], Awaitable[None]]
"""Called with the name of each step as it completes (tests inject failures there):
``writers_done``, ``hot_chunk_deleted``, ``hot_deleted``, ``ledger_chunk_deleted``,
``ledger_deleted``, ``cold_deleted``, ``batches_deleted``, ``access_deleted``, ``purged``."""

_PENDING = """SELECT id FROM projects
              WHERE deleted_at IS NOT NULL AND purged_at IS NULL ORDER BY id"""
_LEDGER_CHUNK = """
DELETE FROM event_ids WHERE project_id = $1 AND event_id = ANY(ARRAY(
    SELECT event_id FROM event_ids WHERE project_id = $1 LIMIT $2))
"""
# Aborted batches younger than this may still receive rows; they wait.
_SETTLE_SECONDS = int(SETTLE_AFTER.total_seconds())
_SETTLED = f"""state IN ('committed', 'superseded') OR cleaned
               OR finished_at < clock_timestamp() - interval '{_SETTLE_SECONDS} s'"""

# Removals: the periodic turns, and those a deletion starts at once.
_work = BackgroundWork(name="eventide-project-purge", what="removal of deleted projects")


async def purge_deleted_projects(
    engines: Engines,
    *,
    wait: bool = True,
    chunk: int = PURGE_CHUNK,
    faults: Faults | None = None,
) -> list[int]:
    """Remove the data of every deleted project not purged yet; return the ids of those
    now purged (a project whose batches have not settled yet is finished later).

    With ``wait`` an archive pass under way is waited for; without, :class:`ArchiveBusy`.
    """
    faults = faults or _no_faults
    async with engines.db.acquire() as conn, archive_lock(conn, wait=wait):
        # Batches left copying by a dead pass become aborted, so that they are settled
        # (or not) by the same rule as every other.
        await recover(conn, engines.cold)
        purged = []
        for (project,) in await conn.fetch(_PENDING):
            if await _purge(conn, engines.cold, Scope.of(project), chunk=chunk, faults=faults):
                purged.append(project)
                logger.info("project %s purged from both stores", project)
        return purged


async def _purge(
    conn: asyncpg.Connection, cold: ColdStore, scope: Scope, *, chunk: int, faults: Faults
) -> bool:
    project = scope.project
    async with conn.transaction():
        # Ingestion stores nothing in a deleted project, as of its statement's snapshot;
        # statements that took theirs before the deletion hold a lock conflicting with
        # this one until they end, so their rows are there to be deleted.
        await conn.execute("LOCK TABLE ONLY events IN SHARE MODE")
    await faults("writers_done")
    # The project's events, and the copies PostgreSQL keeps of those already archived.
    for placeholder in (EVENTS, COPIED_EVENTS):
        delete_hot_chunk = scope.hot(
            f"""WITH doomed AS (SELECT occurred_at, event_id FROM {placeholder}
                                ORDER BY occurred_at, event_id LIMIT $1) """
        ) + scope.hot_delete(
            "(occurred_at, event_id) IN (SELECT occurred_at, event_id FROM doomed)",
            rows=placeholder,
        )
        while _count(await conn.execute(delete_hot_chunk, chunk)) >= chunk:
            await faults("hot_chunk_deleted")
    await faults("hot_deleted")

    while _count(await conn.execute(_LEDGER_CHUNK, project, chunk)) >= chunk:
        await faults("ledger_chunk_deleted")
    await faults("ledger_deleted")

    await _delete_cold(conn, cold, scope)
    await faults("cold_deleted")

    async with conn.transaction():
        # Every batch of the project goes: none may be kept for a batch it superseded.
        await conn.execute(
            """UPDATE archive_batches SET supersedes = NULL
               WHERE project_id = $1 AND supersedes IS NOT NULL""",
            project,
        )
        await conn.execute(
            f"DELETE FROM archive_batches WHERE project_id = $1 AND ({_SETTLED})", project
        )
        unsettled = await conn.fetchval(
            "SELECT count(*) FROM archive_batches WHERE project_id = $1", project
        )
    await faults("batches_deleted")
    if unsettled:
        logger.info("project %s: %s archive batches settle before its purge", project, unsettled)
        return False

    async with conn.transaction():
        for table in ("api_tokens", "invitations", "project_members"):
            await conn.execute(f"DELETE FROM {table} WHERE project_id = $1", project)
    await faults("access_deleted")

    await conn.execute(
        """UPDATE projects SET purged_at = now()
           WHERE id = $1 AND deleted_at IS NOT NULL AND purged_at IS NULL""",
        project,
    )
    await faults("purged")
    return True


async def _delete_cold(conn: asyncpg.Connection, cold: ColdStore, scope: Scope) -> None:
    """Delete every cold row of the project, in each layout; raise if any is left."""
    if not await _cold_rows(cold, scope):
        return
    # Nothing reads a deleted project; its buckets go with its rows.
    for table in (*COLD_BUCKET_TABLES, COLD_TABLE):
        await cold.execute(scope.cold_delete("1", table=table) + " SETTINGS mutations_sync = 1")
    if scope.project == LEGACY_PROJECT and await cold.has_table(LEGACY_COLD_TABLE):
        await cold.execute(
            scope.cold_delete("1", table=LEGACY_COLD_TABLE) + " SETTINGS mutations_sync = 1"
        )
    if left := await _cold_rows(cold, scope):
        raise RuntimeError(f"project {scope.project}: {left} cold rows left after deletion")


async def _cold_rows(cold: ColdStore, scope: Scope) -> int:
    """Every cold row (and bucket) of the project, whether or not its batch counts for
    readers."""
    rows = await cold.fetch(
        scope.cold(f"SELECT count() FROM {EVENTS}", visible="", legacy=True)
        + " UNION ALL "
        + scope.cold(
            f"SELECT count() FROM {USER_BUCKETS} UNION ALL SELECT count() FROM {TYPE_BUCKETS}",
            visible="",
            legacy=False,
        )
    )
    return sum(int(row[0]) for row in rows)


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[1])


async def _no_faults(step: str) -> None:
    return None


def purge_soon(engines: Engines) -> None:
    """Start a removal now, in a task that outlives the caller (a deletion returns at
    once); a failure is logged and the periodic removal retries."""
    _work.start(purge_deleted_projects(engines))


async def stop_started() -> None:
    """Cancel the removals started by deletions and wait for them to end (at shutdown:
    the next start's periodic removal finishes what they left)."""
    await _work.stop()


@contextlib.asynccontextmanager
async def project_purging(
    engines: Engines, *, interval: float = PURGE_INTERVAL_SECONDS
) -> AsyncIterator[None]:
    """Run :func:`purge_deleted_projects` at once and every ``interval`` seconds while
    open; a turn that finds the archive lock held is skipped."""
    async with _work.turns(interval, lambda: purge_deleted_projects(engines, wait=False)):
        yield
