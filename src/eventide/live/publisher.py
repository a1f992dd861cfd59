"""Publishing accepted events to their project's channel, apart from the ingest call.

An ingest call only hands its accepted events to :meth:`LivePublisher.offer`, which
never waits and never raises: the call has already committed, and its answer must not
depend on Redis. One task per process publishes the offers in the order they were made;
while Redis is down or slow the offers that do not fit in the bounded backlog are
dropped (counted in ``eventide_live_unpublished_events``), and ingestion goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from prometheus_client import Counter
from redis.asyncio import Redis

from eventide.live.wire import AcceptedEvents, channel, encode

logger = logging.getLogger(__name__)

UNPUBLISHED = Counter(
    "eventide_live_unpublished_events",
    "Accepted events not published to live subscribers: Redis was down or too slow.",
)
# Ingest calls waiting to be published; beyond this they are dropped.
MAX_BACKLOG_CALLS = 1000


class LivePublisher:
    def __init__(self, redis: Redis, *, key_prefix: str) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self._backlog: asyncio.Queue[AcceptedEvents] = asyncio.Queue(MAX_BACKLOG_CALLS)

    def offer(self, accepted: AcceptedEvents) -> None:
        """Publish ``accepted`` soon; returns at once, whatever the state of Redis."""
        if not len(accepted):
            return
        try:
            self._backlog.put_nowait(accepted)
        except asyncio.QueueFull:
            UNPUBLISHED.inc(len(accepted))

    async def drained(self) -> None:
        """Wait until every offer made so far has been published or dropped."""
        await self._backlog.join()

    async def _publish_forever(self) -> None:
        while True:
            accepted = await self._backlog.get()
            try:
                await self._redis.publish(channel(self._prefix, accepted.project), encode(accepted))
            except Exception as error:
                # Redis down or slow: these events are not sent live (they are stored).
                UNPUBLISHED.inc(len(accepted))
                logger.warning("live events not published: %s", type(error).__name__)
            finally:
                self._backlog.task_done()


@contextlib.asynccontextmanager
async def publishing(redis: Redis, *, key_prefix: str) -> AsyncIterator[LivePublisher]:
    """A publisher whose task runs until the block exits."""
    publisher = LivePublisher(redis, key_prefix=key_prefix)
    task = asyncio.create_task(publisher._publish_forever(), name="live-publisher")
    try:
        yield publisher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
