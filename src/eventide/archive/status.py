"""What the storage tiers hold, in total and per project, read in one snapshot of both."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from eventide.archive import runs
from eventide.archive.runs import ArchiveRun
from eventide.archive.tiers import tier_snapshot
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import COPIED_EVENTS, EVENTS, Scope


@dataclass(frozen=True)
class ProjectEvents:
    project: int
    hot_events: int
    cold_events: int


@dataclass(frozen=True)
class StorageStatus:
    hot_events: int
    cold_events: int
    # Events of closed days in the cold store (counted there) whose rows PostgreSQL keeps
    # until they leave the hot window.
    copied_events: int
    archived_through: dt.datetime | None
    hot_window_days: int
    last_run: ArchiveRun | None
    projects: list[ProjectEvents]


async def storage_status(engines: Engines) -> StorageStatus:
    """Event counts per tier (cold: committed batches only) in total and per project, the
    archived-through watermark and the latest run, all as of one PostgreSQL snapshot.

    Server-wide, for administrators: it counts every project's events (of live and of
    deleted projects whose removal has not finished)."""
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        hot = Counter(
            {
                project: count
                for project, count in await tiers.hot.fetch(
                    f"SELECT project_id, count(*) FROM {EVENTS} GROUP BY project_id"
                )
            }
        )
        copied = await tiers.hot.fetchval(f"SELECT count(*) FROM {COPIED_EVENTS}")
        through = await runs.archived_through(tiers.hot)
        last = await runs.last_run(tiers.hot)
        cold = Counter(
            {
                int(project): int(count)
                for project, count in await tiers.cold_fetch(
                    f"SELECT project_id, count() FROM {EVENTS} GROUP BY project_id"
                )
            }
        )
    return StorageStatus(
        hot_events=sum(hot.values()),
        cold_events=sum(cold.values()),
        copied_events=copied,
        archived_through=through,
        hot_window_days=engines.settings.hot_window_days,
        last_run=last,
        projects=[
            ProjectEvents(project=project, hot_events=hot[project], cold_events=cold[project])
            for project in sorted(hot.keys() | cold.keys())
        ],
    )
