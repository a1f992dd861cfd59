"""Stalled requests, against a real uvicorn server on a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator

import pytest
import uvicorn

from eventide.app import create_app
from eventide.cli import server_options
from eventide.storage.engines import Engines

HEADER_TIMEOUT = 1.0
BODY_IDLE_TIMEOUT = 1.0
BODY_TIMEOUT = 2.5
# Scheduling slack on a loaded machine, never near a bound that is not enforced.
SLACK = 1.5


@pytest.fixture
async def server(engines: Engines) -> AsyncIterator[tuple[str, int]]:
    settings = dataclasses.replace(
        engines.settings,
        host="127.0.0.1",
        port=0,
        request_header_timeout_seconds=HEADER_TIMEOUT,
        request_body_idle_timeout_seconds=BODY_IDLE_TIMEOUT,
        request_body_timeout_seconds=BODY_TIMEOUT,
    )
    app = create_app(settings)
    app.state.engines = dataclasses.replace(engines, settings=settings)
    options = server_options(settings) | {"lifespan": "off", "log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn sets a flag, not an event
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    yield host, port
    server.should_exit = True
    await task


async def _exchange(address: tuple[str, int], *parts: tuple[float, bytes]) -> tuple[bytes, float]:
    """Send each part after its pause; return all the server said until it closed the
    connection, and how long after the first byte that was."""
    reader, writer = await asyncio.open_connection(*address)
    start = time.monotonic()

    async def feed() -> None:
        for pause, data in parts:
            await asyncio.sleep(pause)
            writer.write(data)
            await writer.drain()

    feeding = asyncio.create_task(feed())
    try:
        answer = await asyncio.wait_for(reader.read(-1), timeout=BODY_TIMEOUT + 10)
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await feeding
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return answer, time.monotonic() - start


def _status_and_code(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)["errors"][0]["extensions"]["code"]


HEAD = (
    b"POST /graphql HTTP/1.1\r\nHost: eventide.test\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
)


async def test_a_body_announced_and_never_sent_is_answered_in_time(
    server: tuple[str, int],
) -> None:
    answer, elapsed = await _exchange(server, (0, HEAD))
    assert _status_and_code(answer) == (408, "REQUEST_TIMEOUT")
    assert BODY_IDLE_TIMEOUT <= elapsed < BODY_IDLE_TIMEOUT + SLACK


async def test_a_body_that_trickles_is_cut_at_the_total_bound(server: tuple[str, int]) -> None:
    # A byte every half second never trips the idle bound; the total one ends it.
    answer, elapsed = await _exchange(server, (0, HEAD), *[(0.5, b" ")] * 40)
    assert _status_and_code(answer) == (408, "REQUEST_TIMEOUT")
    assert BODY_TIMEOUT <= elapsed < BODY_TIMEOUT + SLACK


async def test_stalled_headers_are_answered_in_time(server: tuple[str, int]) -> None:
    answer, elapsed = await _exchange(server, (0, b"POST /graphql HTTP/1.1\r\nHost: e\r\n"))
    assert _status_and_code(answer) == (408, "REQUEST_TIMEOUT")
    assert HEADER_TIMEOUT <= elapsed < HEADER_TIMEOUT + SLACK


async def test_a_connection_that_sends_nothing_is_closed_in_time(
    server: tuple[str, int],
) -> None:
    answer, elapsed = await _exchange(server)
    assert answer == b""
    assert HEADER_TIMEOUT <= elapsed < HEADER_TIMEOUT + SLACK


async def test_a_slow_but_steady_request_is_served(server: tuple[str, int]) -> None:
    # The control: pauses under each bound, headers and body, get a normal answer.
    body = json.dumps({"query": "{ version }"}).encode()
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: e\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
    )
    answer, _ = await _exchange(
        server, (0, head[:20]), (0.5, head[20:] + b"\r\n"), (0.5, body[:5]), (0.5, body[5:])
    )
    assert answer.startswith(b"HTTP/1.1 200")
    assert b'"version"' in answer


async def test_the_header_bound_applies_to_each_request_on_a_connection(
    server: tuple[str, int],
) -> None:
    body = json.dumps({"query": "{ version }"}).encode()
    request = (
        b"POST /graphql HTTP/1.1\r\nHost: e\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    # Well past the first header bound, the second request stalls in its headers.
    answer, elapsed = await _exchange(
        server, (0, request), (0.5, request), (0.8, b"POST /graphql HTTP/1.1\r\n")
    )
    assert answer.count(b"HTTP/1.1 200") == 2
    assert b"HTTP/1.1 408" in answer
    assert 1.3 + HEADER_TIMEOUT <= elapsed < 1.3 + HEADER_TIMEOUT + SLACK
