"""Analytics latency through POST /graphql, against single-table designs of both engines.

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
(after warm-up, the three taking turns) of:

- api: the GraphQL query over HTTP (in-process ASGI app, a signed-in member's JWT, the
  project named by ``projectId``);
- ch-only: one SQL on a single ClickHouse MergeTree table holding every event of the run,
  hot and cold alike, keyed like ``project_events`` (project first), days by
  ClickHouse's own time-zone functions;
- pg-only: one SQL on a single PostgreSQL table holding every event, indexed by project,
  days by AT TIME ZONE.

Questions, with days in BENCH_TIMEZONE: dau over 90 days, topEvents over 30 days,
retention over 12 weeks by WEEK (FIRST_SEEN, 7 periods), and the first page (50) of the
events listing. Prints p50/p95 in milliseconds of each and the API/ch-only ratio, per
project. The first answer of each is compared, normalised, with the API's: any
difference is printed and the run exits non-zero.

Environment: BENCH_COLD_EVENTS (default 10,000,000), BENCH_HOT_EVENTS (1,000,000),
BENCH_COLD_DAYS (180), BENCH_USERS (200,000), BENCH_ROUNDS (20), BENCH_PROJECTS (5),
BENCH_TIMEZONE (America/New_York),
BENCH_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL
(redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from _engines import (
    PROJECTS,
    REFERENCE_TABLE,
    bench_account,
    bench_services,
    build_references,
    project_sizes,
)

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

DAU = """query($range: DateRange!, $tz: String!, $project: ID) {
  dau(range: $range, timezone: $tz, projectId: $project) { date users } }"""
TOP = """query($range: DateRange!, $tz: String!, $project: ID) {
  topEvents(range: $range, timezone: $tz, projectId: $project) { eventType events users } }"""
RETENTION = """query($range: DateRange!, $tz: String!, $project: ID) {
  retention(range: $range, period: WEEK, periods: 7, timezone: $tz, projectId: $project) {
    cohort size retained } }"""
EVENTS = """query($project: ID) { events(first: 50, projectId: $project) {
  edges { cursor node { eventId userId eventType occurredAt receivedAt properties } }
  pageInfo { hasNextPage endCursor } } }"""
QUESTIONS = ("dau 90 days", "topEvents 30 days", "retention 12 weeks", "events first page")
TOP_LIMIT = 10  # topEvents' default
PERIODS = 7
PAGE = 50


@dataclass(frozen=True)
class Days:
    """The inclusive range of calendar days ending today, read in ``tz``."""

    days: int
    tz: str

    @property
    def first(self) -> dt.date:
        return TODAY - dt.timedelta(days=self.days - 1)

    def dates(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=d) for d in range(self.days)]

    def instant(self, day: dt.date) -> dt.datetime:
        """When ``day`` starts in ``tz`` (a day of 23 or 25 hours is no exception)."""
        return dt.datetime.combine(day, dt.time(), ZoneInfo(self.tz)).astimezone(dt.UTC)

    @property
    def start(self) -> dt.datetime:
        return self.instant(self.first)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the range."""
        return self.instant(TODAY + dt.timedelta(days=1))

    def variables(self) -> dict[str, Any]:
        return {"range": {"from": str(self.first), "to": str(TODAY)}, "tz": self.tz}


def windows(tz: str) -> dict[str, Days]:
    """Each question's days; retention's are the 12 weeks (Monday first) up to this one."""
    return {
        "dau 90 days": Days(90, tz),
        "topEvents 30 days": Days(30, tz),
        "retention 12 weeks": Days(7 * 11 + TODAY.weekday() + 1, tz),
    }


