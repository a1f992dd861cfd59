"""The readers' view of both tiers: one consistent snapshot of the hot and the cold store.

A cold row counts only when its archive batch is committed in the PostgreSQL snapshot
the hot store is read with. The archiver commits a batch in the same transaction that
removes the batch's rows from the hot store, so in any snapshot each event is in
exactly one tier. Where a distinct count spans both tiers, the hot side (the small
one) is shipped into the ClickHouse query as inline data.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from eventide.storage.clickhouse import Row
from eventide.storage.engines import Engines

# Another request may have taken the last free connection since the pool was looked at.
_SPARE_WAIT_SECONDS = 0.05


# Inline data makes long statements; they are built here, never from caller text.
_MAX_QUERY_BYTES = 1 << 30
_LITERAL_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'"})


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


@dataclass
class Tiers:
    """The hot connection and the cold store as of one snapshot."""

    hot: asyncpg.Connection
    engines: Engines
    visibility: ColdVisibility

    @property
    def visible(self) -> str:
        """The ClickHouse predicate selecting the cold rows of this snapshot."""
        return self.visibility.sql()[0]

    async def cold_fetch(self, sql: str, params: dict[str, Any] | None = None) -> list[Row]:
        """Run a cold query written with :attr:`visible` (and maybe :meth:`push_hot`)."""
        merged = {**self.visibility.sql()[1], **(params or {})}
        return await self.engines.cold.fetch(
            f"{sql} SETTINGS max_query_size = {_MAX_QUERY_BYTES}", merged
        )

    async def push_hot(self, sql: str, *args: Any, structure: str) -> str:
        """A ClickHouse table expression holding the rows of the hot query ``sql``.

        ``structure`` names and types the columns ``sql`` selects, e.g.
        ``"key Int64, user_id String"``. PostgreSQL renders the rows as CSV lines itself,
        and they are inlined into the cold query as one string literal: no per-row work
        in Python, and the cold store needs no write access.
        """
        return await _pushed(self.hot, HotRows(sql, args, structure))

    async def push_hot_concurrently(self, first: HotRows, second: HotRows) -> tuple[str, str]:
        """:meth:`push_hot` of both, at the same time when a second connection can join
        the snapshot."""
        async with joined_snapshot(self.engines, self.hot) as other:
            if other is None:
                return await _pushed(self.hot, first), await _pushed(self.hot, second)
            return await asyncio.gather(_pushed(self.hot, first), _pushed(other, second))


@dataclass(frozen=True)
class HotRows:
    """A hot query with its ``$n`` arguments, and the ``structure`` of :meth:`Tiers.push_hot`."""

    sql: str
    args: tuple[Any, ...]
    structure: str


async def _pushed(conn: asyncpg.Connection, rows: HotRows) -> str:
    data: str = await conn.fetchval(
        f"SELECT {csv_lines(rows.structure)} FROM ({rows.sql}) hot_rows", *rows.args
    )
    return inline_table(data, rows.structure)


def csv_lines(structure: str) -> str:
    """A PostgreSQL aggregate: the rows' columns named in ``structure`` as CSV lines
    (cheaper for PostgreSQL to render and for ClickHouse to parse than JSON). The columns
    must not be NULL. Strings are quoted, with quotes doubled: CSV knows no other escape."""
    fields = []
    for column in structure.split(","):
        name, kind = column.split()
        quoted = f"""'"' || replace({name}, '"', '""') || '"'"""
        fields.append(quoted if kind == "String" else f"{name}::text")
    line = " || ',' || ".join(fields)
    return f"coalesce(string_agg({line}, E'\\n'), '')"


def inline_table(data: str, structure: str) -> str:
    """A ClickHouse table expression over CSV lines ``data`` (from :func:`csv_lines`)."""
    # Every cold query is rendered with parameters (the visibility's at least), so a
    # literal percent sign is written twice.
    literal = data.translate(_LITERAL_ESCAPES).replace("%", "%%")
    return f"format(CSV, '{structure}', '{literal}')"


@contextlib.asynccontextmanager
async def tier_snapshot(engines: Engines) -> AsyncIterator[Tiers]:
    """Both tiers as of one snapshot: a connection in a REPEATABLE READ READ ONLY
    transaction, and the cold visibility read in that same transaction.

    Read the hot store through ``hot`` and filter every cold query with the visibility
    (:attr:`Tiers.visible`, :meth:`Tiers.cold_fetch`).
    """
    async with (
        engines.db.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        # Lock before the first query takes the snapshot: the archiver drops day partitions
        # (which is not MVCC-safe) under an exclusive lock on `events`, so a snapshot taken
        # after this lock can never miss rows of a partition dropped after it.
        await conn.execute("LOCK TABLE ONLY events IN ACCESS SHARE MODE")
        yield Tiers(hot=conn, engines=engines, visibility=await read_visibility(conn))


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
