"""Putting events straight into the hot and cold tiers, and the snapshot-visible truth."""

from __future__ import annotations

import json
from collections.abc import Sequence

from eventide.analytics.listing import Event
from eventide.services import Services

COLUMNS = ("event_id", "user_id", "event_type", "occurred_at", "received_at", "properties")


async def put_hot(services: Services, events: Sequence[Event]) -> None:
    if not events:
        return
    async with services.db.acquire() as conn, conn.transaction():
        await conn.execute(
            "SELECT ensure_event_partitions($1::timestamptz[])", [e.occurred_at for e in events]
        )
        await conn.executemany(
            f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ($1, $2, $3, $4, $5, $6)",
            [
                (e.event_id, e.user_id, e.event_type, e.occurred_at, e.received_at, e.properties)
                for e in events
            ],
        )


async def put_cold(services: Services, events: Sequence[Event], *, committed: bool = True) -> int:
    """Copy ``events`` into the cold store under a new archive batch; return its id.

    An uncommitted batch stands for an interrupted copy: its rows must stay invisible.
    """
    async with services.db.acquire() as conn:
        run_id = await conn.fetchval(
            "INSERT INTO archive_runs (trigger, cutoff) VALUES ('cli', now()) RETURNING id"
        )
        batch_id: int = await conn.fetchval(
            "INSERT INTO archive_batches (run_id, day, state) VALUES ($1, current_date, 'copying')"
            " RETURNING id",
            run_id,
        )
    await services.cold.insert(
        "events",
        (*COLUMNS, "batch_id"),
        [
            (
                e.event_id,
                e.user_id,
                e.event_type,
                e.occurred_at,
                e.received_at,
                json.dumps(e.properties) if e.properties is not None else "",
                batch_id,
            )
            for e in events
        ],
    )
    async with services.db.acquire() as conn:
        await conn.execute(
            "UPDATE archive_batches SET state = $2, finished_at = now(), moved = $3 WHERE id = $1",
            batch_id,
            "committed" if committed else "aborted",
            len(events),
        )
    return batch_id


async def clear(services: Services) -> None:
    async with services.db.acquire() as conn:
        await conn.execute("TRUNCATE events, archive_batches, archive_runs CASCADE")
    await services.cold.execute("TRUNCATE TABLE events")
