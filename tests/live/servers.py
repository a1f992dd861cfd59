"""Servers for the live-event tests: the app in the test's event loop, on the session's
engines (quick), and separate ``eventide serve`` processes (real replicas)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from redis.asyncio import Redis

from eventide.app import create_app
from eventide.live.broker import live_events
from eventide.storage.engines import Engines


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
    settings = dataclasses.replace(engines.settings, **overrides)
    engines = dataclasses.replace(engines, settings=settings)
    app = create_app(settings)
    live_engines = engines if live_redis is None else dataclasses.replace(engines, redis=live_redis)
    async with live_events(live_engines) as live:
        app.state.engines = engines
        app.state.live = live
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
        )
        task = asyncio.create_task(server.serve())
        for _ in range(500):  # uvicorn offers no event to wait on
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started, "the server did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield Server(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql")
        finally:
            server.should_exit = True
            await task