def _us(value: dt.datetime) -> int:
    return (value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def _instant(value: Any) -> dt.datetime:
    """An instant in UTC, from an ISO string or a datetime of either store."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=value.tzinfo or dt.UTC).astimezone(dt.UTC)


def _properties(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value else value or None


# Each question's answer in one comparable form, built from the API's JSON or from the
# rows of a reference's SQL: the API's lists are taken as they come (order, every day and
# every cohort included), a reference's rows are completed to the same shape.


def dau_answer(days: Days, rows: list[Any]) -> list[tuple[dt.date, int]]:
    users = {day: count for day, count in rows}
    return [(day, users.get(day, 0)) for day in days.dates()]


def retention_answer(days: Days, rows: list[Any]) -> list[tuple[dt.date, int, tuple[int, ...]]]:
    """Rows of (cohort, period offset, users); retained[0] is the cohort's size."""
    retained = {(cohort, offset): users for cohort, offset, users in rows}
    cohorts = days.dates()[::7]
    return [
        (
            cohort,
            retained.get((cohort, 0), 0),
            tuple(retained.get((cohort, k), 0) for k in range(PERIODS + 1)),
        )
        for cohort in cohorts
    ]


def events_answer(rows: list[Any]) -> tuple[list[tuple[Any, ...]], bool]:
    """Rows of PAGE + 1 at most: the page, and whether another follows."""
    page = [
        (event_id, user_id, event_type, _instant(occurred), _instant(received), _properties(p))
        for event_id, user_id, event_type, occurred, received, p in rows[:PAGE]
    ]
    return page, len(rows) > PAGE


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


Call = Callable[[], Awaitable[Any]]


def ch_queries(engines: Engines, project: int, tz: str) -> dict[str, Call]:
    """ch-only: one SQL per question on the ClickHouse table of every event, days by
    ClickHouse's own time-zone functions."""
    cold, q = engines.cold, windows(tz)
    rows = f"{REFERENCE_TABLE} WHERE project_id = {int(project)}"
    zone = f"'{tz}'"

    def between(days: Days) -> str:
        return (
            f"occurred_at >= fromUnixTimestamp64Micro(toInt64({_us(days.start)}))"
            f" AND occurred_at < fromUnixTimestamp64Micro(toInt64({_us(days.end)}))"
        )

    async def dau() -> Any:
        days = q["dau 90 days"]
        return dau_answer(
            days,
            await cold.fetch(
                f"SELECT toDate(occurred_at, {zone}) AS day, uniqExact(user_id)"
                f" FROM {rows} AND {between(days)} GROUP BY day"
            ),
        )

    async def top() -> Any:
        days = q["topEvents 30 days"]
        answer = await cold.fetch(
            "SELECT toString(event_type) AS type, count() AS events, uniqExact(user_id)"
            f" FROM {rows} AND {between(days)}"
            f" GROUP BY type ORDER BY events DESC, type ASC LIMIT {TOP_LIMIT}"
        )
        return [tuple(row) for row in answer]

    async def retention() -> Any:
        days = q["retention 12 weeks"]
        return retention_answer(
            days,
            await cold.fetch(
                f"""SELECT f.cohort, intDiv(dateDiff('day', f.cohort, w.week), 7) AS k, count()
                FROM (SELECT user_id, toMonday(toDate(min(occurred_at), {zone})) AS cohort
                      FROM {rows} GROUP BY user_id
                      HAVING cohort BETWEEN toDate('{days.first}') AND toDate('{TODAY}')) AS f
                INNER JOIN (SELECT DISTINCT user_id, toMonday(toDate(occurred_at, {zone})) AS week
                            FROM {rows} AND {between(days)}) AS w USING (user_id)
                WHERE w.week >= f.cohort AND w.week <= f.cohort + {7 * PERIODS}
                GROUP BY f.cohort, k"""
            ),
        )

    async def events() -> Any:
        return events_answer(
            await cold.fetch(
                "SELECT event_id, user_id, event_type, occurred_at, received_at, properties"
                f" FROM {rows} ORDER BY occurred_at DESC, event_id DESC LIMIT {PAGE + 1}"
            )
        )

    return dict(zip(QUESTIONS, (dau, top, retention, events), strict=True))


def pg_queries(engines: Engines, project: int, tz: str) -> dict[str, Call]:
    """pg-only: one SQL per question on the PostgreSQL table of every event, days by
    AT TIME ZONE."""
    db, q = engines.db, windows(tz)
    rows = f"{REFERENCE_TABLE} WHERE project_id = {int(project)}"
    between = "occurred_at >= $2 AND occurred_at < $3"

    async def dau() -> Any:
        days = q["dau 90 days"]
        return dau_answer(
            days,
            await db.fetch(
                "SELECT (occurred_at AT TIME ZONE $1)::date AS day, count(DISTINCT user_id)"
                f" FROM {rows} AND {between} GROUP BY day",
                tz, days.start, days.end,
            ),
        )  # fmt: skip

    async def top() -> Any:
        days = q["topEvents 30 days"]
        answer = await db.fetch(
            "SELECT event_type, count(*) AS events, count(DISTINCT user_id)"
            f" FROM {rows} AND occurred_at >= $1 AND occurred_at < $2 GROUP BY event_type"
            f' ORDER BY events DESC, event_type COLLATE "C" LIMIT {TOP_LIMIT}',
            days.start, days.end,
        )  # fmt: skip
        return [tuple(row) for row in answer]

    async def retention() -> Any:
        days = q["retention 12 weeks"]
        return retention_answer(
            days,
            await db.fetch(
                f"""WITH firsts AS (
                    SELECT user_id,
                           date_trunc('week', min(occurred_at) AT TIME ZONE $1)::date AS cohort
                    FROM {rows} GROUP BY user_id),
                weeks AS (
                    SELECT DISTINCT user_id,
                           date_trunc('week', occurred_at AT TIME ZONE $1)::date AS week
                    FROM {rows} AND {between})
                SELECT f.cohort, (w.week - f.cohort) / 7 AS k, count(*)
                FROM firsts f JOIN weeks w USING (user_id)
                WHERE f.cohort BETWEEN $4 AND $5
                  AND w.week BETWEEN f.cohort AND f.cohort + {7 * PERIODS}
                GROUP BY f.cohort, k""",
                tz, days.start, days.end, days.first, TODAY,
            ),
        )  # fmt: skip

    async def events() -> Any:
        return events_answer(
            await db.fetch(
                "SELECT event_id, user_id, event_type, occurred_at, received_at, properties"
                f' FROM {rows} ORDER BY occurred_at DESC, event_id COLLATE "C" DESC'
                f" LIMIT {PAGE + 1}"
            )
        )

    return dict(zip(QUESTIONS, (dau, top, retention, events), strict=True))


def api_queries(http: httpx.AsyncClient, token: str, project: int, tz: str) -> dict[str, Call]:
    """api: each question through POST /graphql, its JSON in the references' form."""
    headers = {"Authorization": f"Bearer {token}"}
    q = windows(tz)

    def post(query: str, variables: dict[str, Any], answer: Callable[[Any], Any]) -> Call:
        request = {"query": query, "variables": {**variables, "project": str(project)}}

        async def call() -> Any:
            response = await http.post("/graphql", json=request, headers=headers)
            body = response.json()
            assert "errors" not in body, body["errors"]
            (data,) = body["data"].values()
            assert data, body  # a question with an answer
            return answer(data)

        return call

    def events(data: Any) -> Any:
        rows = [
            tuple(edge["node"][f] for f in (
                "eventId", "userId", "eventType", "occurredAt", "receivedAt", "properties"
            ))
            for edge in data["edges"]
        ]  # fmt: skip
        page, _ = events_answer(rows)
        return page, data["pageInfo"]["hasNextPage"]

    return {
        "dau 90 days": post(
            DAU,
            q["dau 90 days"].variables(),
            lambda data: [(dt.date.fromisoformat(r["date"]), r["users"]) for r in data],
        ),
        "topEvents 30 days": post(
            TOP,
            q["topEvents 30 days"].variables(),
            lambda data: [(r["eventType"], r["events"], r["users"]) for r in data],
        ),
        "retention 12 weeks": post(
            RETENTION,
            q["retention 12 weeks"].variables(),
            lambda data: [
                (dt.date.fromisoformat(r["cohort"]), r["size"], tuple(r["retained"])) for r in data
            ],
        ),
        "events first page": post(EVENTS, {}, events),
    }


async def timings(
    calls: dict[str, Call], rounds: int
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Each call's answer (from the first of two warm-up calls) and its milliseconds per
    round, the calls taking turns so that all see the same load on a shared machine."""
    answers = {name: await call() for name, call in calls.items()}
    for call in calls.values():
        await call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            await call()
            samples[name].append((time.perf_counter() - started) * 1000)
    return answers, samples


def p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def difference(expected: Any, actual: Any) -> str:
    """Where two answers part: the first differing entry of their lists."""
    if isinstance(expected, tuple) and len(expected) == 2 and isinstance(expected[1], bool):
        if expected[1] != actual[1]:
            return f"hasNextPage {expected[1]} vs {actual[1]}"
        expected, actual = expected[0], actual[0]
    for index, (left, right) in enumerate(zip(expected, actual, strict=False)):
        if left != right:
            return f"entry {index}: {left!r} vs {right!r}"
    return f"{len(expected)} entries vs {len(actual)}"


async def main() -> None:
    env = os.environ
    cold = int(env.get("BENCH_COLD_EVENTS", "10000000"))
    hot = int(env.get("BENCH_HOT_EVENTS", "1000000"))
    cold_days = int(env.get("BENCH_COLD_DAYS", "180"))
    users_ = int(env.get("BENCH_USERS", "200000"))
    rounds = int(env.get("BENCH_ROUNDS", "20"))
    tz = env.get("BENCH_TIMEZONE", "America/New_York")
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
        with tempfile.TemporaryDirectory() as workdir:
            await build_references(engines, hot="events", cold=COLD_TABLE, workdir=Path(workdir))
        print(f"data set built in {time.perf_counter() - started:.0f} s")
        # A small project first, then the big one.
        measured = [("small", ids[1]), ("big", ids[0])] if len(ids) > 1 else [("only", ids[0])]
        await measure(engines, user_id, measured, rounds, tz)


async def measure(
    engines: Engines, user_id: str, projects: list[tuple[str, int]], rounds: int, tz: str
) -> None:
    token = issue_access_token(engines.settings, user_id=user_id, session_epoch=0)
    app = create_app(engines.settings)
    app.state.engines = engines  # the engines opened here; the lifespan is not run
    transport = httpx.ASGITransport(app=app)
    differences = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as http:
        calls = {
            label: {
                "api": api_queries(http, token, project, tz),
                "ch-only": ch_queries(engines, project, tz),
                "pg-only": pg_queries(engines, project, tz),
            }
            for label, project in projects
        }
        print(
            f"{'question':<20} {'project':>7}"
            + "".join(
                f" {f'{who} {q}':>12}" for who in calls[projects[0][0]] for q in ("p50", "p95")
            )
            + f" {'api/ch-only':>11}  answers   (milliseconds, {rounds} rounds, days in {tz})"
        )
        for name in QUESTIONS:
            for label, designs in calls.items():
                answers, ms = await timings(
                    {who: design[name] for who, design in designs.items()}, rounds
                )
                unequal = [who for who in answers if answers[who] != answers["api"]]
                differences += [
                    f"{name}, {label} project: api and {who} differ at"
                    f" {difference(answers['api'], answers[who])}"
                    for who in unequal
                ]
                print(
                    f"{name:<20} {label:>7}"
                    + "".join(f" {p(ms[who], q):12.1f}" for who in ms for q in (50, 95))
                    + f" {p(ms['api'], 50) / p(ms['ch-only'], 50):10.2f}x"
                    + f"  {'differ: ' + ', '.join(unequal) if unequal else 'equal'}"
                )
    if differences:
        sys.exit("the answers differ:\n" + "\n".join(differences))
    print("every answer of the api equals both references'")


if __name__ == "__main__":
    # Every benchmark query is slower than the slow-query threshold: keep the table readable.
    logging.getLogger("eventide.operations").setLevel(logging.ERROR)
    asyncio.run(main())
