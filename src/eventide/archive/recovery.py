"""The first step of every archive pass: settle what a dead pass left behind."""

from __future__ import annotations

import logging

import asyncpg

from eventide.archive import cold_batches, runs
from eventide.storage.clickhouse import ColdStore

logger = logging.getLogger(__name__)

# Aborted batches cleaned per pass; the rest wait for the next pass (still excluded).
CLEAN_LIMIT = 1000


async def recover(conn: asyncpg.Connection, cold: ColdStore) -> None:
    """Abort batches left ``copying`` and delete the cold rows of aborted batches.

    Must run under the archive lock. The deletion is best effort: rows of an aborted
    batch are invisible to readers whether or not they are gone; a batch leaves the
    readers' exclusion list only once its rows are confirmed deleted.
    """
    aborted = await runs.abandon_interrupted(conn)
    if aborted:
        logger.warning("aborted %s archive batches of an interrupted pass", aborted)
    batches = await runs.uncleaned_aborted(conn, limit=CLEAN_LIMIT)
    if not batches:
        return
    try:
        gone = await cold_batches.delete_batches(cold, batches=batches)
    except Exception:
        logger.warning("could not delete cold rows of aborted archive batches", exc_info=True)
        return
    if gone:
        await runs.mark_cleaned(conn, batch_ids=[batch_id for batch_id, _ in batches])
