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
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from eventide.archive.boundary import read_boundary
from eventide.archive.erased import pending_erasures
from eventide.storage.clickhouse import Row
from eventide.storage.engines import Engines
from eventide.storage.inline_rows import InlineRows
from eventide.storage.tenant_sql import Scope

# Another request may have taken the last free connection since the pool was looked at.
_SPARE_WAIT_SECONDS = 0.05


# Inline data makes long statements; they are built here, never from caller text.
_MAX_QUERY_BYTES = 1 << 30


@dataclass(frozen=True)
class ColdVisibility:
    """Which cold rows a reader may count: ``batch_id <= max_committed`` and not excluded;
    ``legacy`` when rows of the cold layout from before projects may still count;
    ``bucketed`` when the cold buckets count exactly the rows that count (no committed
    batch waits for its buckets, none of the old layout counts)."""

    max_committed: int
    excluded: tuple[int, ...] = ()
    legacy: bool = False
    bucketed: bool = False

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
    max_committed, legacy, unbucketed = await conn.fetchrow(
        """SELECT coalesce((SELECT max(id) FROM archive_batches WHERE state = 'committed'), 0),
                  EXISTS (SELECT FROM archive_batches WHERE legacy AND NOT cleaned),
                  EXISTS (SELECT FROM archive_batches WHERE state = 'committed' AND NOT bucketed)"""
    )
    excluded = await conn.fetch(
        """SELECT id FROM archive_batches
           WHERE state <> 'committed' AND NOT cleaned AND id < $1 ORDER BY id""",
        max_committed,
    )
    excluded_ids = tuple(row["id"] for row in excluded)
    return ColdVisibility(max_committed, excluded_ids, legacy, not (legacy or unbucketed))


