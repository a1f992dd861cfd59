"""Removing the events past retention (``EVENTIDE_RETENTION_DAYS``) from both stores.

Readers stop counting them at the boundary (``archive.boundary``) whether or not this
has run; this only frees the space. It runs under the archive lock, so no pass copies
or commits rows meanwhile, and every step is safe to repeat: a removal interrupted at
any instant is finished by the next.

Readers read their boundary after their lock on ``events`` (``archive.tiers``), so a
reader that got that lock after the removal read its boundary never counts what the
removal deletes; those that got it earlier are waited for:

1. Hot: each UTC day partition of ``events`` and of ``user_buckets`` that ends at or
   before the boundary is dropped whole, under an exclusive lock on ``events`` (as the
   archiver drops a day); then whatever hot rows are left before the boundary (those of
   the day the boundary falls in, or of a day whose partition was busy) are deleted in
   chunks, which readers' snapshots do not see.
2. Cold, once every reader that held the lock on ``events`` before has finished (the
   exclusive lock taken and let go; if readers keep it busy, the cold step waits for the
   next turn): in each cold table, every month partition that ends at or before the start of
   the boundary's UTC day is dropped whole; in the month holding that day, the rows of
   the days before it are deleted by one mutation. The rows of the boundary's own day
   wait for the next day's removal: a mutation rewrites the month's parts, so it runs
   at most once a day, not at every turn.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from eventide.archive.background import BackgroundWork
from eventide.archive.boundary import read_boundary
from eventide.archive.lock import DROP_LOCK_TIMEOUT, archive_lock
from eventide.archive.tiers import readers_locked_out
from eventide.observability.metrics import RETENTION_HOT_EVENTS, RETENTION_PARTITIONS
from eventide.storage.clickhouse import ColdStore
from eventide.storage.engines import Engines
from eventide.storage.postgres import day_partitions
from eventide.storage.tenant_sql import (
    COLD_BUCKET_TABLES,
    COLD_TABLE,
    COPIED_EVENTS,
    EVENTS,
    LEGACY_COLD_TABLE,
    TYPE_BUCKETS,
    USER_BUCKETS,
    Scope,
    cold_instant,
)

logger = logging.getLogger(__name__)

REMOVAL_CHUNK = 10_000
# The boundary moves by one 15-minute bucket at a time.
REMOVAL_INTERVAL_SECONDS = 900

Faults = Callable[[str], Awaitable[None]]
"""Called with the name of each step as it completes (tests inject failures there):
``hot_day_dropped`` (inside its transaction), ``hot_chunk_deleted``, ``hot_deleted``,
``cold_partition_dropped``, ``cold_deleted``."""

_EVERY_PROJECT = Scope.every_project()
_WORK = BackgroundWork(name="eventide-retention", what="retention removal")
_HOT_PARENTS = ("events", "copied_events", "user_buckets")
# One chunk of the rows before the boundary ($1), in key order, of every project: of
# events, and of the copies PostgreSQL keeps of those already in the cold store.
_HOT_CHUNKS = tuple(
    _EVERY_PROJECT.hot(
        f"""WITH doomed AS (SELECT occurred_at, event_id FROM {placeholder} WHERE occurred_at < $1
                            ORDER BY occurred_at, event_id LIMIT $2) """
    )
    + _EVERY_PROJECT.hot_delete(
        "occurred_at < $1 AND (occurred_at, event_id) IN"
        " (SELECT occurred_at, event_id FROM doomed)",
        rows=placeholder,
    )
    for placeholder in (EVENTS, COPIED_EVENTS)
)
# Each cold table with the column it is partitioned by, and how to read it.
_COLD_TABLES = (
    (COLD_TABLE, "occurred_at", EVENTS),
    (COLD_BUCKET_TABLES[0], "bucket", USER_BUCKETS),
    (COLD_BUCKET_TABLES[1], "bucket", TYPE_BUCKETS),
)


@dataclass(frozen=True)
class Removal:
    """What one removal did: the hot partitions and cold ``table:month`` partitions it
    dropped, and the hot rows it deleted."""

    boundary: dt.datetime
    hot_partitions: tuple[str, ...]
    hot_rows: int
    cold_partitions: tuple[str, ...]


async def remove_expired(
    engines: Engines, *, wait: bool = True, chunk: int = REMOVAL_CHUNK, faults: Faults | None = None
) -> Removal | None:
    """Remove the events before the retention boundary from both stores (None without
    retention). With ``wait`` an archive pass under way is waited for; without,
    :class:`ArchiveBusy`."""
    faults = faults or _no_faults
    async with engines.db.acquire() as conn, archive_lock(conn, wait=wait):
        boundary = await read_boundary(conn, engines.settings)
        if boundary is None:
            return None
        dropped = await _drop_hot_days(conn, boundary, faults)
        deleted = await _delete_hot_rows(conn, boundary, chunk, faults)
        cold: tuple[str, ...] = ()
        if await _earlier_readers_done(conn):
            cold = await _remove_cold(engines.cold, _day_start(boundary), faults)
    removal = Removal(boundary, dropped, deleted, cold)
    RETENTION_PARTITIONS.labels(store="hot").inc(len(dropped))
    RETENTION_PARTITIONS.labels(store="cold").inc(len(cold))
    RETENTION_HOT_EVENTS.inc(deleted)
    logger.info(
        "retention: removed events before %s: %s hot partitions, %s hot rows, %s cold partitions",
        boundary.isoformat(),
        len(dropped),
        deleted,
        len(cold),
    )
    return removal


async def _drop_hot_days(
    conn: asyncpg.Connection, boundary: dt.datetime, faults: Faults
) -> tuple[str, ...]:
    dropped: list[str] = []
    for parent in _HOT_PARENTS:
        for name, day in await day_partitions(conn, parent=parent):
            if _day_start(day + dt.timedelta(days=1)) > boundary:
                continue
            if await _drop_hot_partition(conn, name, faults):
                dropped.append(name)
    return tuple(dropped)


async def _drop_hot_partition(conn: asyncpg.Connection, name: str, faults: Faults) -> bool:
    """Drop one day partition, every row of it past retention; False when readers keep
    it busy (its rows are then deleted instead)."""
    try:
        # Every reader that may count the partition's rows is waited for here (a
        # partition of user_buckets does not wait by itself).
        async with readers_locked_out(conn, lock_timeout=DROP_LOCK_TIMEOUT):
            await conn.execute(f'DROP TABLE IF EXISTS "{name}"')
            await faults("hot_day_dropped")
    except asyncpg.LockNotAvailableError:
        logger.info("retention: partition %s busy, deleting its rows instead", name)
        return False
    return True


async def _delete_hot_rows(
    conn: asyncpg.Connection, boundary: dt.datetime, chunk: int, faults: Faults
) -> int:
    deleted = 0
    for statement in _HOT_CHUNKS:
        while True:
            # Triggers take the rows out of their buckets in the same statement.
            count = _count(await conn.execute(statement, boundary, chunk))
            deleted += count
            if count < chunk:
                break
            await faults("hot_chunk_deleted")
    await faults("hot_deleted")
    return deleted


async def _earlier_readers_done(conn: asyncpg.Connection) -> bool:
    """Wait for the readers holding their lock on ``events`` (any of them may have read an
    older boundary); False when they take longer than ``DROP_LOCK_TIMEOUT``."""
    try:
        async with readers_locked_out(conn, lock_timeout=DROP_LOCK_TIMEOUT):
            pass
    except asyncpg.LockNotAvailableError:
        logger.info("retention: readers busy, the cold store's removal waits for the next turn")
        return False
    return True


async def _remove_cold(cold: ColdStore, before: dt.datetime, faults: Faults) -> tuple[str, ...]:
    """Drop the month partitions that end by ``before`` (a UTC midnight) and delete the
    rows before it in the month holding it, in every cold table."""
    month = before.year * 100 + before.month
    limit = cold_instant(before)
    legacy = await cold.has_table(LEGACY_COLD_TABLE)
    dropped: list[str] = []
    for table, column, placeholder in _COLD_TABLES:
        tables = [table, LEGACY_COLD_TABLE] if legacy and placeholder == EVENTS else [table]
        for name in tables:
            for partition in await _partitions(cold, name):
                if partition < month:
                    await cold.execute(_EVERY_PROJECT.cold_drop_partition(partition, table=name))
                    dropped.append(f"{name}:{partition}")
                    await faults("cold_partition_dropped")
        left = await cold.fetch(
            _EVERY_PROJECT.cold(
                f"SELECT count() FROM {placeholder} WHERE {column} < {limit}",
                visible="",
                legacy=legacy and placeholder == EVENTS,
            )
        )
        if not left[0][0]:
            continue
        for name in tables:
            await cold.execute(
                _EVERY_PROJECT.cold_delete(f"{column} < {limit}", table=name, partition=str(month))
                + " SETTINGS mutations_sync = 1"
            )
    await faults("cold_deleted")
    return tuple(dropped)


async def _partitions(cold: ColdStore, table: str) -> list[int]:
    # The table inlined, as the cluster layout readdresses it (ColdLayout.statement).
    rows = await cold.fetch(
        "SELECT DISTINCT partition FROM system.parts"
        f" WHERE database = currentDatabase() AND table = '{table}' AND active"
    )
    return sorted(int(row[0]) for row in rows)


def _day_start(day: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(day, dt.datetime):
        day = day.astimezone(dt.UTC).date()
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[1])


async def _no_faults(step: str) -> None:
    return None


@contextlib.asynccontextmanager
async def retention_removal(
    engines: Engines, *, interval: float = REMOVAL_INTERVAL_SECONDS
) -> AsyncIterator[None]:
    """Run :func:`remove_expired` at once and every ``interval`` seconds while open, when
    retention is set; a turn that finds the archive lock held is skipped."""
    if engines.settings.retention_days is None:
        yield
        return

    async with _WORK.turns(interval, lambda: remove_expired(engines, wait=False)):
        yield
