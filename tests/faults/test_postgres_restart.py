"""PostgreSQL stopped and started again while clients ingest events.

Requests in between fail fast with SERVICE_UNAVAILABLE, the same pool serves again
once the server is back, and every event is stored exactly once when clients retry
the batches that failed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from eventide.auth import api_tokens, passwords, users
from eventide.auth.jwt_tokens import issue_access_token
from eventide.auth.principal import Role, TokenScope
from eventide.storage import postgres
from eventide.storage.engines import Engines
from tests.configured import configured_client
from tests.faults.servers import PostgresServer, postgres_available, postgres_server, require
from tests.graphql_client import GraphQLClient
from tests.own_projects import own_project

require(postgres_available(), "running as root without a postgres user to run PostgreSQL as")

INGEST = """mutation($e: [EventInput!]!) {
  ingestEvents(events: $e) { accepted duplicates rejected { code } }
}"""
BATCH = 10
# Far above the few seconds a refused connection takes: only proves nothing hangs.
HANG = 15.0


@dataclasses.dataclass
class Call:
    ids: list[str]
    started: float
    elapsed: float
    body: dict[str, Any]
    text: str

    @property
    def code(self) -> str | None:
        errors = self.body.get("errors")
        return str(errors[0]["extensions"]["code"]) if errors else None

    @property
    def result(self) -> dict[str, Any]:
        outcome: dict[str, Any] = self.body["data"]["ingestEvents"]
        return outcome


async def ingest(client: GraphQLClient, token: str, ids: list[str]) -> Call:
    occurred = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    events = [
        {"eventId": i, "userId": "u", "eventType": "view", "occurredAt": occurred} for i in ids
    ]
    started = time.monotonic()
    response = await client.post(INGEST, {"e": events}, token=token)
    return Call(ids, started, time.monotonic() - started, response.json(), response.text)


@dataclasses.dataclass
class Restartable:
    server: PostgresServer
    engines: Engines
    api_token: str
    access_token: str


@pytest.fixture
async def restartable(engines: Engines) -> AsyncIterator[Restartable]:
    """The session's engines, with PostgreSQL swapped for a server of this test's own."""
    with postgres_server() as server:
        pool = await postgres.create_pool(
            server.url, size=4, connect_timeout=2, acquire_timeout=3, command_timeout=5
        )
        try:
            async with pool.acquire() as conn:
                await postgres.migrate(conn)
            user = await users.create_user(
                pool,
                username="restart",
                email="restart@example.test",
                password_hash=await passwords.hash_password("password of restart"),
                role=Role.USER,
            )
            secret, _ = await api_tokens.create_api_token(
                pool,
                user_id=user.id,
                project_id=await own_project(pool, user.id),
                name="sdk",
                scopes=[TokenScope.INGEST],
                ttl_seconds=None,
            )
            yield Restartable(
                server=server,
                engines=dataclasses.replace(engines, db=pool),
                api_token=secret,
                access_token=issue_access_token(engines.settings, user_id=user.id, session_epoch=0),
            )
        finally:
            pool.terminate()


@pytest.mark.slow
async def test_ingestion_survives_a_restart_and_stores_each_event_once(
    restartable: Restartable, record_property: Callable[[str, object], None]
) -> None:
    calls: list[Call] = []
    numbers = itertools.count()
    stopping = asyncio.Event()
    answered = asyncio.Condition()

    async def sdk(client: GraphQLClient) -> None:
        while not stopping.is_set():
            n = next(numbers)
            call = await ingest(client, restartable.api_token, [f"b{n}-{i}" for i in range(BATCH)])
            async with answered:
                calls.append(call)
                answered.notify_all()
            await asyncio.sleep(0.02)

    async def until(condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(30), answered:
            await answered.wait_for(condition)

    def succeeded(since: float) -> int:
        return sum(1 for c in calls if c.started >= since and c.code is None)

    def failed(since: float) -> int:
        return sum(1 for c in calls if c.started >= since and c.code is not None)

    async with configured_client(restartable.engines) as client:
        senders = [asyncio.create_task(sdk(client)) for _ in range(2)]
        await until(lambda: succeeded(0) >= 3)

        await asyncio.to_thread(restartable.server.stop)
        down = time.monotonic()
        await until(lambda: failed(down) >= 4)
        session = await client.post("{ me { id } }", token=restartable.access_token)
        # A resolver reading PostgreSQL, with no credentials to check first.
        refresh = await client.post(
            'mutation { refreshToken(refreshToken: "rt-of-a-session") { accessToken } }'
        )
        ready = await client.http.get("/ready")
        metrics = await client.http.get("/metrics")

        await asyncio.to_thread(restartable.server.start)
        up = time.monotonic()
        await until(lambda: succeeded(up) >= 4)
        stopping.set()
        await asyncio.gather(*senders)
        after = await client.post("{ me { id } }", token=restartable.access_token)
        ready_again = await client.http.get("/ready")

        failures = [c for c in calls if c.code is not None]
        retries = [await ingest(client, restartable.api_token, c.ids) for c in failures]

    slowest = max(c.elapsed for c in failures)
    record_property("postgres_outage_calls_failed", len(failures))
    record_property("postgres_outage_slowest_failure_seconds", round(slowest, 3))
    print(f"\n{len(failures)} calls failed during the outage, slowest in {slowest:.3f} s")

    # Each failure is the retryable code, in JSON, without internals, and quick.
    assert {c.code for c in failures} == {"SERVICE_UNAVAILABLE"}
    assert all("Traceback" not in c.text and "asyncpg" not in c.text for c in failures)
    assert slowest < HANG
    # A session cannot be checked either, and a resolver's own queries fail alike.
    for response in (session, refresh):
        assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "PostgreSQL is unavailable" in response.json()["errors"][0]["message"]
    assert ready.status_code == 503
    assert ready.json()["postgres"] is False
    # Metrics still serve; only the archive's gauges, read from PostgreSQL, are left out.
    assert metrics.status_code == 200
    assert "eventide_graphql_operations_total" in metrics.text
    assert "eventide_archive_lag_seconds" not in metrics.text
    # The same pool serves every call made once the server is back.
    assert all(c.code is None for c in calls if c.started >= up)
    assert after.json()["data"]["me"]["id"]
    assert ready_again.status_code == 200

    # Retried batches go through; a batch stored before its answer was lost is a duplicate.
    assert all(r.code is None for r in retries)
    assert all(r.result["accepted"] + r.result["duplicates"] == BATCH for r in retries)
    first_answers = [c for c in calls if c.code is None]
    assert all(c.result["accepted"] == len(c.ids) for c in first_answers)
    assert all(c.result["duplicates"] == 0 and not c.result["rejected"] for c in first_answers)
    sent = {i for c in calls for i in c.ids}
    accepted = sum(c.result["accepted"] for c in first_answers + retries)
    duplicates = sum(r.result["duplicates"] for r in retries)
    assert accepted + duplicates == len(sent)

    rows = await restartable.engines.db.fetch(
        "SELECT event_id, count(*) AS n FROM events GROUP BY event_id"
    )
    assert {r["event_id"] for r in rows} == sent
    assert {r["n"] for r in rows} == {1}
    ledger = await restartable.engines.db.fetchval("SELECT count(*) FROM event_ids")
    assert ledger == len(sent)
