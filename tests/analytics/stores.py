"""Putting events straight into the hot store, and emptying both tiers between examples."""

from __future__ import annotations

from collections.abc import Sequence

from eventide.analytics.listing import Event
from eventide.archive import cold_batches
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import COLD_BUCKET_TABLES

# The hot columns: the cold store's, but the archive batch.
COLUMNS = cold_batches.COLUMNS[:-1]


async def put_hot(engines: Engines, events: Sequence[Event], *, project: int = 1) -> None:
    if not events:
        return
    async with engines.db.acquire() as conn, conn.transaction():
        await conn.execute(
            "SELECT ensure_event_partitions($1::timestamptz[])", [e.occurred_at for e in events]
        )
        await conn.executemany(
            f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                (
                    project,
                    e.event_id,
                    e.user_id,
                    e.event_type,
                    e.occurred_at,
                    e.received_at,
                    e.properties,
                )
                for e in events
            ],
        )


async def clear(engines: Engines) -> None:
    async with engines.db.acquire() as conn:
        await conn.execute(
            "TRUNCATE events, user_buckets, archive_batches, archive_runs, archive_watermark"
            " CASCADE"
        )
    for table in ("project_events", *COLD_BUCKET_TABLES):
        await engines.cold.execute(f"TRUNCATE TABLE {table}")
