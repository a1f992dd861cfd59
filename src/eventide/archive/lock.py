"""The archive lock: whatever rewrites archived rows (an archive pass, the retention
removal, the purge of a deleted project, the completion of erasures) runs alone across
every process, under one PostgreSQL advisory lock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg

logger = logging.getLogger(__name__)

# Any fixed 64-bit number, the same in every Eventide process.
ARCHIVE_LOCK = 0x45564E544152
# How often a pass that waits for a running one asks for the lock again.
LOCK_POLL_SECONDS = 0.25
# How long dropping a whole day (an archive pass's commit, retention's removal) may wait
# for readers before falling back to deleting its rows.
DROP_LOCK_TIMEOUT = "2s"


class ArchiveBusy(Exception):
    """Another pass holds the archive lock (raised only when not waiting for it)."""


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


async def _unlock(conn: asyncpg.Connection) -> None:
    # A connection broken mid-pass has lost the lock already; the pool discards it.
    if conn.is_closed():
        return
    try:
        await conn.execute("SELECT pg_advisory_unlock($1)", ARCHIVE_LOCK)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        logger.warning("could not release the archive lock; the pool resets it", exc_info=True)
