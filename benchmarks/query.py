"""Analytics latency through POST /graphql, against raw SQL on the same stores, same run.

Builds a data set on a fresh PostgreSQL database (created and dropped here) and a fresh
embedded ClickHouse (chdb, owned by this process, in a temporary directory):

- cold: BENCH_COLD_EVENTS events over the BENCH_COLD_DAYS days before the hot window,
  under one committed archive batch (``INSERT ... SELECT FROM numbers()``);
- hot: BENCH_HOT_EVENTS events over the last 7 days (``generate_series``), of which 1%
  are late events on cold days, so dau and topEvents have days and types in both tiers.

Cold events draw users from a pool that grows to BENCH_USERS ids over the cold days (so
users keep arriving, and FIRST_SEEN cohorts fill), hot events from all of them; event
types are skewed over 20 names. Then, for each
question, BENCH_ROUNDS timed runs (after warm-up, the two alternating) of:

- api: the GraphQL query over HTTP (in-process ASGI app, a signed-in user's JWT);
- raw: the plain SQL each store needs for its own tier, both run concurrently as the
  API does, with no snapshot, no visibility filter, no cross-tier merge, no GraphQL.

Questions: dau over 90 days, topEvents over 30 days, retention over 12 weeks by WEEK
(FIRST_SEEN, 7 periods), and the first page (50) of the events listing. Prints p50/p95
in milliseconds and the API/raw ratio of each.

Environment: BENCH_COLD_EVENTS (default 10,000,000), BENCH_HOT_EVENTS (1,000,000),
BENCH_COLD_DAYS (180), BENCH_USERS (200,000), BENCH_ROUNDS (20), BENCH_DATABASE_URL
(postgresql://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL (redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from _engines import bench_services

from eventide.app import create_app
from eventide.auth import passwords, users
from eventide.auth.jwt_tokens import issue_access_token
from eventide.config import Settings
from eventide.storage.engines import Engines

HOT_DAYS = 7
TODAY = dt.datetime.now(dt.UTC).date()
NOW = dt.datetime.combine(TODAY, dt.time(), dt.UTC)
HOT_START = NOW - dt.timedelta(days=HOT_DAYS - 1)

COLD_FILL = """
INSERT INTO events (event_id, user_id, event_type, occurred_at, received_at, properties, batch_id)
SELECT concat('c', toString(number)),
       concat('user-', toString(cityHash64(number) %% (1 + intDiv(%(users)s * number, %(count)s)))),
       concat('type-', toString(toUInt32(sqrt(cityHash64(number, 1) %% 400)))),
       fromUnixTimestamp64Micro(toInt64(%(start)s + number * intDiv(%(span)s, %(count)s))),
       fromUnixTimestamp64Micro(toInt64(%(start)s + number * intDiv(%(span)s, %(count)s))),
       '{"plan":"pro"}', %(batch)s
FROM numbers(%(count)s)
"""
HOT_FILL = """
INSERT INTO events (event_id, user_id, event_type, occurred_at, received_at, properties)
SELECT 'h' || i,
       'user-' || abs(hashint8(i)) % $2,
       'type-' || floor(sqrt(abs(hashint8(-i)) % 400))::int,
       CASE WHEN i % 100 = 0 THEN $4::timestamptz - make_interval(secs => (i::bigint * 7919) % $5)
            ELSE $3::timestamptz + make_interval(secs => (i * 604800.0 / $1)::float8) END,
       now(), '{"plan": "pro"}'::jsonb
