"""Analytics latency through POST /graphql, against raw SQL on the same stores, same run.

Builds a data set on a fresh PostgreSQL database (created and dropped here) and a fresh
embedded ClickHouse (chdb, owned by this process, in a temporary directory):

- cold: BENCH_COLD_EVENTS events over the BENCH_COLD_DAYS days before the hot window,
  in ``project_events`` (``INSERT ... SELECT FROM numbers()``);
- hot: BENCH_HOT_EVENTS events over the last 7 days (``generate_series``), of which 1%
  are late events on cold days, so dau and topEvents have days and types in both tiers.

The events, users and their ids are split over BENCH_PROJECTS projects (see _engines):
the big project holds 90% of them, the small ones the rest, each with a committed archive
batch of its own. Within a project, cold events draw users from a pool that grows to its
share of BENCH_USERS ids over the cold days (so users keep arriving, and FIRST_SEEN
cohorts fill), hot events from all of them; event types are skewed over 20 names. Then,
for a small project and for the big one, for each question, BENCH_ROUNDS timed runs
(after warm-up, the two alternating) of:

- api: the GraphQL query over HTTP (in-process ASGI app, a signed-in member's JWT, the
  project named by ``projectId``);
- raw: the plain SQL each store needs for its own tier, of the same project's rows, both
  run concurrently as the API does, with no snapshot, no visibility filter, no
  cross-tier merge, no GraphQL.

Questions: dau over 90 days, topEvents over 30 days, retention over 12 weeks by WEEK
(FIRST_SEEN, 7 periods), and the first page (50) of the events listing. Prints p50/p95
in milliseconds and the API/raw ratio of each, per project.

Environment: BENCH_COLD_EVENTS (default 10,000,000), BENCH_HOT_EVENTS (1,000,000),
BENCH_COLD_DAYS (180), BENCH_USERS (200,000), BENCH_ROUNDS (20), BENCH_PROJECTS (5),
BENCH_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL
(redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from _engines import PROJECTS, bench_account, bench_services, project_sizes

from eventide.app import create_app
from eventide.auth.jwt_tokens import issue_access_token
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import COLD_TABLE

HOT_DAYS = 7
TODAY = dt.datetime.now(dt.UTC).date()
NOW = dt.datetime.combine(TODAY, dt.time(), dt.UTC)
HOT_START = NOW - dt.timedelta(days=HOT_DAYS - 1)

COLD_FILL = f"""
INSERT INTO {COLD_TABLE} (project_id, event_id, user_id, event_type, occurred_at, received_at,
                          properties, batch_id)
SELECT %(project)s, concat('c', toString(number)),
       concat('user-', toString(cityHash64(number) %% (1 + intDiv(%(users)s * number, %(count)s)))),
       concat('type-', toString(toUInt32(sqrt(cityHash64(number, 1) %% 400)))),
       fromUnixTimestamp64Micro(toInt64(%(start)s + number * intDiv(%(span)s, %(count)s))),
       fromUnixTimestamp64Micro(toInt64(%(start)s + number * intDiv(%(span)s, %(count)s))),
       '{{"plan":"pro"}}', %(batch)s
FROM numbers(%(count)s)
"""
HOT_FILL = """
INSERT INTO events (project_id, event_id, user_id, event_type, occurred_at, received_at,
                    properties)
SELECT $6, 'h' || i,
       'user-' || abs(hashint8(i)) % $2,
       'type-' || floor(sqrt(abs(hashint8(-i)) % 400))::int,
       CASE WHEN i % 100 = 0 THEN $4::timestamptz - make_interval(secs => (i::bigint * 7919) % $5)
            ELSE $3::timestamptz + make_interval(secs => (i * 604800.0 / $1)::float8) END,
       now(), '{"plan": "pro"}'::jsonb
FROM generate_series(1, $1) AS i
"""

DAU = """query($range: DateRange!, $project: ID) {
  dau(range: $range, projectId: $project) { date users } }"""
TOP = """query($range: DateRange!, $project: ID) {
  topEvents(range: $range, projectId: $project) { eventType events users } }"""
RETENTION = """query($range: DateRange!, $project: ID) {
  retention(range: $range, period: WEEK, periods: 7, projectId: $project) {
    cohort size retained } }"""
EVENTS = """query($project: ID) { events(first: 50, projectId: $project) {
  edges { cursor node { eventId userId eventType occurredAt receivedAt properties } }
  pageInfo { hasNextPage endCursor } } }"""


def _range(days: int) -> dict[str, Any]:
    return {"range": {"from": str(TODAY - dt.timedelta(days=days - 1)), "to": str(TODAY)}}


def _us(value: dt.datetime) -> int:
    return (value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Size:
    """One project's share of the data set."""

    cold: int
    hot: int
    users: int


