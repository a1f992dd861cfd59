"""Redis stopped and started again: sessions fail closed meanwhile, ingestion goes on.

The same client serves again once Redis is back: its pooled connections, closed by
the restart, are replaced on the first call.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from eventide.auth import passwords, users
from eventide.auth.principal import Role
from eventide.storage.engines import Engines
from eventide.storage.redis import connect_redis
from tests.configured import configured_client
from tests.faults.servers import RedisServer, redis_server, require
from tests.graphql_client import GraphQLClient

require(shutil.which("redis-server") is not None, "redis-server is not installed")

INGEST = "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted duplicates } }"
HANG = 15.0
PASSWORD = "password of outage"
LOGIN = f'mutation {{ login(username: "outage", password: "{PASSWORD}") {{ accessToken }} }}'


def batch(*ids: str) -> dict[str, object]:
    occurred = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    return {
        "e": [
            {"eventId": i, "userId": "u", "eventType": "view", "occurredAt": occurred} for i in ids
        ]
    }


@dataclasses.dataclass
class Restartable:
    server: RedisServer
    client: GraphQLClient


@pytest.fixture
async def restartable(engines: Engines) -> AsyncIterator[Restartable]:
    """The session's engines, with Redis swapped for a server of this test's own."""
    with redis_server() as server:
        redis = connect_redis(server.url, timeout=1.0)
        try:
            async with configured_client(dataclasses.replace(engines, redis=redis)) as client:
                yield Restartable(server=server, client=client)
        finally:
            await redis.aclose()


async def test_sessions_fail_closed_and_recover_while_tokens_keep_ingesting(
    restartable: Restartable,
    engines: Engines,
    user_token: str,
    api_token: Callable[[list[str]], Awaitable[str]],
    record_property: Callable[[str, object], None],
) -> None:
    client = restartable.client
    ingest_token = await api_token(["INGEST"])
    await users.create_user(
        engines.db,
        username="outage",
        email="outage@example.test",
        password_hash=await passwords.hash_password(PASSWORD),
        role=Role.USER,
    )
    before = await client.post("{ me { id } }", token=user_token)
    assert before.json()["data"]["me"]["id"]
    assert "RateLimit-Limit" in before.headers

    restartable.server.stop()
    started = time.monotonic()
    during = await client.post("{ me { id } }", token=user_token)
    refused_in = time.monotonic() - started
    ingested = await client.data(INGEST, batch("r1", "r2"), token=ingest_token)
    ready = await client.http.get("/ready")
    # Signing in fails closed too: its attempt counters live in Redis.
    login = await client.post(LOGIN)

    restartable.server.start()
    # The very first calls after the restart succeed: no backoff, no stale connection.
    after = await client.post("{ me { id } }", token=user_token)
    ready_again = await client.http.get("/ready")
    login_again = await client.post(LOGIN)

    record_property("redis_outage_session_refused_seconds", round(refused_in, 3))
    print(f"\nsession refused in {refused_in:.3f} s while Redis was down")
    body = during.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "Traceback" not in during.text
    assert str(restartable.server.port) not in during.text
    assert refused_in < HANG
    # Rate limits let requests through: API-token ingestion goes on.
    assert ingested["ingestEvents"] == {"accepted": 2, "duplicates": 0}
    assert ready.status_code == 503
    assert ready.json()["redis"] is False
    assert login.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

    assert after.json()["data"]["me"]["id"] == before.json()["data"]["me"]["id"]
    assert "RateLimit-Limit" in after.headers
    assert ready_again.status_code == 200
    assert login_again.json()["data"]["login"]["accessToken"]
