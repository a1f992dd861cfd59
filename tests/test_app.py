from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis

from eventide.app import create_app
from eventide.storage.clickhouse import EmbeddedColdStore
from eventide.storage.engines import Engines
from tests.graphql_client import GraphQLClient


@dataclasses.dataclass
class Observed:
    """An app on engine clients of its own, named so the engines tell their traffic."""

    http: httpx.AsyncClient
    engines: Engines
    name: str

    async def postgres(self) -> list[tuple[Any, ...]]:
        """Each backend of these clients: when it started, and its last statement."""
        conn = await asyncpg.connect(self.engines.settings.database_url)
        try:
            rows = await conn.fetch(
                """SELECT pid, backend_start, query_start, query FROM pg_stat_activity
                   WHERE application_name = $1 ORDER BY pid""",
                self.name,
            )
        finally:
            await conn.close()
        return [tuple(r) for r in rows]

    async def redis(self) -> list[tuple[Any, ...]]:
        """Each connection of these clients: its id and its last command."""
        observer = Redis.from_url(self.engines.settings.redis_url or "")
        try:
            clients = await observer.client_list()
        finally:
            await observer.aclose()
        return sorted((c["id"], c["cmd"]) for c in clients if c["name"] == self.name)

    async def clickhouse_queries(self) -> int | None:
        """Queries the in-process ClickHouse has run, counting this one; None for a
        server, whose counter other clients move too."""
        if not isinstance(self.engines.cold, EmbeddedColdStore):
            return None
        ((value,),) = await self.engines.cold.fetch(
            "SELECT value FROM system.events WHERE event = 'Query'"
        )
        return int(value)


@contextlib.asynccontextmanager
async def observed_app(engines: Engines) -> AsyncIterator[Observed]:
    settings = engines.settings
    name = f"eventide-test-{uuid.uuid4().hex[:12]}"
    db = await asyncpg.create_pool(
        settings.database_url, min_size=1, max_size=2, server_settings={"application_name": name}
    )
    redis = Redis.from_url(settings.redis_url or "", client_name=name)
    try:
        await redis.echo("opened")  # one connection, its last command known
        app = create_app(settings)
        app.state.engines = dataclasses.replace(engines, db=db, redis=redis)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://eventide.test") as http:
            yield Observed(http, app.state.engines, name)
    finally:
        await redis.aclose()
        await db.close()


async def test_health_touches_nothing(engines: Engines) -> None:
    async with observed_app(engines) as app:
        postgres, redis = await app.postgres(), await app.redis()
        clickhouse = await app.clickhouse_queries()
        assert len(postgres) == 1
        assert len(redis) == 1

        response = await app.http.get("/health")

        assert (response.status_code, response.text) == (200, "ok")
        assert await app.postgres() == postgres
        assert await app.redis() == redis
        if clickhouse is not None:
            assert await app.clickhouse_queries() == clickhouse + 1  # only the count's own

        # The same observations see a request that does use every engine.
        assert (await app.http.get("/ready")).status_code == 200
        assert await app.postgres() != postgres
        assert await app.redis() != redis
        if clickhouse is not None:
            counted = await app.clickhouse_queries()
            assert counted is not None
            assert counted > clickhouse + 2


async def test_ready_reports_every_engine(client: GraphQLClient) -> None:
    response = await client.http.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"postgres": True, "clickhouse": True, "redis": True}


async def test_graphql_answers(client: GraphQLClient) -> None:
    data = await client.data("{ version }")
    assert data["version"]


async def test_syntax_error_has_parse_code(client: GraphQLClient) -> None:
    assert await client.error_code("{ version") == "GRAPHQL_PARSE_FAILED"


async def test_unknown_field_has_validation_code(client: GraphQLClient) -> None:
    assert await client.error_code("{ nope }") == "GRAPHQL_VALIDATION_FAILED"
