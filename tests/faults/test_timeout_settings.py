"""The settings that bound every wait on an engine, and that they reach the clients."""

from __future__ import annotations

import asyncio

import pytest

from eventide.config import ConfigError, load_settings
from eventide.storage import postgres
from eventide.storage.engines import Engines
from tests.waiting import backend_waiting_for_lock

TIMEOUTS = {
    "EVENTIDE_DATABASE_CONNECT_TIMEOUT_SECONDS": "database_connect_timeout_seconds",
    "EVENTIDE_DATABASE_ACQUIRE_TIMEOUT_SECONDS": "database_acquire_timeout_seconds",
    "EVENTIDE_DATABASE_COMMAND_TIMEOUT_SECONDS": "database_command_timeout_seconds",
    "EVENTIDE_REDIS_TIMEOUT_SECONDS": "redis_timeout_seconds",
    "EVENTIDE_CLICKHOUSE_CONNECT_TIMEOUT_SECONDS": "clickhouse_connect_timeout_seconds",
    "EVENTIDE_CLICKHOUSE_SEND_RECEIVE_TIMEOUT_SECONDS": "clickhouse_send_receive_timeout_seconds",
}


def test_defaults_are_a_few_seconds() -> None:
    settings = load_settings({"EVENTIDE_JWT_SECRET": "s" * 32})
    values = {attr: getattr(settings, attr) for attr in TIMEOUTS.values()}
    assert values == {
        "database_connect_timeout_seconds": 5.0,
        "database_acquire_timeout_seconds": 10.0,
        "database_command_timeout_seconds": 30.0,
        "redis_timeout_seconds": 2.0,
        "clickhouse_connect_timeout_seconds": 5.0,
        "clickhouse_send_receive_timeout_seconds": 30.0,
    }


@pytest.mark.parametrize(("variable", "attr"), TIMEOUTS.items())
def test_each_is_read_from_its_variable(variable: str, attr: str) -> None:
    settings = load_settings({"EVENTIDE_JWT_SECRET": "s" * 32, variable: "0.5"})
    assert getattr(settings, attr) == 0.5
    with pytest.raises(ConfigError, match=variable):
        load_settings({"EVENTIDE_JWT_SECRET": "s" * 32, variable: "0"})


async def test_the_redis_client_uses_its_timeout(engines: Engines) -> None:
    options = engines.redis.connection_pool.connection_kwargs
    assert options["socket_connect_timeout"] == engines.settings.redis_timeout_seconds
    assert options["socket_timeout"] == engines.settings.redis_timeout_seconds


async def test_migrations_are_not_bound_by_the_command_timeout(engines: Engines) -> None:
    assert engines.settings.database_url is not None
    pool = await postgres.create_pool(engines.settings.database_url, command_timeout=0.2)
    try:
        async with pool.acquire() as holder, pool.acquire() as starter:
            # Another starter is migrating: this one waits for it, past the timeout.
            await holder.execute("SELECT pg_advisory_lock($1)", postgres._MIGRATION_LOCK)
            migrating = asyncio.create_task(postgres.migrate(starter))
            waiting = await backend_waiting_for_lock(holder, "%pg_advisory_lock%")
            # Past three command timeouts, it still waits for the lock, not failed.
            await asyncio.sleep(0.6)
            assert not migrating.done()
            assert waiting == await backend_waiting_for_lock(holder, "%pg_advisory_lock%")
            await holder.execute("SELECT pg_advisory_unlock($1)", postgres._MIGRATION_LOCK)
            assert await migrating == []
            with pytest.raises(TimeoutError):
                await starter.execute("SELECT pg_sleep(1)")
    finally:
        await pool.close()
