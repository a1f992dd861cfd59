"""What a running process needs for live events, opened and closed with it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from eventide.live.hub import LiveHub
from eventide.live.leases import Leases
from eventide.live.publisher import LivePublisher, publishing
from eventide.storage.engines import Engines


@dataclass(frozen=True)
class Live:
    publisher: LivePublisher
    hub: LiveHub
    leases: Leases


@contextlib.asynccontextmanager
async def live_events(engines: Engines) -> AsyncIterator[Live]:
    settings = engines.settings
    prefix = settings.redis_key_prefix
    hub = LiveHub(engines.redis, key_prefix=prefix, queue_events=settings.live_queue_events)
    leases = Leases(engines.redis, key_prefix=prefix, cap=settings.live_max_subscriptions)
    try:
        async with publishing(engines.redis, key_prefix=prefix) as publisher:
            yield Live(publisher=publisher, hub=hub, leases=leases)
    finally:
        await hub.close()
