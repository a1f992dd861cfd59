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


async def test_a_connection_that_held_session_state_is_reset_on_release(
    engines: Engines,
) -> None:
    assert engines.settings.database_url is not None
    pool = await postgres.create_pool(engines.settings.database_url, size=1)
    held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    try:
        async with pool.acquire() as conn:
            postgres.holds_session_state(conn)
            await conn.execute("SELECT pg_advisory_lock(4242)")
            await conn.execute("SET application_name = 'somebody else'")
            pid = conn.get_server_pid()
        async with pool.acquire() as conn:
            assert conn.get_server_pid() == pid  # the same session, one user later
            assert await conn.fetchval(held) == 0
            assert await conn.fetchval("SHOW application_name") == "eventide"
    finally:
        await pool.close()
