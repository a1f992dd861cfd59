"""What clients see while Redis is down: sessions fail closed, the rest keeps serving."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable

from eventide.storage.engines import Engines
from eventide.storage.redis import connect_redis
from tests.configured import configured_client
from tests.graphql_client import GraphQLClient


@contextlib.asynccontextmanager
async def redis_down(engines: Engines) -> AsyncIterator[GraphQLClient]:
    # A real Redis client, pointed at a port where no server listens.
    down = dataclasses.replace(engines, redis=connect_redis("redis://127.0.0.1:1/0"))
    try:
        async with configured_client(down, rate_limit_query_points=10) as client:
            yield client
    finally:
        await down.redis.aclose()


async def test_sessions_fail_closed_without_redis(engines: Engines, user_token: str) -> None:
    async with configured_client(engines) as healthy:
        assert (await healthy.data("{ me { id } }", token=user_token))["me"]["id"]
    async with redis_down(engines) as client:
        response = await client.post("{ me { id } }", token=user_token)
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "Traceback" not in response.text
    assert "6379" not in response.text


async def test_public_fields_keep_answering_without_rate_limit_headers(
    engines: Engines,
) -> None:
    async with redis_down(engines) as client:
        response = await client.post("{ version }")
    assert response.json()["data"]["version"]
    assert "RateLimit-Limit" not in response.headers
    assert "throttleStatus" not in response.json()["extensions"]["cost"]


async def test_readiness_reports_redis_down(engines: Engines) -> None:
    async with redis_down(engines) as client:
        response = await client.http.get("/ready")
    assert response.status_code == 503
    assert response.json()["redis"] is False


async def test_api_token_ingestion_keeps_working_without_redis(
    engines: Engines, api_token: Callable[[list[str]], Awaitable[str]]
) -> None:
    token = await api_token(["INGEST"])
    occurred = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    batch = [{"eventId": "r1", "userId": "u", "eventType": "t", "occurredAt": occurred}]
    async with redis_down(engines) as client:
        data = await client.data(
            "mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted } }",
            {"e": batch},
            token=token,
        )
    assert data["ingestEvents"]["accepted"] == 1
