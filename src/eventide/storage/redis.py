"""Redis: the state that every API replica must share."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError

from eventide.config import Settings


def connect_redis(url: str, *, timeout: float = Settings.redis_timeout_seconds) -> Redis:
    # Connections are opened on demand, so the client outlives a Redis restart. One
    # immediate retry replaces a pooled connection the restart closed; the library's
    # default (ten retries with backoff) would make every call of an outage slow, and
    # a timeout is not retried: it would only double the wait.
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
