"""Servers for the live-event tests: the app in the test's event loop, on the session's
engines (quick), and separate ``eventide serve`` processes (real replicas)."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from eventide.live.broker import live_events
from eventide.storage.engines import Engines
from tests.graphiql.test_browser import live_server


@dataclass(frozen=True)
class Server:
    http_url: str
    ws_url: str


@contextlib.asynccontextmanager
async def cuttable_redis(
    engines: Engines,
) -> AsyncIterator[tuple[Redis, Callable[[], Awaitable[None]]]]:
    """A Redis client of its own for live events, and a function that cuts its pub/sub
    connection (and only that one: other clients of the same Redis are left alone)."""
    name = f"live-{uuid.uuid4().hex[:8]}"
    assert engines.settings.redis_url is not None
    redis = Redis.from_url(engines.settings.redis_url, client_name=name)

    async def cut() -> None:
        clients = await engines.redis.client_list(_type="pubsub")
        ids = [client["id"] for client in clients if client.get("name") == name]
        assert len(ids) == 1, clients
        await engines.redis.client_kill_filter(_id=ids[0])

    try:
        yield redis, cut
    finally:
        await redis.aclose()


@contextlib.asynccontextmanager
async def in_loop_server(
    engines: Engines, *, live_redis: Redis | None = None, **overrides: Any
) -> AsyncIterator[Server]:
    """The app on a real port, in this event loop, with live events of its own (through
    ``live_redis``, when given, instead of the engines' Redis)."""
    # The hub reads the overridden settings too (its queue size, its cap).
    settings = dataclasses.replace(engines.settings, **overrides)
    live_engines = dataclasses.replace(engines, settings=settings)
    if live_redis is not None:
        live_engines = dataclasses.replace(live_engines, redis=live_redis)
    async with (
        live_events(live_engines) as live,
        live_server(engines, live=live, **overrides) as url,
    ):
        yield Server(url, f"{url.replace('http://', 'ws://', 1)}/graphql")
