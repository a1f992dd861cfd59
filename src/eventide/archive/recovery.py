"""The first step of every archive pass: settle what a dead pass left behind."""

from __future__ import annotations

import datetime as dt
import logging

import asyncpg

from eventide.archive import cold_batches, runs
from eventide.storage.clickhouse import ColdStore

logger = logging.getLogger(__name__)

# Aborted batches cleaned per pass; the rest wait for the next pass (still excluded).
CLEAN_LIMIT = 1000
# An insert sent by a process that then died may still land on a ClickHouse server for a
# while (until its receive timeout, 300 s by default). Rows deleted earlier than that
# could reappear, so a batch leaves the readers' exclusion list only once its rows are
# gone and it was aborted at least this long ago; until then every pass deletes again.
SETTLE_AFTER = dt.timedelta(minutes=15)


async def recover(conn: asyncpg.Connection, cold: ColdStore) -> None:
    """Abort batches left ``copying`` and delete the cold rows of aborted batches.

    Must run under the archive lock. The deletion is best effort: rows of an aborted
    batch are invisible to readers whether or not they are gone; a batch leaves the
    readers' exclusion list only once its rows are confirmed deleted (and ``SETTLE_AFTER``
    has passed).
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
        await runs.mark_cleaned(
            conn, batch_ids=[batch.id for batch in batches], aborted_for=SETTLE_AFTER
        )
