"""A process's subscribers, fed from one Redis connection subscribed to the channels of
the projects they follow.

Redis sends each message of a channel once per subscribed connection, so each
subscriber here receives each published call once. Messages published while the
connection is down are not kept by Redis: when the connection fails or has been made
again, every subscriber is dropped (told so), since it may have missed events; clients
reconnect and catch up with the ``events`` query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import Connection

from eventide.live.subscriber import Subscriber, SubscriberDropped
from eventide.live.wire import channel, decode

logger = logging.getLogger(__name__)

DROPPED = Counter(
    "eventide_live_dropped_subscribers",
    "Live subscribers disconnected, by reason: slow (fell behind) or redis (connection lost).",
    ["reason"],
)
# How long the reader waits for a message before it checks the connection's health.
_READ_SECONDS = 5.0
_LOST = "The server lost its connection to Redis: live events may have been missed."


class _Connection:
    """One pub/sub connection and whether it has been made again since it was opened
    (redis-py then subscribes its channels again, but what was published meanwhile is
    gone)."""

    def __init__(self, redis: Redis) -> None:
        self.pubsub: PubSub = redis.pubsub(ignore_subscribe_messages=True)
        self.made_again = False

    def reconnected(self, connection: Connection) -> None:
        self.made_again = True


class LiveHub:
    def __init__(self, redis: Redis, *, key_prefix: str, queue_events: int) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self._capacity = queue_events
        self._subscribers: dict[int, set[Subscriber]] = {}
        self._connection: _Connection | None = None
        self._reader: asyncio.Task[None] | None = None
        # Subscribing, unsubscribing and giving a connection up happen one at a time.
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def subscription(
        self, project: int, *, event_type: str | None = None
    ) -> AsyncIterator[Subscriber]:
        """A subscriber of ``project``'s live events while the block runs; raises
        Redis's error when the channel cannot be subscribed to."""
        subscriber = Subscriber(project, event_type, capacity=self._capacity)
        async with self._lock:
            if project not in self._subscribers:
                await self._listen(project)
            self._subscribers.setdefault(project, set()).add(subscriber)
        try:
            yield subscriber
        finally:
            # Shielded: a cancelled subscription still gives its channel up.
            await asyncio.shield(self._leave(subscriber))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._forget(self._connection)

    async def _listen(self, project: int) -> None:
        if self._connection is None:
            self._connection = _Connection(self._redis)
        connection = self._connection
        pubsub = connection.pubsub
        try:
            await pubsub.subscribe(channel(self._prefix, project))
        except Exception:
            if not pubsub.channels:
                await self._forget(connection)
            raise
        assert pubsub.connection is not None
        # Called each time the connection is made again, not the first time.
        pubsub.connection.register_connect_callback(connection.reconnected)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(connection), name="live-hub")

    async def _leave(self, subscriber: Subscriber) -> None:
        async with self._lock:
            peers = self._subscribers.get(subscriber.project)
            if peers is None or subscriber not in peers:
                return
            peers.discard(subscriber)
            if peers:
                return
            del self._subscribers[subscriber.project]
            if self._connection is not None:
                try:
                    await self._connection.pubsub.unsubscribe(
                        channel(self._prefix, subscriber.project)
                    )
                except Exception as error:
                    logger.warning("live channel not unsubscribed: %s", type(error).__name__)

    async def _read(self, connection: _Connection) -> None:
        try:
            while not connection.made_again:
                message = await connection.pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=_READ_SECONDS
                )
                if message is not None and message["type"] == "message":
                    self._dispatch(message["channel"], message["data"])
            why = "made again"
        except asyncio.CancelledError:
            raise
        except Exception as error:
            why = f"lost ({type(error).__name__})"
        logger.warning("live events: Redis connection %s; subscribers dropped", why)
        async with self._lock:
            if self._connection is connection:
                # Everyone leaves at once; each one's own leaving then finds nothing.
                for peers in self._subscribers.values():
                    for subscriber in peers:
                        subscriber.drop(SubscriberDropped(_LOST, slow=False))
                        DROPPED.labels(reason="redis").inc()
                self._subscribers.clear()
                await self._forget(connection)

    def _dispatch(self, channel_name: bytes, data: bytes) -> None:
        try:
            project, events = decode(data)
        except (ValueError, KeyError, TypeError) as error:
            logger.warning("live message ignored: %s", error)
            return
        if channel_name.decode() != channel(self._prefix, project):
            logger.warning("live message ignored: published on another project's channel")
            return
        for subscriber in list(self._subscribers.get(project, ())):
            if not subscriber.deliver(project, events):
                DROPPED.labels(reason="slow").inc()

    async def _forget(self, connection: _Connection | None) -> None:
        if connection is None:
            return
        if self._connection is connection:
            self._connection = None
        with contextlib.suppress(Exception):
            await connection.pubsub.aclose()  # type: ignore[no-untyped-call]
