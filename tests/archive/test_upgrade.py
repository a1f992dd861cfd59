"""A server from before projects upgrades in place: its data becomes project 1 (Default)
and answers as before, while archive passes rewrite its cold rows into the current layout,
whenever they are interrupted and whoever reads meanwhile."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from eventide.analytics.calendar import Period
from eventide.analytics.dau import daily_active_users
from eventide.analytics.listing import Event, EventFilter, list_events
from eventide.analytics.retention import CohortKind, retention
from eventide.analytics.top_events import top_events
from eventide.app import create_app
from eventide.archive import cold_batches
from eventide.archive.archiver import archive_pass
from eventide.auth._secrets import digest, new_secret
from eventide.auth.api_tokens import TOKEN_PREFIX
from eventide.config import Settings
from eventide.storage import _sql_files, postgres
from eventide.storage.clickhouse import ColdStore, EmbeddedColdStore, NativeColdStore
from eventide.storage.engines import Engines
from tests.analytics import oracle
from tests.archive.tiers import NOW, copied_events, read_tiers
from tests.conftest import SESSION_ID, _with_database
from tests.graphql_client import GraphQLClient

pytestmark = pytest.mark.slow  # a database of its own per test, and many passes

# The last migration of each folder before projects existed.
BEFORE_PROJECTS = {"migrations": "0003", "clickhouse_ddl": "0001"}
# Days the old server had archived, each in one batch of the old cold layout.
OLD_COLD_DAYS = [dt.date(2026, 10, 1) + dt.timedelta(days=i) for i in range(8)]
# Hot days: one the next pass at NOW moves cold, one it keeps hot.
HOT_DAYS = [dt.date(2026, 11, 10), dt.date(2026, 11, 20)]
USERS = [f"user-{i}" for i in range(12)] + ["o'brien", "100%"]
TYPES = ["view", "click", "buy"]
FIRST, LAST = dt.date(2026, 9, 28), NOW.date()


@dataclasses.dataclass
class OldServer:
    engines: Engines
    events: list[Event]  # every accepted event, as the oracle sees them
    admin: uuid.UUID
    users: list[uuid.UUID]
    token: str  # an API token with INGEST and READ


# --- A database of its own, at the schema from before projects --------------------------


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _cold_store(settings: Settings, shared: ColdStore, database: str) -> ColdStore:
    if isinstance(shared, EmbeddedColdStore):
        # One embedded engine per process: another database in it.
        path = str(settings.data_dir / "clickhouse")
        return await asyncio.to_thread(EmbeddedColdStore, path, database)
    assert isinstance(shared, NativeColdStore)
    assert settings.clickhouse_url
    url = _with_database(settings.clickhouse_url, database)
    return await asyncio.to_thread(NativeColdStore, url)


async def migrate(engines: Engines, *, through: dict[str, str] | None = None) -> None:
    """Apply the numbered files as opening the engines does; only those up to ``through``
    (a version per folder) when given."""
    load = _sql_files.load

    def files_through(name: str) -> list[_sql_files.SqlFile]:
        return [f for f in load(name) if through is None or f.version <= through[name]]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_sql_files, "load", files_through)
        async with engines.db.acquire() as conn:
            await postgres.migrate(conn)
        await engines.cold.migrate()


@pytest.fixture
async def fresh(engines: Engines, settings: Settings) -> AsyncIterator[Engines]:
    """Engines on an empty PostgreSQL and ClickHouse database, not migrated."""
    assert settings.database_url
    name = f"eventide_upgrade_{SESSION_ID}_{uuid.uuid4().hex[:8]}"
    await _admin(settings.database_url, f'CREATE DATABASE "{name}"')
    url = _with_database(settings.database_url, name)
    pool = await postgres.create_pool(url, size=8)
    cold = await _cold_store(settings, engines.cold, name)
    try:
        yield Engines(
            settings=dataclasses.replace(settings, database_url=url),
            db=pool,
            cold=cold,
            redis=engines.redis,
        )
    finally:
        await pool.close()
        await cold.close()
        await engines.cold.execute(f"DROP DATABASE IF EXISTS {name} SYNC")
        await _admin(settings.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _events(rng: random.Random, prefix: str, day: dt.date, count: int) -> list[Event]:
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    events = []
    for i in range(count):
        occurred = start + dt.timedelta(microseconds=rng.randrange(86_400_000_000))
        events.append(
            Event(
                event_id=f"{prefix}-{i:03d}",
                user_id=rng.choice(USERS),
                event_type=rng.choice(TYPES),
                occurred_at=occurred,
                received_at=occurred + dt.timedelta(seconds=rng.randrange(3600)),
                properties=rng.choice([None, {"i": i, "day": day.isoformat()}]),
            )
        )
    return events


def _cold_rows(events: list[Event], batch: int) -> list[tuple[Any, ...]]:
    return [
        (
            e.event_id,
            e.user_id,
            e.event_type,
            e.occurred_at,
            e.received_at,
            "" if e.properties is None else json.dumps(e.properties),
            batch,
        )
        for e in events
    ]


# The cold layout before projects: the current columns but the project.
OLD_COLD_COLUMNS = cold_batches.COLUMNS[1:]


async def fill_the_old_way(engines: Engines, *, days: list[dt.date] = OLD_COLD_DAYS) -> OldServer:
    """What a server from before projects holds: hot rows and a ledger without projects,
    committed batches in the old cold layout (and the leftovers of an aborted and of an
    interrupted batch), accounts and an API token."""
    rng = random.Random(20261001)
    cold = {day: _events(rng, f"cold-{day}", day, 30) for day in days}
    hot = [e for day in HOT_DAYS for e in _events(rng, f"hot-{day}", day, 40)]
    late = _events(rng, "late", days[len(days) // 2], 15)  # arrived after its day moved
    ghosts = _events(rng, "ghost", days[1], 10)  # rows of batches that never counted
    db = engines.db
    run = await db.fetchval(
        """INSERT INTO archive_runs (trigger, cutoff, status, finished_at, moved)
           VALUES ('schedule', $1, 'succeeded', $1, $2) RETURNING id""",
        dt.datetime.combine(days[-1], dt.time(), dt.UTC) + dt.timedelta(days=1),
        sum(len(v) for v in cold.values()),
    )
    for i, (day, events) in enumerate(cold.items()):
        batch = await db.fetchval(
            """INSERT INTO archive_batches (run_id, day, state, finished_at, moved)
               VALUES ($1, $2, 'committed', now(), $3) RETURNING id""",
            run,
            day,
            len(events),
        )
        await engines.cold.insert("events", OLD_COLD_COLUMNS, _cold_rows(events, batch))
        if i == 1:  # an aborted batch between committed ones: excluded by readers
            aborted = await db.fetchval(
                """INSERT INTO archive_batches (run_id, day, state, finished_at, moved)
                   VALUES ($1, $2, 'aborted', now(), 5) RETURNING id""",
                run,
                day,
            )
            await engines.cold.insert("events", OLD_COLD_COLUMNS, _cold_rows(ghosts[:5], aborted))
    # A batch a dead pass left copying, its rows half sent.
    dead = await db.fetchval(
        """INSERT INTO archive_runs (trigger, cutoff) VALUES ('schedule', $1) RETURNING id""",
        dt.datetime.combine(days[-1], dt.time(), dt.UTC) + dt.timedelta(days=2),
    )
    copying = await db.fetchval(
        """INSERT INTO archive_batches (run_id, day, state, moved)
           VALUES ($1, $2, 'copying', 5) RETURNING id""",
        dead,
        days[-1],
    )
    await engines.cold.insert("events", OLD_COLD_COLUMNS, _cold_rows(ghosts[5:], copying))
    await db.execute(
        "INSERT INTO archive_watermark (archived_through) VALUES ($1)",
        dt.datetime.combine(days[-1], dt.time(), dt.UTC) + dt.timedelta(days=1),
    )
    await db.execute(
        "SELECT ensure_event_partitions($1::timestamptz[])", [e.occurred_at for e in hot + late]
    )
    await db.executemany(
        """INSERT INTO events (event_id, user_id, event_type, occurred_at, received_at,
                               properties)
           VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)""",
        [
            (
                e.event_id,
                e.user_id,
                e.event_type,
                e.occurred_at,
                e.received_at,
                None if e.properties is None else json.dumps(e.properties),
            )
            for e in hot + late
        ],
    )
    accepted = [e for events in cold.values() for e in events] + hot + late
    await db.executemany(
        "INSERT INTO event_ids (event_id, received_at) VALUES ($1, now())",
        [(e.event_id,) for e in accepted],
    )
    accounts = []
    for name, role in (("root", "ADMIN"), ("ada", "USER"), ("bob", "USER")):
        accounts.append(
            await db.fetchval(
                """INSERT INTO users (username, email, password_hash, role)
                   VALUES ($1, $1 || '@example.test', 'not a hash', $2) RETURNING id""",
                name,
                role,
            )
        )
    secret = new_secret(TOKEN_PREFIX)
    await db.execute(
        """INSERT INTO api_tokens (user_id, name, prefix, token_hash, scopes)
           VALUES ($1, 'old token', $2, $3, ARRAY['INGEST', 'READ'])""",
        accounts[1],
        secret[:8],
        digest(secret),
    )
    return OldServer(engines, accepted, accounts[0], accounts[1:], secret)


@pytest.fixture
async def old(fresh: Engines) -> OldServer:
    await migrate(fresh, through=BEFORE_PROJECTS)
    assert "project_id" not in await _columns(fresh.db, "events")
    return await fill_the_old_way(fresh)


async def _columns(db: asyncpg.Pool, table: str) -> set[str]:
    rows = await db.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1", table
    )
    return {r["column_name"] for r in rows}


# --- Every question, asked of the server and of the oracle ------------------------------

TIMEZONES = ["UTC", "America/New_York"]
Answers = dict[tuple[Any, ...], Any]


def _questions() -> list[tuple[Any, ...]]:
    questions: list[tuple[Any, ...]] = []
    for tz in TIMEZONES:
        questions += [("dau", tz, kind) for kind in (None, "buy")]
        questions.append(("top", tz))
    for period in Period:
        for kind in CohortKind:
            for types in ((None, None), ("view", "buy")):
                questions.append(("retention", "Europe/Berlin", period, kind, *types))
    questions += [("events", EventFilter(), 37), ("events", EventFilter(user_id="o'brien"), 5)]
    return questions


QUESTIONS = _questions()


async def answers(engines: Engines, project: int = 1) -> Answers:
    got: Answers = {}
    for question in QUESTIONS:
        match question:
            case ("dau", tz, kind):
                rows = await daily_active_users(
                    engines, project=project, first=FIRST, last=LAST, timezone=tz, event_type=kind
                )
                got[question] = [(r.date, r.users) for r in rows]
            case ("top", tz):
                top = await top_events(
                    engines, project=project, first=FIRST, last=LAST, timezone=tz, limit=10
                )
                got[question] = [(r.event_type, r.events, r.users) for r in top]
            case ("retention", tz, period, kind, cohort, returning):
                cohorts = await retention(
                    engines,
                    project=project,
                    first=FIRST,
                    last=LAST,
                    period=period,
                    periods=6,
                    kind=kind,
                    timezone=tz,
                    cohort_event_type=cohort,
                    return_event_type=returning,
                )
                got[question] = [(r.cohort, r.size, r.retained) for r in cohorts]
            case ("events", where, page_size):
                got[question] = await _listed(engines, project, where, page_size)
    return got


async def _listed(engines: Engines, project: int, where: EventFilter, size: int) -> list[Event]:
    seen: list[Event] = []
    below = None
    while True:
        page = await list_events(engines, project=project, where=where, first=size, below=below)
        seen.extend(page.events)
        if not page.has_next_page:
            return seen
        below = page.events[-1].key


def expected(events: list[Event]) -> Answers:
    want: Answers = {}
    for question in QUESTIONS:
        match question:
            case ("dau", tz, kind):
                want[question] = oracle.dau(events, FIRST, LAST, ZoneInfo(tz), kind)
            case ("top", tz):
                want[question] = oracle.top_events(events, FIRST, LAST, ZoneInfo(tz), 10)
            case ("retention", tz, period, kind, cohort, returning):
                want[question] = oracle.retention(
                    events,
                    FIRST,
                    LAST,
                    ZoneInfo(tz),
                    period=period.value,
                    periods=6,
                    kind=kind.value,
                    cohort_type=cohort,
                    return_type=returning,
                )
            case ("events", where, _):
                want[question] = oracle.listing(events, where)
    return want


async def assert_as_before(server: OldServer) -> None:
    assert await answers(server.engines) == expected(server.events)
    tiers = await read_tiers(server.engines, project=1)
    assert tiers.all == Counter(e.event_id for e in server.events)


async def old_table_present(engines: Engines) -> bool:
    rows = await engines.cold.fetch(
        "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'events'"
    )
    return bool(rows[0][0])


async def assert_rewritten(server: OldServer) -> None:
    """No row of the old layout counts any more, and its table is gone."""
    assert not await old_table_present(server.engines)
    legacy = await server.engines.db.fetch(
        "SELECT state, cleaned FROM archive_batches WHERE legacy"
    )
    assert {(r["state"], r["cleaned"]) for r in legacy} == {
        ("superseded", True),
        ("aborted", True),
    }
    assert await server.engines.db.fetchval(
        "SELECT count(*) FROM archive_batches WHERE supersedes IS NOT NULL AND state = 'committed'"
    ) == len(OLD_COLD_DAYS)


# --- The upgrade ----------------------------------------------------------------------------


async def test_the_old_data_answers_as_before_through_and_after_the_rewrite(
    old: OldServer,
) -> None:
    engines = old.engines
    await migrate(engines)
    assert "project_id" in await _columns(engines.db, "events")
    await assert_as_before(old)

    project = await engines.db.fetchrow("SELECT id, name, deleted_at FROM projects")
    assert (project["id"], project["name"], project["deleted_at"]) == (1, "Default", None)
    members = await engines.db.fetch("SELECT project_id, user_id, role FROM project_members")
    assert {(r["project_id"], r["user_id"], r["role"]) for r in members} == {
        (1, old.admin, "OWNER"),
        *((1, user, "EDITOR") for user in old.users),
    }
    assert await engines.db.fetchval("SELECT project_id FROM api_tokens") == 1
    # New projects are numbered after Default.
    assert (
        await engines.db.fetchval("INSERT INTO projects (name) VALUES ('next') RETURNING id") == 2
    )

    await _the_old_token_acts_in_default(old)
    await assert_as_before(old)

    checked: Counter[str] = Counter()

    async def check(step: str) -> None:
        if step.startswith("relayout_"):
            checked[step] += 1
            await assert_as_before(old)

    run = await archive_pass(engines, trigger="cli", now=NOW, faults=check)
    assert run.status == "succeeded"
    assert checked == {
        "relayout_copied": len(OLD_COLD_DAYS),
        "relayout_committed": len(OLD_COLD_DAYS),
    }
    await assert_rewritten(old)
    await assert_as_before(old)
    tiers = await read_tiers(engines, project=1)
    # Both hot days are closed: one left PostgreSQL, the other's copy stays in it.
    assert tiers.hot == []
    copied = await copied_events(engines)
    assert copied
    assert all(e.startswith(f"hot-{HOT_DAYS[1]}") for e in copied)

    # Later passes find nothing more to rewrite, and a restart migrates nothing.
    await archive_pass(engines, trigger="cli", now=NOW)
    await migrate(engines)
    await assert_rewritten(old)
    await assert_as_before(old)


async def _the_old_token_acts_in_default(old: OldServer) -> None:
    app = create_app(old.engines.settings)
    app.state.engines = old.engines
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://eventide.test") as http:
        client = GraphQLClient(http)
        body = await client.execute(
            """query($r: DateRange!) { dau(range: $r) { date users } }""",
            {"r": {"from": FIRST.isoformat(), "to": LAST.isoformat()}},
            token=old.token,
        )
        assert "errors" not in body, body
        assert [(dt.date.fromisoformat(r["date"]), r["users"]) for r in body["data"]["dau"]] == (
            oracle.dau(old.events, FIRST, LAST, ZoneInfo("UTC"), None)
        )
        known = old.events[0]
        new = dataclasses.replace(
            known,
            event_id="after-upgrade",
            occurred_at=dt.datetime(2026, 10, 2, 12, tzinfo=dt.UTC),
            properties=None,
        )
        body = await client.execute(
            """mutation($e: [EventInput!]!) {
                 ingestEvents(events: $e) { accepted duplicates rejected { index } } }""",
            {
                "e": [
                    {
                        "eventId": e.event_id,
                        "userId": e.user_id,
                        "eventType": e.event_type,
                        "occurredAt": e.occurred_at.isoformat(),
                    }
                    for e in (known, new)
                ]
            },
            token=old.token,
        )
        assert body["data"]["ingestEvents"] == {"accepted": 1, "duplicates": 1, "rejected": []}
    stored = await old.engines.db.fetchrow(
        "SELECT project_id, received_at FROM events WHERE event_id = 'after-upgrade'"
    )
    assert stored["project_id"] == 1
    old.events.append(dataclasses.replace(new, received_at=stored["received_at"]))


class Killed(BaseException):
    """Stands for the process dying: no ``except Exception`` handler of the pass runs."""


# (step, the how-manieth time it is reached in a pass, passes killed there in a row)
KILLS = [
    ("relayout_copied", 1, 2),
    ("relayout_copied", 5, 1),
    ("relayout_committed", 1, 2),
    ("relayout_committed", len(OLD_COLD_DAYS), 1),  # every batch rewritten, table not dropped
    ("chunk_copied", 1, 2),  # the hot move after the rewrite
]


@pytest.mark.parametrize(("step", "nth", "times"), KILLS, ids=[f"{s}-{n}" for s, n, _ in KILLS])
async def test_a_rewrite_killed_at_any_step_loses_and_doubles_nothing(
    old: OldServer, step: str, nth: int, times: int
) -> None:
    await migrate(old.engines)
    seen: Counter[str] = Counter()

    async def kill(name: str) -> None:
        seen[name] += 1
        if name == step and seen[name] == nth:
            raise Killed

    for _ in range(times):  # killed again: the next pass starts where the last one died
        seen.clear()
        with pytest.raises(Killed):
            await archive_pass(old.engines, trigger="cli", now=NOW, faults=kill)
        await assert_as_before(old)
    assert await old_table_present(old.engines) == step.startswith("relayout_")

    run = await archive_pass(old.engines, trigger="cli", now=NOW)
    assert run.status == "succeeded"
    await assert_rewritten(old)
    await assert_as_before(old)
    # Rows of interrupted copies are deleted from the current layout, not only hidden.
    visible = await old.engines.cold.fetch(
        "SELECT count() FROM project_events WHERE batch_id IN %(ids)s",
        {
            "ids": tuple(
                r["id"]
                for r in await old.engines.db.fetch(
                    "SELECT id FROM archive_batches WHERE state = 'committed'"
                )
            )
        },
    )
    total = await old.engines.cold.fetch("SELECT count() FROM project_events")
    assert visible == total


async def test_readers_answer_exactly_while_passes_rewrite(old: OldServer) -> None:
    await migrate(old.engines)
    want = expected(old.events)
    rewriting = True
    rounds = 0
    step_reached: list[asyncio.Event] = []

    async def reader() -> None:
        nonlocal rounds
        while rewriting:
            assert await answers(old.engines) == want
            rounds += 1
            for reached in step_reached:
                reached.set()

    async def let_readers_in(step: str) -> None:
        # Each batch's copy and commit run while a reader's round is under way.
        if step.startswith("relayout_"):
            reached = asyncio.Event()
            step_reached.append(reached)
            await asyncio.wait_for(reached.wait(), timeout=60)
            step_reached.remove(reached)

    async def rewrite() -> None:
        nonlocal rewriting
        try:
            await archive_pass(old.engines, trigger="cli", now=NOW, faults=let_readers_in)
        finally:
            rewriting = False

    await asyncio.gather(rewrite(), reader(), reader())
    assert rounds >= 2 * len(OLD_COLD_DAYS)
    await assert_rewritten(old)
    await assert_as_before(old)