class HotReader:
    """A snapshot's PostgreSQL connection that reads the events of one scope only: every
    statement passes through :meth:`Scope.hot` (write :data:`EVENTS` where it reads)."""

    def __init__(self, conn: asyncpg.Connection, scope: Scope) -> None:
        self._conn = conn
        self.scope = scope

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        rows: list[Any] = await self._conn.fetch(self.scope.hot(sql), *args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return await self._conn.fetchrow(self.scope.hot(sql), *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._conn.fetchval(self.scope.hot(sql), *args)


@dataclass
class Tiers:
    """Both stores as of one snapshot, holding the events of one scope (a project)."""

    hot: HotReader
    engines: Engines
    visibility: ColdVisibility
    # The rows of push_hot, by the name each table of them stands under in a statement.
    _pushed_tables: dict[str, InlineRows] = field(default_factory=dict)

    @property
    def scope(self) -> Scope:
        return self.hot.scope

    async def cold_fetch(self, sql: str, params: dict[str, Any] | None = None) -> list[Row]:
        """Run a cold query reading :data:`EVENTS` (and maybe :meth:`push_hot` tables):
        the scope's rows this snapshot may see."""
        visible, visibility_params = self.visibility.sql()
        # The statement is checked and scoped without the hot rows: they are data
        # (event types, user ids), megabytes of it, never part of what is checked.
        scoped = self.scope.cold(sql, visible=visible, legacy=self.visibility.legacy)
        return await self.engines.cold.fetch(
            f"{scoped} SETTINGS max_query_size = {_MAX_QUERY_BYTES}",
            {**visibility_params, **(params or {})},
            tables={name: rows for name, rows in self._pushed_tables.items() if name in sql},
        )

    async def push_hot(self, sql: str, *args: Any, structure: str) -> str:
        """A ClickHouse table expression holding the rows of the hot query ``sql``.

        ``structure`` names and types the columns ``sql`` selects, e.g.
        ``"key Int64, user_id String"``. PostgreSQL renders the rows as CSV lines itself,
        and they go with the cold query (``storage.inline_rows``): no per-row work in
        Python, and the cold store needs no write access.
        """
        return self._named(await _pushed(self.hot, HotRows(sql, args, structure)))

    async def push_hot_concurrently(self, first: HotRows, second: HotRows) -> tuple[str, str]:
        """:meth:`push_hot` of both, at the same time when a second connection can join
        the snapshot."""
        async with joined_snapshot(self.engines, self.hot) as other:
            if other is None:
                tables = await _pushed(self.hot, first), await _pushed(self.hot, second)
            else:
                tables = await asyncio.gather(_pushed(self.hot, first), _pushed(other, second))
        return self._named(tables[0]), self._named(tables[1])

    def _named(self, rows: InlineRows) -> str:
        """A name for a table of ``rows`` in the statements of :meth:`cold_fetch`."""
        name = f"__pushed_hot_rows_{len(self._pushed_tables)}__"
        self._pushed_tables[name] = rows
        return name


@dataclass(frozen=True)
class HotRows:
    """A hot query with its ``$n`` arguments, and the ``structure`` of :meth:`Tiers.push_hot`."""

    sql: str
    args: tuple[Any, ...]
    structure: str


async def _pushed(conn: HotReader, rows: HotRows) -> InlineRows:
    data: str = await conn.fetchval(
        f"SELECT {csv_lines(rows.structure)} FROM ({rows.sql}) hot_rows", *rows.args
    )
    return InlineRows(rows.structure, data)


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


@contextlib.asynccontextmanager
async def tier_snapshot(engines: Engines, *, scope: Scope) -> AsyncIterator[Tiers]:
    """Both tiers as of one snapshot, for the events of ``scope``: a connection in a
    REPEATABLE READ READ ONLY transaction, and the cold visibility read in that same
    transaction. With retention, ``scope`` leaves out the rows before its boundary, read
    in that transaction too.

    Read the hot store through ``hot`` and the cold store through :meth:`Tiers.cold_fetch`.
    """
    async with (
        engines.db.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        # Lock before the first query takes the snapshot: the archiver drops day partitions
        # (which is not MVCC-safe) under an exclusive lock on `events`, so a snapshot taken
        # after this lock can never miss rows of a partition dropped after it.
        await conn.execute("LOCK TABLE ONLY events IN ACCESS SHARE MODE")
        visibility = await read_visibility(conn)
        # Rows past retention are hidden here, whether or not their removal has run. Read
        # after the lock: a removal that waited for every reader holding it then deletes
        # nothing a later one counts.
        if (boundary := await read_boundary(conn, engines.settings)) is not None:
            scope = scope.retained_since(boundary)
        scope, visibility = await _with_erasures(conn, scope, visibility)
        yield Tiers(hot=HotReader(conn, scope), engines=engines, visibility=visibility)


@contextlib.asynccontextmanager
async def readers_locked_out(conn: asyncpg.Connection, *, lock_timeout: str) -> AsyncIterator[None]:
    """A transaction on ``conn`` holding ``events`` exclusively: granted once every reader
    whose :func:`tier_snapshot` was open before has finished (each holds ACCESS SHARE on
    it for as long as it reads), and holding off new ones until it ends. Raises
    :class:`asyncpg.LockNotAvailableError` when they take longer than ``lock_timeout``."""
    async with conn.transaction():
        await conn.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
        await conn.execute("LOCK TABLE ONLY events IN ACCESS EXCLUSIVE MODE")
        yield


async def _with_erasures(
    conn: asyncpg.Connection, scope: Scope, visibility: ColdVisibility
) -> tuple[Scope, ColdVisibility]:
    """``scope`` hiding the cold rows of its project's pending erasures, if any; the cold
    buckets still count those rows, so then they are not read."""
    if scope.project is None:
        return scope, visibility
    erasures = tuple(e.rows for e in await pending_erasures(conn, project=scope.project))
    if not erasures:
        return scope, visibility
    return (
        dataclasses.replace(scope, erasures=erasures),
        dataclasses.replace(visibility, bucketed=False),
    )


@contextlib.asynccontextmanager
async def joined_snapshot(engines: Engines, reader: HotReader) -> AsyncIterator[HotReader | None]:
    """A second connection reading the snapshot of ``reader``'s open ``tier_snapshot``,
    in the same scope, so independent hot queries can run at the same time; None when
    none is at hand at once.

    Waiting is never worth it: for a pool connection (requests that each hold one could
    wait for each other), nor for the lock on ``events`` (behind a waiting partition drop,
    which waits for ``conn``).
    """
    pool = engines.db
    if pool.get_idle_size() == 0 and pool.get_size() >= pool.get_max_size():
        yield None
        return
    snapshot_id = await reader.fetchval("SELECT pg_export_snapshot()")
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
                yield HotReader(other, reader.scope)
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