FROM generate_series(1, $1) AS i
"""

DAU = """query($range: DateRange!) { dau(range: $range) { date users } }"""
TOP = """query($range: DateRange!) { topEvents(range: $range) { eventType events users } }"""
RETENTION = """query($range: DateRange!) {
  retention(range: $range, period: WEEK, periods: 7) { cohort size retained } }"""
EVENTS = """query { events(first: 50) {
  edges { cursor node { eventId userId eventType occurredAt receivedAt properties } }
  pageInfo { hasNextPage endCursor } } }"""


def _range(days: int) -> dict[str, Any]:
    return {"range": {"from": str(TODAY - dt.timedelta(days=days - 1)), "to": str(TODAY)}}


def _us(value: dt.datetime) -> int:
    return (value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


async def fill(engines: Engines, *, cold: int, hot: int, cold_days: int, users_: int) -> None:
    cold_start = HOT_START - dt.timedelta(days=cold_days)
    async with engines.db.acquire() as conn:
        run = await conn.fetchval(
            "INSERT INTO archive_runs (trigger, cutoff, status, finished_at)"
            " VALUES ('cli', $1, 'succeeded', now()) RETURNING id",
            HOT_START,
        )
        batch = await conn.fetchval(
            "INSERT INTO archive_batches (run_id, day, state, moved, finished_at)"
            " VALUES ($1, $2, 'committed', $3, now()) RETURNING id",
            run,
            cold_start.date(),
            cold,
        )
        # As the archiver leaves it: everything before the hot window moved, except late events.
        await conn.execute(
            "INSERT INTO archive_watermark (archived_through) VALUES ($1)", HOT_START
        )
        days = [cold_start + dt.timedelta(days=d) for d in range(cold_days + HOT_DAYS + 1)]
        await conn.execute("SELECT ensure_event_partitions($1::timestamptz[])", days)
        await conn.execute(HOT_FILL, hot, users_, HOT_START, HOT_START, cold_days * 86400)
        await conn.execute("ANALYZE events")
    await engines.cold.execute(
        COLD_FILL,
        {
            "users": users_,
            "start": _us(cold_start),
            "span": cold_days * 86_400_000_000,
            "count": cold,
            "batch": batch,
        },
    )
    await engines.cold.execute("OPTIMIZE TABLE events FINAL")
    rows = await engines.cold.fetch(
        "SELECT count(), min(occurred_at), max(occurred_at) FROM events"
    )
    assert rows[0][0] == cold, rows
    assert rows[0][2] < HOT_START, rows


def raw_queries(engines: Engines) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Per question: the plain SQL of both stores, run concurrently."""
    db, cold = engines.db, engines.cold

    def since(days: int) -> dt.datetime:
        return NOW - dt.timedelta(days=days - 1)

    def ch_since(days: int) -> str:
        return f"occurred_at >= fromUnixTimestamp64Micro(toInt64({_us(since(days))}))"

    async def dau() -> Any:
        return await asyncio.gather(
            db.fetch(
                "SELECT (occurred_at AT TIME ZONE 'UTC')::date d, count(DISTINCT user_id)"
                " FROM events WHERE occurred_at >= $1 GROUP BY d",
                since(90),
            ),
            cold.fetch(
                "SELECT toDate(occurred_at) d, uniqExact(user_id) FROM events"
                f" WHERE {ch_since(90)} GROUP BY d"
            ),
        )

    async def top() -> Any:
        return await asyncio.gather(
            db.fetch(
                "SELECT event_type, count(*), count(DISTINCT user_id) FROM events"
                " WHERE occurred_at >= $1 GROUP BY event_type",
                since(30),
            ),
            cold.fetch(
                "SELECT event_type, count(), uniqExact(user_id) FROM events"
                f" WHERE {ch_since(30)} GROUP BY event_type"
            ),
        )

    async def retention() -> Any:
        weeks_start = NOW - dt.timedelta(days=TODAY.weekday() + 7 * 11)
        return await asyncio.gather(
            db.fetch(
                "SELECT user_id, date_trunc('week', occurred_at AT TIME ZONE 'UTC') w"
                " FROM events WHERE occurred_at >= $1 GROUP BY user_id, w",
                weeks_start,
            ),
            cold.fetch(
                f"""SELECT ck.1, ck.2, count() FROM (
                    SELECT f.user_id, f.c AS c, r.returns AS returns FROM (
                        SELECT user_id, toMonday(toDate(min(occurred_at))) AS c
                        FROM events GROUP BY user_id
                        HAVING c >= toDate('{weeks_start.date()}')) AS f
                    LEFT JOIN (
                        SELECT user_id, groupUniqArray(toMonday(toDate(occurred_at))) AS returns
                        FROM events
                        WHERE occurred_at >= fromUnixTimestamp64Micro(
                            toInt64({_us(weeks_start)}))
                        GROUP BY user_id) AS r ON f.user_id = r.user_id)
                ARRAY JOIN arrayMap(r -> (c, intDiv(r - c, 7)), arrayFilter(
                    r -> r >= c AND r <= c + 49, arrayDistinct(arrayConcat([c], returns)))) AS ck
                GROUP BY ck.1, ck.2"""
            ),
        )

    async def events() -> Any:
        return await asyncio.gather(
            db.fetch(
                "SELECT event_id, user_id, event_type, occurred_at, received_at, properties"
                " FROM events ORDER BY occurred_at DESC, event_id DESC LIMIT 51"
            ),
            cold.fetch(
                "SELECT event_id, user_id, event_type, occurred_at, received_at, properties"
                " FROM events ORDER BY occurred_at DESC, event_id DESC LIMIT 51"
            ),
        )

    return {
        "dau 90 days": dau,
        "topEvents 30 days": top,
        "retention 12 weeks": retention,
        "events first page": events,
    }


