"""What the storage tiers hold, read in one snapshot of both."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from eventide.archive import runs
from eventide.archive.runs import ArchiveRun
from eventide.archive.tiers import tier_snapshot
from eventide.storage.engines import Engines


@dataclass(frozen=True)
class StorageStatus:
    hot_events: int
    cold_events: int
    archived_through: dt.datetime | None
    hot_window_days: int
    last_run: ArchiveRun | None


async def storage_status(engines: Engines) -> StorageStatus:
    """Event counts per tier (cold: committed batches only), the archived-through
    watermark and the latest run, all as of one PostgreSQL snapshot."""
    async with tier_snapshot(engines) as tiers:
        hot: int = await tiers.hot.fetchval("SELECT count(*) FROM events")
        through = await runs.archived_through(tiers.hot)
        last = await runs.last_run(tiers.hot)
        predicate, params = tiers.visibility.sql()
        rows = await engines.cold.fetch(f"SELECT count() FROM events WHERE {predicate}", params)
    return StorageStatus(
        hot_events=hot,
        cold_events=int(rows[0][0]),
        archived_through=through,
        hot_window_days=engines.settings.hot_window_days,
        last_run=last,
    )
