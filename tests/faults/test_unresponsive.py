"""An engine host that accepts connections and never answers: each wait ends at its timeout.

A listening socket nobody serves stands for a hung server or a network that drops
replies; a refused connection (a stopped server) fails at once instead.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Iterator

import pytest

from eventide.graphql.errors import client_error
from eventide.storage import postgres
from eventide.storage.clickhouse import open_cold_store
from eventide.storage.redis import connect_redis

TIMEOUT = 0.5
HANG = 15.0


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(16)
        listening.setblocking(False)
        yield listening


def connections_made(listening: socket.socket) -> int:
    count = 0
    while True:
        try:
            connection, _ = listening.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


async def failure_after(call: Awaitable[object]) -> tuple[Exception, float]:
    started = time.monotonic()
    with pytest.raises(Exception) as raised:  # noqa: PT011 - which one is what is tested
        await asyncio.wait_for(call, HANG)  # a hang fails here: TimeoutError is no driver's
    return raised.value, time.monotonic() - started


async def test_postgresql(listener: socket.socket) -> None:
    url = f"postgresql://postgres@127.0.0.1:{listener.getsockname()[1]}/postgres"
    error, elapsed = await failure_after(postgres.create_pool(url, connect_timeout=TIMEOUT))
    assert client_error(error, where="t").message == "PostgreSQL is unavailable, retry later"
    assert elapsed >= 0.9 * TIMEOUT  # the timeout ended it


async def test_redis(listener: socket.socket) -> None:
    redis = connect_redis(f"redis://127.0.0.1:{listener.getsockname()[1]}/0", timeout=TIMEOUT)
    try:
        error, elapsed = await failure_after(redis.exists("key"))
    finally:
        await redis.aclose()
    assert client_error(error, where="t").message == "Redis is unavailable, retry later"
    assert elapsed >= 0.9 * TIMEOUT
    # Not retried: a second wait would only double the time to the answer.
    assert connections_made(listener) == 1


async def test_clickhouse(listener: socket.socket) -> None:
    url = f"clickhouse://default@127.0.0.1:{listener.getsockname()[1]}/default"
    opening = open_cold_store(
        url, embedded_path="unused", connect_timeout=TIMEOUT, send_receive_timeout=TIMEOUT
    )
    error, elapsed = await failure_after(opening)
    assert client_error(error, where="t").message == "ClickHouse is unavailable, retry later"
    assert elapsed >= 0.9 * TIMEOUT
