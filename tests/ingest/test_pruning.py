from __future__ import annotations

import asyncio
import datetime as dt

from eventide.ingest.pruning import ledger_pruning, prune_ledger
from eventide.ingest.store import prune_event_ids
from eventide.services import Services


async def insert_ids(services: Services, received_at: dt.datetime, count: int, prefix: str) -> None:
    await services.db.execute(
        "INSERT INTO event_ids (event_id, received_at)"
        " SELECT $1 || n, $2 FROM generate_series(1, $3) AS n",
        prefix,
        received_at,
        count,
    )


async def remaining(services: Services) -> list[str]:
    rows = await services.db.fetch("SELECT event_id FROM event_ids ORDER BY event_id")
    return [r["event_id"] for r in rows]


async def test_pruning_removes_only_ids_received_before_the_cutoff(services: Services) -> None:
    cutoff = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    await insert_ids(services, cutoff - dt.timedelta(microseconds=1), 25, "old")
    await insert_ids(services, cutoff, 2, "new")
    removed = await prune_event_ids(services.db, received_before=cutoff, chunk=10)
    assert removed == 25
    assert await remaining(services) == ["new1", "new2"]


async def test_the_ledger_keeps_the_dedup_window(services: Services) -> None:
    now = dt.datetime.now(dt.UTC)
    window = dt.timedelta(days=services.settings.dedup_window_days)
    await insert_ids(services, now - window - dt.timedelta(minutes=1), 3, "expired")
    await insert_ids(services, now - window + dt.timedelta(minutes=1), 1, "kept")
    assert await prune_ledger(services) == 3
    assert await remaining(services) == ["kept1"]


async def test_the_background_task_prunes_on_start_and_stops_cleanly(services: Services) -> None:
    expired = dt.datetime.now(dt.UTC) - dt.timedelta(days=services.settings.dedup_window_days + 1)
    await insert_ids(services, expired, 2, "expired")
    async with ledger_pruning(services, interval_seconds=3600):
        for _ in range(100):
            if not await remaining(services):
                break
            await asyncio.sleep(0.02)
        assert await remaining(services) == []
