from __future__ import annotations

import asyncio

from eventide.storage import _sql_files, postgres
from eventide.storage.engines import Engines


async def test_migrations_are_recorded_and_rerunning_is_a_no_op(engines: Engines) -> None:
    async with engines.db.acquire() as conn:
        assert await postgres.migrate(conn) == []
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
    assert sorted(versions) == [f.version for f in _sql_files.load("migrations")]


async def test_concurrent_migrators_never_race(engines: Engines) -> None:
    async def run() -> list[str]:
        async with engines.db.acquire() as conn:
            return await postgres.migrate(conn)

    assert await asyncio.gather(*(run() for _ in range(4))) == [[], [], [], []]


async def test_daily_partitions_are_created_on_demand(engines: Engines) -> None:
    async with engines.db.acquire() as conn:
        await conn.execute(
            "SELECT ensure_event_partitions(ARRAY['2026-03-29T23:30:00Z',"
            " '2026-03-30T00:00:00Z']::timestamptz[])"
        )
        names = await conn.fetch(
            "SELECT relname FROM pg_class WHERE relname IN ('events_20260329', 'events_20260330')"
        )
    assert len(names) == 2
