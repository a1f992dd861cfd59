"""Servers for the live-event tests: the app in the test's event loop, on the session's
engines (quick), and separate ``eventide serve`` processes (real replicas)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
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
