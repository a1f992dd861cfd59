"""liveEvents over a real WebSocket to the app in this event loop: what is sent, to
whom, and what refuses or ends a subscription."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import REGISTRY

from eventide.graphql.live import LOST_CLOSE_CODE, SLOW_CLOSE_CODE
from eventide.storage.engines import Engines
from eventide.storage.redis import connect_redis
from tests.live.accounts import token_of_new_project
from tests.live.clients import (
    PROBE,
    LiveSocket,
    events,
    ingest,
    live_socket,
    stalled_socket,
    subscribed,
)
from tests.live.servers import cuttable_redis, in_loop_server

MakeToken = Callable[[list[str]], Awaitable[str]]


def _ids(received: list[dict[str, object]]) -> list[str]:
    return [str(event["eventId"]) for event in received]


async def test_each_accepted_event_is_sent_once_and_duplicates_never(
    engines: Engines, api_token: MakeToken
) -> None:
    token = await api_token(["INGEST", "READ"])
    async with in_loop_server(engines) as server, live_socket(server.ws_url, token) as socket:
        await socket.subscribe()
        await subscribed(socket, server.http_url, token)
        first = events(3, prefix="first")
        assert await ingest(server.http_url, token, first) == {"accepted": 3, "duplicates": 0}
        # Sent again with one new event and one the API refuses: only the new one is sent.
        future = {**events(1, prefix="refused")[0], "occurredAt": "2999-01-01T00:00:00Z"}
        again = [*first, future, *events(1, prefix="second")]
        outcome = await ingest(server.http_url, token, again)
        assert outcome == {"accepted": 1, "duplicates": 3}
        received = await socket.events_until("second-0")
    assert _ids(received) == ["first-0", "first-1", "first-2", "second-0"]
    sent = first[0]
    event = received[0]
    assert (event["userId"], event["eventType"], event["properties"]) == (
        sent["userId"],
        sent["eventType"],
        sent["properties"],
    )
    assert event["occurredAt"].startswith(sent["occurredAt"][:19])


async def test_the_event_type_filter_sends_only_that_type(
    engines: Engines, api_token: MakeToken
) -> None:
    token = await api_token(["INGEST", "READ"])
    async with in_loop_server(engines) as server, live_socket(server.ws_url, token) as socket:
        await socket.subscribe(eventType="click")
        await subscribed(socket, server.http_url, token, event_type="click")
        mixed = events(2, prefix="v", event_type="view") + events(2, prefix="c", event_type="click")
        await ingest(server.http_url, token, sorted(mixed, key=lambda e: e["eventId"]))
        await ingest(server.http_url, token, events(1, prefix="end", event_type="click"))
        received = await socket.events_until("end-0")
    assert _ids(received) == ["c-0", "c-1", "end-0"]
    assert {event["eventType"] for event in received} == {"click"}


async def test_no_event_of_another_project_is_sent(engines: Engines, api_token: MakeToken) -> None:
    token = await api_token(["INGEST", "READ"])
    other = await token_of_new_project(engines, ["INGEST", "READ"])
    async with (
        in_loop_server(engines) as server,
        live_socket(server.ws_url, token) as socket,
        live_socket(server.ws_url, other) as other_socket,
    ):
        await socket.subscribe()
        await other_socket.subscribe()
        await subscribed(socket, server.http_url, token)
        await subscribed(other_socket, server.http_url, other)
        await ingest(server.http_url, other, events(2, prefix="theirs"))
        await ingest(server.http_url, token, events(1, prefix="ours"))
        assert _ids(await socket.events_until("ours-0")) == ["ours-0"]
        assert _ids(await other_socket.events_until("theirs-1")) == ["theirs-0", "theirs-1"]


async def test_refused_credentials_close_the_connection_with_4403(engines: Engines) -> None:
    async with (
        in_loop_server(engines) as server,
        live_socket(server.ws_url, "evt_not-a-token", acknowledged=False) as socket,
    ):
        assert await socket.closed() == (4403, "Forbidden")


async def test_a_subscription_needs_credentials_and_the_read_scope(
    engines: Engines, api_token: MakeToken
) -> None:
    ingest_only = await api_token(["INGEST"])
    async with in_loop_server(engines) as server:
        for token, code in [(None, "UNAUTHENTICATED"), (ingest_only, "FORBIDDEN")]:
            async with live_socket(server.ws_url, token) as socket:
                await socket.subscribe()
                message = await socket.receive()
                assert message["type"] == "error", message
                assert message["payload"][0]["extensions"]["code"] == code
        # Another project, as every field that reads events answers.
        async with live_socket(server.ws_url, await api_token(["READ"])) as socket:
            await socket.subscribe(projectId="999999")
            message = await socket.receive()
            assert message["payload"][0]["extensions"]["code"] == "NOT_FOUND", message


async def test_each_principal_holds_at_most_the_configured_subscriptions(
    engines: Engines, api_token: MakeToken
) -> None:
    token = await api_token(["INGEST", "READ"])
    async with (
        in_loop_server(engines, live_max_subscriptions=2) as server,
        live_socket(server.ws_url, token) as socket,
        live_socket(server.ws_url, await api_token(["READ"])) as someone_else,
    ):
        await socket.subscribe("a")
        await socket.subscribe("b")
        await subscribed(socket, server.http_url, token)
        await socket.subscribe("c")
        while (message := await socket.receive())["id"] != "c":
            pass  # the probe, as the second subscription sees it
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
        # Another principal is not counted against it.
        await someone_else.subscribe("x")
        # An ended subscription gives its place back.
        await socket.send({"id": "a", "type": "complete"})
        await asyncio.sleep(0.5)
        await socket.subscribe("d")
        await asyncio.sleep(0.5)
        await ingest(server.http_url, token, events(1, prefix="after"))
        assert await _subscriptions_sent(socket, "after-0") == {"b", "d"}
        assert await _subscriptions_sent(someone_else, "after-0") == {"x"}


async def _subscriptions_sent(socket: LiveSocket, event_id: str) -> set[str]:
    """The subscriptions of ``socket`` that were sent ``event_id``, read until the
    connection stays quiet."""
    sent = set()
    with contextlib.suppress(TimeoutError):
        while True:
            message = await socket.receive(within=1.0)
            assert message["type"] == "next", message
            if message["payload"]["data"]["liveEvents"]["eventId"] == event_id:
                sent.add(message["id"])
    return sent


async def test_a_slow_subscriber_is_dropped_without_slowing_ingestion_or_others(
    engines: Engines, api_token: MakeToken
) -> None:
    token = await api_token(["INGEST", "READ"])
    slow_drops = ("eventide_live_dropped_subscribers_total", {"reason": "slow"})
    before = REGISTRY.get_sample_value(*slow_drops) or 0
    async with (
        in_loop_server(engines, live_queue_events=50) as server,
        live_socket(server.ws_url, token) as fast,
        stalled_socket(server.ws_url, token) as slow,
    ):
        await slow.subscribe()
        await subscribed(slow, server.http_url, token)
        await fast.subscribe()
        await subscribed(fast, server.http_url, token)
        # From here on the slow client reads nothing: what the server sends it piles up
        # in the kernel's small buffers, then the server's sends to it wait, then its
        # queue fills.
        sent: list[str] = []
        # Events of about 10 KB (random: nothing to compress), in all twice what the
        # kernel may buffer on the server's side of a connection, and a few MB more.
        rounds = (2 * _largest_send_buffer() + 4_000_000) // (50 * 10_000)
        for round_ in range(rounds):
            bulky = {"blob": base64.b64encode(os.urandom(7_500)).decode()}
            batch = events(50, prefix=f"r{round_:03}", properties=bulky)
            # Each call is answered while the slow subscriber still reads nothing.
            assert (await ingest(server.http_url, token, batch))["accepted"] == 50
            # A call's events are stored (and sent) in eventId order.
            sent += sorted(event["eventId"] for event in batch)
            assert _ids(await fast.events_until(sent[-1])) == sent[-50:]
        # Every event reached the fast subscriber; the slow one was dropped meanwhile.
        assert (REGISTRY.get_sample_value(*slow_drops) or 0) == before + 1
        # Once it reads again it gets what was already on its way, then the close.
        read, code, reason = await slow.events_until_closed(within=60)
        assert code == SLOW_CLOSE_CODE, (code, reason)
        assert "too slowly" in (reason or "")
        # It got a first part of the events, in order, and none after its drop.
        ours = [event_id for event_id in _ids(read) if not event_id.startswith(PROBE)]
        assert 0 < len(ours) < len(sent)
        assert ours == sent[: len(ours)]


async def test_subscribers_are_told_when_their_server_loses_redis(
    engines: Engines, api_token: MakeToken
) -> None:
    token = await api_token(["INGEST", "READ"])
    lost = ("eventide_live_dropped_subscribers_total", {"reason": "redis"})
    before = REGISTRY.get_sample_value(*lost) or 0
    async with (
        cuttable_redis(engines) as (live_redis, cut),
        in_loop_server(engines, live_redis=live_redis) as server,
        live_socket(server.ws_url, token) as socket,
    ):
        await socket.subscribe()
        await subscribed(socket, server.http_url, token)
        await cut()
        code, reason = await socket.closed()
        assert code == LOST_CLOSE_CODE, (code, reason)
        assert "lost its connection to Redis" in (reason or "")
        assert (REGISTRY.get_sample_value(*lost) or 0) == before + 1


def _largest_send_buffer() -> int:
    """The most a TCP socket's send buffer grows to here (Linux's tcp_wmem maximum)."""
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 4 * 1024 * 1024


async def test_ingestion_succeeds_while_live_events_cannot_be_published(
    engines: Engines, api_token: MakeToken
) -> None:
    token = await api_token(["INGEST", "READ"])
    down = connect_redis("redis://127.0.0.1:1/0")
    unpublished = "eventide_live_unpublished_events_total"
    before = REGISTRY.get_sample_value(unpublished) or 0
    try:
        async with in_loop_server(engines, live_redis=down) as server:
            outcome = await ingest(server.http_url, token, events(4))
            assert outcome == {"accepted": 4, "duplicates": 0}
            for _ in range(200):
                if (REGISTRY.get_sample_value(unpublished) or 0) >= before + 4:
                    break
                await asyncio.sleep(0.05)
            assert (REGISTRY.get_sample_value(unpublished) or 0) == before + 4
            # A subscription cannot start without Redis: it is told so.
            async with live_socket(server.ws_url, token) as socket:
                await socket.subscribe()
                message = await socket.receive()
                assert message["payload"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    finally:
        await down.aclose()