def sizes(*, cold: int, hot: int, users_: int, projects: int) -> list[Size]:
    """Each project's share, the big one first."""
    return [
        Size(*share)
        for share in zip(
            project_sizes(cold, projects),
            project_sizes(hot, projects),
            project_sizes(users_, projects),
            strict=True,
        )
    ]


async def fill(engines: Engines, projects: dict[int, Size], *, cold_days: int) -> None:
    cold_start = HOT_START - dt.timedelta(days=cold_days)
    batches = {}
    async with engines.db.acquire() as conn:
        run = await conn.fetchval(
            "INSERT INTO archive_runs (trigger, cutoff, status, finished_at)"
            " VALUES ('cli', $1, 'succeeded', now()) RETURNING id",
            HOT_START,
        )
        for project, size in projects.items():
            batches[project] = await conn.fetchval(
                "INSERT INTO archive_batches (run_id, project_id, day, state, moved, finished_at)"
                " VALUES ($1, $2, $3, 'committed', $4, now()) RETURNING id",
                run,
                project,
                cold_start.date(),
                size.cold,
            )
        # As the archiver leaves it: everything before the hot window moved, except late events.
        await conn.execute(
            "INSERT INTO archive_watermark (archived_through) VALUES ($1)", HOT_START
        )
        days = [cold_start + dt.timedelta(days=d) for d in range(cold_days + HOT_DAYS + 1)]
        await conn.execute("SELECT ensure_event_partitions($1::timestamptz[])", days)
        for project, size in projects.items():
            await conn.execute(
                HOT_FILL, size.hot, size.users, HOT_START, HOT_START, cold_days * 86400, project
            )
        await conn.execute("ANALYZE events")
    for project, size in projects.items():
        await engines.cold.execute(
            COLD_FILL,
            {
                "project": project,
                "users": size.users,
                "start": _us(cold_start),
                "span": cold_days * 86_400_000_000,
                "count": size.cold,
                "batch": batches[project],
            },
        )
    await engines.cold.execute(f"OPTIMIZE TABLE {COLD_TABLE} FINAL")
    rows = await engines.cold.fetch(
        f"SELECT project_id, count(), max(occurred_at) FROM {COLD_TABLE} GROUP BY project_id"
    )
    assert {row[0]: row[1] for row in rows} == {p: s.cold for p, s in projects.items()}, rows
    assert all(row[2] < HOT_START for row in rows), rows


