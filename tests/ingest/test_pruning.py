from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest

from eventide.ingest.pruning import ledger_pruning, prune_ledger
from eventide.ingest.store import prune_event_ids
from eventide.storage.engines import Engines


async def insert_ids(engines: Engines, received_at: dt.datetime, count: int, prefix: str) -> None:
    await engines.db.execute(
        "INSERT INTO event_ids (project_id, event_id, received_at)"
        " SELECT 1, $1 || n, $2 FROM generate_series(1, $3) AS n",
        prefix,
        received_at,
        count,
    )


async def remaining(engines: Engines) -> list[str]:
    rows = await engines.db.fetch("SELECT event_id FROM event_ids ORDER BY event_id")
    return [r["event_id"] for r in rows]


async def test_pruning_removes_only_ids_received_before_the_cutoff(engines: Engines) -> None:
    cutoff = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    await insert_ids(engines, cutoff - dt.timedelta(microseconds=1), 25, "old")
    await insert_ids(engines, cutoff, 2, "new")
    removed = await prune_event_ids(engines.db, received_before=cutoff, chunk=10)
    assert removed == 25
    assert await remaining(engines) == ["new1", "new2"]


async def test_the_ledger_keeps_the_dedup_window(engines: Engines) -> None:
    now = dt.datetime.now(dt.UTC)
    window = dt.timedelta(days=engines.settings.dedup_window_days)
    await insert_ids(engines, now - window - dt.timedelta(minutes=1), 3, "expired")
    await insert_ids(engines, now - window + dt.timedelta(minutes=1), 1, "kept")
    assert await prune_ledger(engines) == 3
    assert await remaining(engines) == ["kept1"]


async def test_the_background_task_prunes_on_start_and_stops_cleanly(
    engines: Engines, caplog: pytest.LogCaptureFixture
) -> None:
    expired = dt.datetime.now(dt.UTC) - dt.timedelta(days=engines.settings.dedup_window_days + 1)
    await insert_ids(engines, expired, 2, "expired")
    caplog.set_level(logging.INFO)
    async with ledger_pruning(engines, interval_seconds=3600):
        (task,) = _pruning_tasks()
        for _ in range(100):
            if not await remaining(engines):
                break
            await asyncio.sleep(0.02)
        assert await remaining(engines) == []
        assert not task.done()  # asleep until the next turn
    # Stopped: the task was cancelled and awaited, not left running or failed.
    assert task.cancelled()
    assert not _pruning_tasks()
    assert [r.getMessage() for r in caplog.records if r.name == "eventide.ingest.pruning"] == [
        "pruned 2 event ids past the dedup window"
    ]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def _pruning_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "eventide-ledger-pruning"]
