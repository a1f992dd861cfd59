"""One consistent view of both tiers, for every reader of events.

A cold row counts only when its archive batch is committed in the PostgreSQL snapshot
the hot store is read with. The archiver commits a batch in the same transaction that
removes the batch's rows from the hot store, so in any snapshot each event is in
exactly one tier.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from eventide.storage.engines import Engines

# Another request may have taken the last free connection since the pool was looked at.
_SPARE_WAIT_SECONDS = 0.05


@dataclass(frozen=True)
class ColdVisibility:
    """Which cold rows a reader may count: ``batch_id <= max_committed`` and not excluded."""

    max_committed: int
    excluded: tuple[int, ...] = ()

    def sql(self, column: str = "batch_id") -> tuple[str, dict[str, Any]]:
        """A ClickHouse predicate on ``column`` and its parameters."""
        if not self.excluded:
            return f"{column} <= %(vis_max)s", {"vis_max": self.max_committed}
        return (
            f"({column} <= %(vis_max)s AND {column} NOT IN %(vis_excluded)s)",
            {"vis_max": self.max_committed, "vis_excluded": self.excluded},
        )


async def read_visibility(conn: asyncpg.Connection) -> ColdVisibility:
    """The visibility as of ``conn``'s current snapshot."""
    max_committed = await conn.fetchval(
        "SELECT coalesce(max(id), 0) FROM archive_batches WHERE state = 'committed'"
    )
    excluded = await conn.fetch(
        """SELECT id FROM archive_batches
           WHERE state <> 'committed' AND NOT cleaned AND id < $1 ORDER BY id""",
        max_committed,
    )
    return ColdVisibility(max_committed, tuple(row["id"] for row in excluded))


@contextlib.asynccontextmanager
async def tier_snapshot(
    engines: Engines,
) -> AsyncIterator[tuple[asyncpg.Connection, ColdVisibility]]:
    """A connection in a REPEATABLE READ READ ONLY transaction, and the cold visibility
    read in that same transaction.

    Read the hot store through this connection and filter every cold query with
    ``visibility.sql()``.
    """
    async with (
        engines.db.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        # Lock before the first query takes the snapshot: the archiver drops day partitions
        # (which is not MVCC-safe) under an exclusive lock on `events`, so a snapshot taken
        # after this lock can never miss rows of a partition dropped after it.
        await conn.execute("LOCK TABLE ONLY events IN ACCESS SHARE MODE")
        yield conn, await read_visibility(conn)


@contextlib.asynccontextmanager
async def joined_snapshot(
    engines: Engines, conn: asyncpg.Connection
) -> AsyncIterator[asyncpg.Connection | None]:
    """A second connection reading the snapshot of ``conn``'s open ``tier_snapshot``, so
    independent hot queries can run at the same time; None when none is at hand at once.

    Waiting is never worth it: for a pool connection (requests that each hold one could
    wait for each other), nor for the lock on ``events`` (behind a waiting partition drop,
    which waits for ``conn``).
    """
    pool = engines.db
    if pool.get_idle_size() == 0 and pool.get_size() >= pool.get_max_size():
        yield None
        return
    snapshot_id = await conn.fetchval("SELECT pg_export_snapshot()")
    other = await _spare_connection(pool)
    if other is None:
        yield None
        return
    try:
        async with other.transaction(isolation="repeatable_read", readonly=True):
            await other.execute(f"SET TRANSACTION SNAPSHOT '{snapshot_id}'")
            try:
                await other.execute("LOCK TABLE ONLY events IN ACCESS SHARE MODE NOWAIT")
                locked = True
            except asyncpg.LockNotAvailableError:
                locked = False
            if locked:
                yield other
                return
        yield None  # the failed lock ended the transaction above
    finally:
        await pool.release(other)


async def _spare_connection(pool: asyncpg.Pool) -> asyncpg.Connection | None:
    try:
        connection: asyncpg.Connection = await pool.acquire(timeout=_SPARE_WAIT_SECONDS)
    except TimeoutError:
        return None
    return connection
