"""Test helpers: erasures run step by step, and what a project holds for every reader."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from eventide.analytics.dau import daily_active_users
from eventide.analytics.top_events import top_events
from eventide.lifecycle import store
from eventide.lifecycle.store import ErasureRecord
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, TYPE_BUCKETS, USER_BUCKETS, Scope
from tests.archive.tiers import NOW, read_tiers


async def erase(engines: Engines, project: int, user_id: str) -> ErasureRecord:
    """The erasing transaction alone: its completion is left to the test."""
    async with engines.db.acquire() as conn:
        return await store.erase(conn, project=project, user_id=user_id, requested_by=None)


async def answers(engines: Engines, project: int) -> dict[str, Any]:
    """What readers of ``project`` see: each tier's events, dau and topEvents."""
    first, last = dt.date(2026, 10, 1), NOW.date()
    tiers = await read_tiers(engines, project=project)
    return {
        "events": tiers.all,
        "dau": await daily_active_users(
            engines, project=project, first=first, last=last, timezone="UTC"
        ),
        "top": await top_events(
            engines, project=project, first=first, last=last, timezone="UTC", limit=10
        ),
    }


async def cold_rows(engines: Engines, project: int, user_id: str) -> int:
    """Every cold row of the user, whatever its batch's state."""
    sql = Scope.of(project).cold(
        f"SELECT count() FROM {EVENTS} WHERE user_id = %(u)s", visible="", legacy=True
    )
    return int((await engines.cold.fetch(sql, {"u": user_id}))[0][0])


async def cold_buckets(engines: Engines, project: int) -> Counter[tuple[str, str, int]]:
    """Every cold bucket count of the project, whatever its batch's state, by table,
    user and batch."""
    scope, found = Scope.of(project), Counter[tuple[str, str, int]]()
    for name, placeholder in (("user", USER_BUCKETS), ("type", TYPE_BUCKETS)):
        sql = scope.cold(
            f"SELECT user_id, batch_id, sum(events) FROM {placeholder} GROUP BY user_id, batch_id",
            visible="",
            legacy=False,
        )
        for user, batch, events in await engines.cold.fetch(sql):
            found[(name, user, int(batch))] += int(events)
    return found


async def record(engines: Engines, erasure: int) -> ErasureRecord:
    [found] = [
        e
        for e in await store.erasures_of(
            engines.db,
            project=await engines.db.fetchval(
                "SELECT project_id FROM erasures WHERE id = $1", erasure
            ),
        )
        if e.id == erasure
    ]
    return found
