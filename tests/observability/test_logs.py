"""JSON log lines with request identity, redaction of secrets, and the slow query log."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from eventide.observability.logs import log_handler, redact
from eventide.storage.engines import Engines
from tests.configured import configured_client
from tests.graphql_client import GraphQLClient
from tests.waiting import backend_waiting_for_lock

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
API_TOKEN = "evt_R2lEcXl2dF9rZXlfZm9yX3Rlc3RzX29ubHlfMTIzNDU2Nzg5MA"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Every record of the process, formatted by the production handler."""
    stream = io.StringIO()
    handler = log_handler(stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def entries(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Bearer {JWT}", JWT),
        ("headers={'authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz"),
        (f"token {API_TOKEN} used", API_TOKEN[4:]),
        (f"jwt={JWT}", JWT),
        ('{"username": "ann", "password": "hunter2-secret"}', "hunter2-secret"),
        ('login(username: \\"ann\\", password: \\"hunter2-secret\\")', "hunter2-secret"),
        ("/graphql?variables=%7B%22password%22%3A%22hunter2-secret%22%7D", "hunter2-secret"),
        ("newPassword='hunter2-secret'", "hunter2-secret"),
        ('{"refreshToken": "rt_8f1b2c3d4e5f"}', "rt_8f1b2c3d4e5f"),
    ],
)
def test_secrets_are_redacted(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_a_line_is_one_json_object_without_secrets(lines: io.StringIO) -> None:
    logger = logging.getLogger("eventide.test")
    logger.warning("calling with %s", f"Bearer {JWT}", extra={"header": f"Bearer {API_TOKEN}"})
    try:
        raise ValueError("password=hunter2-secret")
    except ValueError:
        logger.exception("failed")
    first, second = entries(lines)
    assert set(first) >= {"time", "level", "logger", "message"}
    assert first["level"] == "WARNING"
    assert first["logger"] == "eventide.test"
    assert first["time"].endswith("+00:00")
    assert JWT not in lines.getvalue()
    assert API_TOKEN not in lines.getvalue()
    assert "hunter2-secret" not in lines.getvalue()
    assert "ValueError" in second["exception"]


async def test_request_lines_carry_request_id_operation_and_principal(
    client: GraphQLClient, user_token: str, lines: io.StringIO
) -> None:
    response = await client.http.post(
        "/graphql",
        json={"query": "query WhoAmI { me { id } }"},
        headers={"X-Request-Id": "req-42", "Authorization": f"Bearer {user_token}"},
    )
    assert response.headers["X-Request-Id"] == "req-42"
    access = [e for e in entries(lines) if e["logger"] == "eventide.access"]
    assert access[-1]["request_id"] == "req-42"
    assert access[-1]["operation"] == "WhoAmI"
    assert access[-1]["principal"].startswith("user:")
    assert access[-1]["message"] == "POST /graphql 200"
    assert user_token not in lines.getvalue()


async def test_a_request_id_is_made_when_none_or_a_bad_one_is_given(
    client: GraphQLClient,
) -> None:
    made = (await client.http.get("/health")).headers["X-Request-Id"]
    assert len(made) == 32
    refused = await client.http.get("/health", headers={"X-Request-Id": "bad id!" * 30})
    assert refused.headers["X-Request-Id"] != made
    assert " " not in refused.headers["X-Request-Id"]


async def test_slow_queries_are_logged(engines: Engines, lines: io.StringIO) -> None:
    held = 0.1  # how long the operation is kept waiting for a table lock
    async with (
        configured_client(engines, slow_query_seconds=held / 2) as client,
        engines.db.acquire() as locker,
    ):
        async with locker.transaction():
            await locker.execute("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE")
            started = time.perf_counter()
            request = asyncio.create_task(
                client.data('query Slow { validateToken(token: "evt_nope") { valid } }')
            )
            await backend_waiting_for_lock(locker, "%api_tokens%")
            await asyncio.sleep(held)
        await request
        wall_ms = (time.perf_counter() - started) * 1000
    slow = [e for e in entries(lines) if e["message"].startswith("slow query")]
    assert [e["operation"] for e in slow] == ["Slow"]
    # At least the time it was kept waiting, at most the time around the request
    # (plus the rounding to a tenth of a millisecond).
    assert held * 1000 <= slow[-1]["duration_ms"] <= wall_ms + 0.05
    assert len(slow[-1]["query_sha256"]) == 64
    assert "evt_nope" not in lines.getvalue()
