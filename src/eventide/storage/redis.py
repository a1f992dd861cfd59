"""Redis: the state that every API replica must share."""

from __future__ import annotations

import weakref

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError

from eventide.config import Settings

# Each client's scripts, registered on first use.
_scripts: weakref.WeakKeyDictionary[Redis, dict[str, AsyncScript]] = weakref.WeakKeyDictionary()


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


def script(client: Redis, source: str) -> AsyncScript:
    """The Lua script ``source`` on ``client``, sent by its SHA1 (EVALSHA) instead of
    whole with every call; the server is given the text again only when it has lost it
    (a restart, a SCRIPT FLUSH)."""
    registered = _scripts.setdefault(client, {})
    if (found := registered.get(source)) is None:
        found = registered[source] = client.register_script(source)
    return found
