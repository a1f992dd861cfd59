"""Redis: the state that every API replica must share."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError

from eventide.config import Settings


def connect_redis(url: str, *, timeout: float = Settings.redis_timeout_seconds) -> Redis:
    # Connections are opened on demand, so the client outlives a Redis restart: one
    # immediate retry replaces a pooled connection that the restart closed. A timeout
    # is not retried, which would only double the wait of every call during an outage.
    return Redis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(ConnectionError,)),
        health_check_interval=30,
    )


async def ping(client: Redis) -> bool:
    try:
        return bool(await client.ping())
    except Exception:
        return False
