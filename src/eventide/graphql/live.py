"""The ``liveEvents`` subscription: a project's events as they are accepted, over
WebSocket (``graphql-transport-ws`` at ``/graphql``).

Access is that of ``events``, checked when the subscription starts; each principal holds
at most ``EVENTIDE_LIVE_MAX_SUBSCRIPTIONS`` at once on all replicas together. A
subscriber that falls behind, or whose server lost Redis, is disconnected: the socket
is closed with :data:`SLOW_CLOSE_CODE` or :data:`LOST_CLOSE_CODE` and a reason, so the
client knows it may have missed events and catches up with ``events``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated

import strawberry
from redis.exceptions import RedisError
from starlette.websockets import WebSocket

from eventide.analytics import listing
from eventide.auth.principal import TokenScope
from eventide.errors import RateLimited, Unavailable
from eventide.graphql.analytics_types import Event
from eventide.graphql.context import Info
from eventide.graphql.permissions import scoped
from eventide.graphql.project_argument import ProjectIdArgument, project_of
from eventide.live.broker import Live
from eventide.live.leases import LEASE_SECONDS, RENEW_SECONDS, Lease
from eventide.live.subscriber import Subscriber, SubscriberDropped
from eventide.projects.roles import READS
from eventide.storable import checked_text

logger = logging.getLogger(__name__)

# Close codes of the application's own range (graphql-transport-ws uses 4400-4499).
SLOW_CLOSE_CODE = 4008
LOST_CLOSE_CODE = 4013

EventTypeArgument = Annotated[
    str | None,
    strawberry.argument(name="eventType", description="Only events of this type."),
]


@strawberry.type
class LiveSubscription:
    @strawberry.subscription(
        extensions=scoped(TokenScope.READ),
        description="Each event of the project as it is accepted (after its ingestEvents "
        "call commits), optionally of one type. Over WebSocket (graphql-transport-ws).",
    )
    async def live_events(
        self,
        info: Info,
        project_id: ProjectIdArgument = None,
        event_type: EventTypeArgument = None,
    ) -> AsyncIterator[Event]:
        # Checked before the stream is returned: a refusal is the operation's `error`.
        context = info.context
        checked_text("eventType", event_type)
        project = await project_of(info, project_id, need=READS)
        live = context.live
        assert live is not None, "the application opens live events with the engines"
        assert context.principal is not None
        try:
            lease = await live.leases.take(context.principal.key)
        except RedisError as error:
            raise Unavailable("Live events are unavailable right now; retry shortly") from error
        if lease is None:
            raise RateLimited(
                f"At most {live.leases.cap} live subscriptions may run at once per user or "
                "API token; end one first.",
                retry_after=LEASE_SECONDS,
            )
        websocket = context.request if isinstance(context.request, WebSocket) else None
        # A stream never started ends nothing, but its lease expires by itself.
        return _stream(live, lease, project, event_type, websocket)


async def _stream(
    live: Live, lease: Lease, project: int, event_type: str | None, websocket: WebSocket | None
) -> AsyncGenerator[Event, None]:
    try:
        async with live.hub.subscription(project, event_type=event_type) as subscriber:
            closing = _closing_when_dropped(subscriber, websocket)
            try:
                while True:
                    try:
                        events = await subscriber.take(wait_seconds=RENEW_SECONDS)
                    except SubscriberDropped as dropped:
                        if websocket is None:
                            raise Unavailable(dropped.reason) from None
                        # The socket is being closed; the connection's end cancels this.
                        await asyncio.get_running_loop().create_future()
                        raise
                    if not events:
                        await _renew(live, lease)
                    for event in events:
                        # Once the close is under way, any further send would fail the
                        # operation, and the close must follow what was already sent.
                        if subscriber.gone:
                            break
                        yield Event.of(
                            listing.Event(
                                event_id=event.event_id,
                                user_id=event.user_id,
                                event_type=event.event_type,
                                occurred_at=event.occurred_at,
                                received_at=event.received_at,
                                properties=event.properties,
                            ),
                            project=project,
                        )
            finally:
                # A close under way runs on: it waits until the client has read what was
                # sent before it, which may be long after the operation ends.
                if not subscriber.gone:
                    closing.cancel()
    except RedisError as error:
        raise Unavailable("Live events are unavailable right now; retry shortly") from error
    finally:
        with contextlib.suppress(RedisError):
            await asyncio.shield(live.leases.release(lease))


# Closes under way, held until they end (the event loop keeps only weak references).
_CLOSING: set[asyncio.Task[None]] = set()


def _closing_when_dropped(
    subscriber: Subscriber, websocket: WebSocket | None
) -> asyncio.Task[None]:
    task = asyncio.create_task(_close_when_dropped(subscriber, websocket))
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)
    return task


async def _close_when_dropped(subscriber: Subscriber, websocket: WebSocket | None) -> None:
    """Close the connection once ``subscriber`` is dropped, even while a send to it is
    stuck on a client that does not read. The close frame goes out after what the
    server already handed to the connection, so the client sees it once it reads again."""
    dropped = await subscriber.dropped()
    if websocket is None:
        return
    code = SLOW_CLOSE_CODE if dropped.slow else LOST_CLOSE_CODE
    # The reason of a close frame is at most 123 bytes.
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=dropped.reason[:120])


async def _renew(live: Live, lease: Lease) -> None:
    try:
        await live.leases.renew(lease)
    except RedisError as error:
        logger.warning("live subscription lease not renewed: %s", type(error).__name__)
