"""A small graphql-transport-ws client over a real WebSocket, and ingestion over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

LIVE_EVENTS = """
subscription ($projectId: ID, $eventType: String) {
  liveEvents(projectId: $projectId, eventType: $eventType) {
    id eventId userId eventType occurredAt receivedAt properties
  }
}
"""
INGEST = """
mutation ($events: [EventInput!]!, $projectId: ID) {
  ingestEvents(events: $events, projectId: $projectId) { accepted duplicates }
}
"""
WAIT_SECONDS = 20.0
PROBE = "probe-"


class LiveSocket:
    """One WebSocket connection speaking graphql-transport-ws."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, *, within: float = WAIT_SECONDS) -> dict[str, Any]:
        async with asyncio.timeout(within):
            text = await self.connection.recv()
        message: dict[str, Any] = json.loads(text)
        return message

    async def subscribe(self, operation_id: str = "1", **variables: Any) -> None:
        payload = {"query": LIVE_EVENTS, "variables": variables}
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})

    async def next_event(self, *, within: float = WAIT_SECONDS) -> dict[str, Any]:
        message = await self.receive(within=within)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        event: dict[str, Any] = message["payload"]["data"]["liveEvents"]
        return event

    async def events_until(self, event_id: str) -> list[dict[str, Any]]:
        """Every event received up to and including the one with ``event_id``, but the
        probes of :func:`subscribed`."""
        received = []
        while True:
            event = await self.next_event()
            if not event["eventId"].startswith(PROBE):
                received.append(event)
            if event["eventId"] == event_id:
                return received

    async def events_until_closed(
        self, *, within: float = WAIT_SECONDS
    ) -> tuple[list[dict[str, Any]], int | None, str | None]:
        """The events received until the connection ended, and the server's close code
        and reason."""
        received = []
        async with asyncio.timeout(within):
            with contextlib.suppress(ConnectionClosed):
                while True:
                    message = json.loads(await self.connection.recv())
                    if message["type"] == "next":
                        received.append(message["payload"]["data"]["liveEvents"])
        return received, self.connection.close_code, self.connection.close_reason

    async def closed(self, *, within: float = WAIT_SECONDS) -> tuple[int | None, str | None]:
        """The close code and reason the server sent, once the connection has ended."""
        async with asyncio.timeout(within):
            with contextlib.suppress(Exception):
                while True:
                    await self.connection.recv()
        await self.connection.wait_closed()
        return self.connection.close_code, self.connection.close_reason


@contextlib.asynccontextmanager
async def live_socket(
    ws_url: str, token: str | None, *, acknowledged: bool = True, **options: Any
) -> AsyncIterator[LiveSocket]:
    """A connection to ``ws_url`` initialised with ``token`` (acknowledged, unless told
    not to wait for it)."""
    async with connect(ws_url, subprotocols=["graphql-transport-ws"], **options) as connection:  # type: ignore[list-item]
        socket = LiveSocket(connection)
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await socket.send({"type": "connection_init", "payload": payload})
        if acknowledged:
            ack = await socket.receive()
            assert ack["type"] == "connection_ack", ack
        yield socket


@contextlib.asynccontextmanager
async def stalled_socket(ws_url: str, token: str) -> AsyncIterator[LiveSocket]:
    """A connection that holds back what it is sent while it is not read: its kernel
    receive buffer is small (the default grows to megabytes on loopback) and it reads
    at most one message ahead of :meth:`LiveSocket.receive`. Without compression, which
    would shrink what piles up, and without its own pings, whose answers it would not
    read either."""
    host, port = urlsplit(ws_url).netloc.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Set before connecting, so the window the server sees stays small.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    async with live_socket(
        ws_url, token, sock=sock, max_queue=1, compression=None, ping_interval=None
    ) as live:
        yield live


def events(
    count: int, *, prefix: str = "", event_type: str = "view", **fields: Any
) -> list[dict[str, Any]]:
    occurred = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    tag = prefix or uuid.uuid4().hex[:8]
    return [
        {
            "eventId": f"{tag}-{i}",
            "userId": f"user-{i % 3}",
            "eventType": event_type,
            "occurredAt": occurred,
            "properties": {"n": i},
            **fields,
        }
        for i in range(count)
    ]


async def ingest(
    http_url: str, token: str, batch: Sequence[dict[str, Any]], *, project: str | None = None
) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{http_url}/graphql",
            json={"query": INGEST, "variables": {"events": list(batch), "projectId": project}},
            headers={"Authorization": f"Bearer {token}"},
        )
    answer = response.json()
    assert "errors" not in answer, answer
    result: dict[str, int] = answer["data"]["ingestEvents"]
    return result


async def subscribed(
    socket: LiveSocket, http_url: str, token: str, *, event_type: str = "view", **options: Any
) -> None:
    """Wait until the subscription of ``socket`` receives events: probes (of
    ``event_type``) are ingested until one arrives, since nothing tells when the server's
    channel subscription is live. Probes that arrive later are skipped by events_until."""
    for _ in range(200):
        probe = events(1, prefix=f"{PROBE}{uuid.uuid4().hex[:8]}", event_type=event_type)
        await ingest(http_url, token, probe, **options)
        with contextlib.suppress(TimeoutError):
            event = await socket.next_event(within=0.25)
            assert event["eventId"].startswith(PROBE), event
            return
    raise AssertionError("the subscription never received an event")
