"""The engines a running Eventide holds: opened once, shared by every request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass

import asyncpg
from redis.asyncio import Redis

from eventide.config import Settings
from eventide.storage import postgres
from eventide.storage import redis as redis_store
from eventide.storage.clickhouse import ColdStore, open_cold_store
from eventide.storage.embedded import embedded_postgres, embedded_redis

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, kw_only=True)
class Engines:
    settings: Settings
    db: asyncpg.Pool
    cold: ColdStore
    redis: Redis

    def redis_key(self, *parts: str) -> str:
        return self.settings.redis_key_prefix + ":".join(parts)

    async def readiness(self) -> dict[str, bool]:
        """Whether each engine answers now, each within a short timeout."""
        checks = {
            "postgres": self._postgres_ok(),
            "clickhouse": self.cold.ping(),
            "redis": redis_store.ping(self.redis),
        }
        results = await asyncio.gather(*(_answers(check) for check in checks.values()))
        return dict(zip(checks, results, strict=True))

    async def _postgres_ok(self) -> bool:
        async with self.db.acquire(timeout=READY_TIMEOUT_SECONDS) as conn:
            return bool(await conn.fetchval("SELECT true"))


async def _answers(check: Awaitable[bool]) -> bool:
    try:
        return await asyncio.wait_for(check, READY_TIMEOUT_SECONDS)
    except Exception:
        return False


@contextlib.asynccontextmanager
async def open_engines(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Engines]:
    """Open every engine (embedded ones for unset URLs), migrate, and close them on exit."""
    with contextlib.ExitStack() as embedded:
        database_url = settings.database_url or embedded.enter_context(
            embedded_postgres(settings.data_dir)
        )
        redis_url = settings.redis_url or embedded.enter_context(embedded_redis(settings.data_dir))
        async with contextlib.AsyncExitStack() as stack:
            db = await postgres.create_pool(
                database_url,
                size=settings.database_pool_size,
                connect_timeout=settings.database_connect_timeout_seconds,
                acquire_timeout=settings.database_acquire_timeout_seconds,
                command_timeout=settings.database_command_timeout_seconds,
            )
            stack.push_async_callback(db.close)
            cold = await open_cold_store(
                settings.clickhouse_url,
                embedded_path=str(settings.data_dir / "clickhouse"),
                cluster=settings.clickhouse_cluster,
                connect_timeout=settings.clickhouse_connect_timeout_seconds,
                send_receive_timeout=settings.clickhouse_send_receive_timeout_seconds,
            )
            stack.push_async_callback(cold.close)
            redis = redis_store.connect_redis(redis_url, timeout=settings.redis_timeout_seconds)
            stack.push_async_callback(redis.aclose)
            if migrate:
                async with db.acquire() as conn:
                    await postgres.migrate(conn)
                await cold.migrate()
            yield Engines(settings=settings, db=db, cold=cold, redis=redis)