def api_queries(http: httpx.AsyncClient, token: str) -> dict[str, Callable[[], Awaitable[Any]]]:
    headers = {"Authorization": f"Bearer {token}"}

    def post(query: str, variables: dict[str, Any] | None = None) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            response = await http.post(
                "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
            )
            body = response.json()
            assert "errors" not in body, body["errors"]
            assert any(body["data"].values()), body  # a question with an answer
            return body

        return call

    return {
        "dau 90 days": post(DAU, _range(90)),
        "topEvents 30 days": post(TOP, _range(30)),
        "retention 12 weeks": post(RETENTION, _range(7 * 11 + TODAY.weekday() + 1)),
        "events first page": post(EVENTS),
    }


async def timings(
    api: Callable[[], Awaitable[Any]], raw: Callable[[], Awaitable[Any]], rounds: int
) -> tuple[list[float], list[float]]:
    """Milliseconds of each, after two warm-up calls, alternating so that both see the
    same load on a shared machine."""
    for _ in range(2):
        await api()
        await raw()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for call, into in ((api, samples[0]), (raw, samples[1])):
            started = time.perf_counter()
            await call()
            into.append((time.perf_counter() - started) * 1000)
    return samples


def p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


async def main() -> None:
    env = os.environ
    cold = int(env.get("BENCH_COLD_EVENTS", "10000000"))
    hot = int(env.get("BENCH_HOT_EVENTS", "1000000"))
    cold_days = int(env.get("BENCH_COLD_DAYS", "180"))
    users_ = int(env.get("BENCH_USERS", "200000"))
    rounds = int(env.get("BENCH_ROUNDS", "20"))
    async with bench_services() as engines:
        print(
            f"{cold:,} cold events over {cold_days} days, {hot:,} hot events "
            f"(1% late), {users_:,} user ids; ClickHouse: embedded chdb in this process"
        )
        started = time.perf_counter()
        await fill(engines, cold=cold, hot=hot, cold_days=cold_days, users_=users_)
        print(f"data set built in {time.perf_counter() - started:.0f} s")
        await measure(engines, engines.settings, rounds)


async def measure(engines: Engines, settings: Settings, rounds: int) -> None:
    account = await users.create_user(
        engines.db,
        username="bench",
        email="bench@example.test",
        password_hash=await passwords.hash_password(secrets.token_urlsafe(16)),
    )
    token = issue_access_token(settings, user_id=account.id, session_epoch=0)
    app = create_app(settings)
    app.state.engines = engines  # the engines opened here; the lifespan is not run
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as http:
        api = api_queries(http, token)
        raw = raw_queries(engines)
        print(
            f"{'question':<20} {'api p50':>9} {'api p95':>9} {'raw p50':>9} {'raw p95':>9}"
            f" {'p50 ratio':>10}   (milliseconds, {rounds} rounds)"
        )
        for name in api:
            api_ms, raw_ms = await timings(api[name], raw[name], rounds)
            print(
                f"{name:<20} {p(api_ms, 50):9.1f} {p(api_ms, 95):9.1f} {p(raw_ms, 50):9.1f}"
                f" {p(raw_ms, 95):9.1f} {p(api_ms, 50) / p(raw_ms, 50):9.2f}x"
            )


if __name__ == "__main__":
    # Every benchmark query is slower than the slow-query threshold: keep the table readable.
    logging.getLogger("eventide.operations").setLevel(logging.ERROR)
    asyncio.run(main())
