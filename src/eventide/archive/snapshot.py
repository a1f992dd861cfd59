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

from eventide.services import Services


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
    services: Services,
) -> AsyncIterator[tuple[asyncpg.Connection, ColdVisibility]]:
    """A connection in a REPEATABLE READ READ ONLY transaction, and the cold visibility
    read in that same transaction.

    Read the hot store through this connection and filter every cold query with
    ``visibility.sql()``.
    """
    async with (
        services.db.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        # Lock before the first query takes the snapshot: the archiver drops day partitions
        # (which is not MVCC-safe) under an exclusive lock on `events`, so a snapshot taken
        # after this lock can never miss rows of a partition dropped after it.
        await conn.execute("LOCK TABLE ONLY events IN ACCESS SHARE MODE")
        yield conn, await read_visibility(conn)
