"""Rate limits per principal and minute, in Redis, shared by every replica."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from eventide.auth import api_tokens, users
from eventide.auth.principal import Role, TokenScope
from eventide.limits.rate import Charge, charge, charge_each
from eventide.storage.engines import Engines
from eventide.storage.redis import connect_redis
from tests.configured import configured_client
from tests.own_projects import own_project

INGEST = """mutation($events: [EventInput!]!) {
  ingestEvents(events: $events) { accepted duplicates rejected { index } }
}"""


def events(*ids: str) -> list[dict[str, Any]]:
    occurred = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    return [
        {"eventId": i, "userId": "u1", "eventType": "view", "occurredAt": occurred} for i in ids
    ]


async def test_query_points_run_out_then_rate_limited_with_retry_after(
    engines: Engines,
) -> None:
    async with configured_client(engines, rate_limit_query_points=3) as client:
        remaining = []
        for _ in range(3):
            response = await client.post("{ version }")
            body = response.json()
            assert "errors" not in body
            assert response.headers["RateLimit-Limit"] == "3"
            remaining.append(int(response.headers["RateLimit-Remaining"]))
            throttle = body["extensions"]["cost"]["throttleStatus"]
            assert throttle["maximumAvailable"] == 3
            assert throttle["restoreRate"] == 0.05
        assert remaining == [2, 1, 0]
        response = await client.post("{ version }")
        body = response.json()
        assert body["data"] is None
        error = body["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        # One point comes back every 20 s at 3 per minute.
        assert 1 <= error["extensions"]["retryAfter"] <= 20
        assert response.headers["Retry-After"] == str(error["extensions"]["retryAfter"])
        assert response.headers["RateLimit-Remaining"] == "0"
        assert 0 < int(response.headers["RateLimit-Reset"]) <= 60


async def test_query_cost_is_charged_in_points(engines: Engines, admin_token: str) -> None:
    query = "{ users(first: 20) { edges { node { id } } } }"  # 20 x 3 = 60 points
    async with configured_client(engines, rate_limit_query_points=100) as client:
        response = await client.post(query, token=admin_token)
        assert response.json()["extensions"]["cost"]["requestedQueryCost"] == 60
        # 100 - 60, plus what refilled (100 per minute) while the request ran.
        assert 40 <= int(response.headers["RateLimit-Remaining"]) <= 45
        assert await client.error_code(query, token=admin_token) == "RATE_LIMITED"
        assert await client.data("{ version }", token=admin_token)


async def test_each_principal_has_its_own_bucket(
    engines: Engines, user_token: str, admin_token: str
) -> None:
    async with configured_client(engines, rate_limit_query_points=1) as client:
        assert await client.data("{ version }", token=user_token)
        assert await client.error_code("{ version }", token=user_token) == "RATE_LIMITED"
        assert await client.data("{ version }", token=admin_token)
        assert await client.data("{ version }")  # anonymous: by client address
    async with configured_client(
        engines, rate_limit_query_points=1, address="198.51.100.9"
    ) as other_address:
        assert await other_address.data("{ version }")


async def test_replicas_share_the_buckets(engines: Engines, user_token: str) -> None:
    async with (
        configured_client(engines, rate_limit_query_points=2) as first,
        configured_client(engines, rate_limit_query_points=2) as second,
    ):
        assert await first.data("{ version }", token=user_token)
        assert await second.data("{ version }", token=user_token)
        assert await first.error_code("{ version }", token=user_token) == "RATE_LIMITED"


async def test_ingestion_is_limited_by_events_and_nothing_is_stored_over_it(
    engines: Engines, api_token: Callable[[list[str]], Awaitable[str]]
) -> None:
    token = await api_token(["INGEST"])
    async with configured_client(engines, rate_limit_events=5) as client:
        response = await client.post(INGEST, {"events": events("a", "b", "c")}, token=token)
        assert response.json()["data"]["ingestEvents"]["accepted"] == 3
        assert response.headers["RateLimit-Limit"] == "5"
        assert response.headers["RateLimit-Remaining"] == "2"
        response = await client.post(INGEST, {"events": events("d", "e", "f")}, token=token)
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert "3 events requested" in body["errors"][0]["message"]
        assert body["errors"][0]["extensions"]["retryAfter"] >= 1
        # Refused whole: the batch did not run.
        count = await engines.db.fetchval("SELECT count(*) FROM events")
        assert count == 3
        response = await client.post(INGEST, {"events": events("d", "e")}, token=token)
        assert response.json()["data"]["ingestEvents"]["accepted"] == 2


async def test_ingestion_counts_literal_lists_too(
    engines: Engines, api_token: Callable[[list[str]], Awaitable[str]]
) -> None:
    token = await api_token(["INGEST"])
    occurred = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()

    def one(event_id: str) -> str:
        return f'{{eventId: "{event_id}", userId: "u", eventType: "t", occurredAt: "{occurred}"}}'

    mutation = (
        f"mutation {{ a: ingestEvents(events: [{one('x1')}, {one('x2')}]) {{ accepted }} ...More }}"
        f" fragment More on Mutation {{ b: ingestEvents(events: [{one('x3')}]) {{ accepted }} }}"
    )
    async with configured_client(engines, rate_limit_events=3) as client:
        response = await client.post(mutation, token=token)
        assert response.json()["data"] == {"a": {"accepted": 2}, "b": {"accepted": 1}}
        assert response.headers["RateLimit-Remaining"] == "0"


async def test_without_redis_limits_let_requests_through(engines: Engines) -> None:
    # A real client against a port where no Redis listens.
    down = dataclasses.replace(engines, redis=connect_redis("redis://127.0.0.1:1/0"))
    try:
        throttle = await charge(down, bucket="query", key="user:x", amount=1, capacity=10)
        assert throttle is None
    finally:
        await down.redis.aclose()


async def test_refused_documents_cost_a_point_too(engines: Engines) -> None:
    async with configured_client(engines, rate_limit_query_points=2) as client:
        for remaining, document in (("1", "{ nope }"), ("0", "{ version")):
            response = await client.post(document)
            assert response.json()["data"] is None
            assert response.headers["RateLimit-Remaining"] == remaining
        assert await client.error_code("{ version }") == "RATE_LIMITED"


async def _token_of_another_project(engines: Engines) -> str:
    user = await users.create_user(
        engines.db, username="elsewhere", email=None, password_hash="x", role=Role.USER
    )
    project = await own_project(engines.db, user.id)
    secret, _ = await api_tokens.create_api_token(
        engines.db,
        user_id=user.id,
        project_id=project,
        name="elsewhere",
        scopes=[TokenScope.INGEST, TokenScope.READ],
        ttl_seconds=None,
    )
    return secret


async def test_a_project_has_one_budget_for_all_its_callers(
    engines: Engines, api_token: Callable[[list[str]], Awaitable[str]]
) -> None:
    first, second = await api_token(["INGEST"]), await api_token(["INGEST"])
    elsewhere = await _token_of_another_project(engines)
    async with configured_client(engines, rate_limit_project_events=5) as client:
        response = await client.post(INGEST, {"events": events("a", "b", "c")}, token=first)
        assert response.json()["data"]["ingestEvents"]["accepted"] == 3
        # The second token's own bucket is full, the project's is not.
        body = (await client.post(INGEST, {"events": events("d", "e", "f")}, token=second)).json()
        assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert "of this project" in body["errors"][0]["message"]
        assert body["errors"][0]["extensions"]["retryAfter"] >= 1
        assert await engines.db.fetchval("SELECT count(*) FROM events") == 3
        # Another project's budget is its own.
        response = await client.post(INGEST, {"events": events("d", "e", "f")}, token=elsewhere)
        assert response.json()["data"]["ingestEvents"]["accepted"] == 3


async def test_a_projects_query_points_are_shared_too(
    engines: Engines, user_token: str, api_token: Callable[[list[str]], Awaitable[str]]
) -> None:
    reader = await api_token(["READ"])
    elsewhere = await _token_of_another_project(engines)
    query = '{ dau(range: {from: "2026-01-01", to: "2026-01-30"}) { users } }'  # 30 points
    async with configured_client(engines, rate_limit_project_query_points=50) as client:
        assert await client.data(query, token=user_token)
        assert await client.error_code(query, token=reader) == "RATE_LIMITED"
        assert await client.data(query, token=elsewhere)


async def test_charges_made_together_stop_at_the_first_refused(engines: Engines) -> None:
    both = [Charge("query", "user:a", 2, 10), Charge("events", "user:a", 5, 10)]
    made = await charge_each(engines, both)
    assert [(t.allowed, t.available) if t else None for t in made] == [(True, 8), (True, 5)]
    # A limit that is off is skipped; a refusal leaves the buckets after it alone.
    made = await charge_each(
        engines,
        [
            Charge("query", "user:b", 11, 10),
            Charge("project-query", "project:1", 1, 0),
            Charge("events", "user:b", 1, 10),
        ],
    )
    assert [(t.allowed, t.available) if t else None for t in made] == [(False, 10), None, None]
    assert not await engines.redis.exists(engines.redis_key("ratelimit", "events", "user:b"))
