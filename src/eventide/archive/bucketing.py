"""Cold buckets for the batches archived before buckets existed.

Every batch the archiver copies now is bucketed before it commits. Batches committed
earlier have ``bucketed = false``; while any has, readers count the cold rows
themselves. Each pass buckets them, a batch at a time: its buckets (of an attempt that
died halfway) are deleted, written again, and then the batch is marked bucketed, so a
pass killed anywhere leaves either a batch readers do not count from buckets or one
whose buckets are complete.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from eventide.archive.cold_batches import Batch, insert_buckets
from eventide.storage.clickhouse import ColdStore
from eventide.storage.tenant_sql import COLD_BUCKET_TABLES, TYPE_BUCKETS, USER_BUCKETS, Scope

# Batches bucketed per pass; the rest wait for the next pass.
BUCKET_LIMIT = 1000


async def bucket_old_batches(
    conn: asyncpg.Connection, cold: ColdStore, *, faults: Callable[[str], Awaitable[None]]
) -> int:
    """Bucket committed batches that have no buckets yet; return how many. Must run under
    the archive lock. ``faults`` is called with ``old_batch_bucketed`` once a batch's
    buckets are written, before the batch is marked bucketed."""
    rows = await conn.fetch(
        """SELECT id, project_id, day FROM archive_batches
           WHERE state = 'committed' AND NOT bucketed AND NOT legacy ORDER BY id LIMIT $1""",
        BUCKET_LIMIT,
    )
    for row in rows:
        batch = Batch(row["id"], row["project_id"], row["day"])
        scope, params = Scope.of(batch.project), {"id": batch.id, "month": _month(batch)}
        for placeholder, table in zip(
            (USER_BUCKETS, TYPE_BUCKETS), COLD_BUCKET_TABLES, strict=True
        ):
            left = await cold.fetch(
                scope.cold(
                    f"SELECT count() FROM {placeholder}", visible="batch_id = %(id)s", legacy=False
                ),
                params,
            )
            if left[0][0]:
                await cold.execute(
                    scope.cold_delete("batch_id = %(id)s", table=table, partition="%(month)s")
                    + " SETTINGS mutations_sync = 1",
                    params,
                )
        await insert_buckets(cold, batch=batch)
        await faults("old_batch_bucketed")
        await conn.execute("UPDATE archive_batches SET bucketed = true WHERE id = $1", batch.id)
    return len(rows)


def _month(batch: Batch) -> int:
    return batch.day.year * 100 + batch.day.month