def raw_queries(engines: Engines, project: int) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Per question: the plain SQL of both stores on ``project``'s rows, run concurrently."""
    db, cold = engines.db, engines.cold
    # The hot indexes and the cold key lead with the project, as the server's reads do.
    hot_rows = f"events WHERE project_id = {int(project)}"
    cold_rows = f"{COLD_TABLE} WHERE project_id = {int(project)}"

    def since(days: int) -> dt.datetime:
        return NOW - dt.timedelta(days=days - 1)

    def ch_since(days: int) -> str:
        return f"occurred_at >= fromUnixTimestamp64Micro(toInt64({_us(since(days))}))"

    async def dau() -> Any:
        return await asyncio.gather(
            db.fetch(
                "SELECT (occurred_at AT TIME ZONE 'UTC')::date d, count(DISTINCT user_id)"
                f" FROM {hot_rows} AND occurred_at >= $1 GROUP BY d",
                since(90),
            ),
            cold.fetch(
                "SELECT toDate(occurred_at) d, uniqExact(user_id)"
                f" FROM {cold_rows} AND {ch_since(90)} GROUP BY d"
            ),
        )

    async def top() -> Any:
        return await asyncio.gather(
            db.fetch(
                "SELECT event_type, count(*), count(DISTINCT user_id)"
                f" FROM {hot_rows} AND occurred_at >= $1 GROUP BY event_type",
                since(30),
            ),
            cold.fetch(
                "SELECT event_type, count(), uniqExact(user_id)"
                f" FROM {cold_rows} AND {ch_since(30)} GROUP BY event_type"
            ),
        )

    async def retention() -> Any:
        weeks_start = NOW - dt.timedelta(days=TODAY.weekday() + 7 * 11)
        return await asyncio.gather(
            db.fetch(
                "SELECT user_id, date_trunc('week', occurred_at AT TIME ZONE 'UTC') w"
                f" FROM {hot_rows} AND occurred_at >= $1 GROUP BY user_id, w",
                weeks_start,
            ),
            cold.fetch(
                f"""SELECT ck.1, ck.2, count() FROM (
                    SELECT f.user_id, f.c AS c, r.returns AS returns FROM (
                        SELECT user_id, toMonday(toDate(min(occurred_at))) AS c
                        FROM {cold_rows} GROUP BY user_id
                        HAVING c >= toDate('{weeks_start.date()}')) AS f
                    LEFT JOIN (
                        SELECT user_id, groupUniqArray(toMonday(toDate(occurred_at))) AS returns
                        FROM {cold_rows}
                        AND occurred_at >= fromUnixTimestamp64Micro(
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
                f" FROM {hot_rows} ORDER BY occurred_at DESC, event_id DESC LIMIT 51"
            ),
            cold.fetch(
                "SELECT event_id, user_id, event_type, occurred_at, received_at, properties"
                f" FROM {cold_rows} ORDER BY occurred_at DESC, event_id DESC LIMIT 51"
            ),
        )

    return {
        "dau 90 days": dau,
        "topEvents 30 days": top,
        "retention 12 weeks": retention,
        "events first page": events,
    }


def api_queries(
    http: httpx.AsyncClient, token: str, project: int
) -> dict[str, Callable[[], Awaitable[Any]]]:
    headers = {"Authorization": f"Bearer {token}"}

    def post(query: str, variables: dict[str, Any] | None = None) -> Callable[[], Awaitable[Any]]:
        request = {"query": query, "variables": {**(variables or {}), "project": str(project)}}

        async def call() -> Any:
            response = await http.post("/graphql", json=request, headers=headers)
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
    # The rounds ask far more than one caller's or one project's share: no rate limits here.
    limits = {"rate_limit_query_points": 0, "rate_limit_project_query_points": 0}
    async with bench_services(**limits) as engines:
        user_id, ids = await bench_account(engines.db, projects=PROJECTS)
        projects = dict(
            zip(ids, sizes(cold=cold, hot=hot, users_=users_, projects=len(ids)), strict=True)
        )
        print(
            f"{cold:,} cold events over {cold_days} days, {hot:,} hot events "
            f"(1% late), {users_:,} user ids; ClickHouse: embedded chdb in this process"
        )
        for number, (project, size) in enumerate(projects.items()):
            role = "big" if number == 0 and len(projects) > 1 else "small" if number else "only"
            print(
                f"project {project} ({role}): {size.cold:,} cold, {size.hot:,} hot events,"
                f" {size.users:,} user ids"
            )
        started = time.perf_counter()
        await fill(engines, projects, cold_days=cold_days)
        print(f"data set built in {time.perf_counter() - started:.0f} s")
        # A small project first, then the big one.
        measured = [("small", ids[1]), ("big", ids[0])] if len(ids) > 1 else [("only", ids[0])]
        await measure(engines, user_id, measured, rounds)


async def measure(
    engines: Engines, user_id: str, projects: list[tuple[str, int]], rounds: int
) -> None:
    token = issue_access_token(engines.settings, user_id=user_id, session_epoch=0)
    app = create_app(engines.settings)
    app.state.engines = engines  # the engines opened here; the lifespan is not run
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as http:
        calls = {
            label: (api_queries(http, token, project), raw_queries(engines, project))
            for label, project in projects
        }
        print(
            f"{'question':<20} {'project':>7} {'api p50':>9} {'api p95':>9} {'raw p50':>9}"
            f" {'raw p95':>9} {'p50 ratio':>10}   (milliseconds, {rounds} rounds)"
        )
        for name in calls[projects[0][0]][0]:
            for label, (api, raw) in calls.items():
                api_ms, raw_ms = await timings(api[name], raw[name], rounds)
                print(
                    f"{name:<20} {label:>7} {p(api_ms, 50):9.1f} {p(api_ms, 95):9.1f}"
                    f" {p(raw_ms, 50):9.1f} {p(raw_ms, 95):9.1f}"
                    f" {p(api_ms, 50) / p(raw_ms, 50):9.2f}x"
                )


if __name__ == "__main__":
    # Every benchmark query is slower than the slow-query threshold: keep the table readable.
    logging.getLogger("eventide.operations").setLevel(logging.ERROR)
    asyncio.run(main())
