"""Test fixtures: real engines, fresh databases for every test session.

Servers are taken from ``EVENTIDE_TEST_DATABASE_URL``, ``EVENTIDE_TEST_CLICKHOUSE_URL``
and ``EVENTIDE_TEST_REDIS_URL``; for each one unset an embedded engine is started
in a temporary directory. A PostgreSQL or ClickHouse server gets a new database named
for this session, dropped at the end; Redis keys carry a prefix of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from clickhouse_driver import Client as ClickHouseClient

from eventide.app import create_app
from eventide.auth import api_tokens, users
from eventide.auth.jwt_tokens import issue_access_token
from eventide.auth.principal import Role, TokenScope
from eventide.auth.users import UserRecord
from eventide.config import Settings
from eventide.ingest import store as ingest_store
from eventide.lifecycle import completion
from eventide.projects import purge, store
from eventide.projects.roles import ProjectRole
from eventide.storage.embedded import embedded_postgres, embedded_redis
from eventide.storage.engines import Engines, open_engines
from tests.graphql_client import GraphQLClient
from tests.hashes import password_hash

SESSION_ID = uuid.uuid4().hex[:10]
# The project of every fixture account, and where test helpers put events by default.
TEST_PROJECT = 1


@contextlib.contextmanager
def _postgres_database(tmp: Path) -> Iterator[str]:
    server = os.environ.get("EVENTIDE_TEST_DATABASE_URL")
    if not server:
        with embedded_postgres(tmp) as url:
            yield url
        return
    name = f"eventide_test_{SESSION_ID}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(server, name)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextlib.contextmanager
def _clickhouse_database() -> Iterator[str | None]:
    server = os.environ.get("EVENTIDE_TEST_CLICKHOUSE_URL")
    if not server:
        yield None  # the embedded engine, in the session's data directory
        return
    url = _with_database(server, f"eventide_test_{SESSION_ID}")
    try:
        yield url
    finally:
        with ClickHouseClient.from_url(
            url.replace(f"/eventide_test_{SESSION_ID}", "/default")
        ) as c:
            c.execute(f"DROP DATABASE IF EXISTS eventide_test_{SESSION_ID}")


@contextlib.contextmanager
def _redis_url(tmp: Path) -> Iterator[str]:
    server = os.environ.get("EVENTIDE_TEST_REDIS_URL")
    if server:
        yield server
        return
    with embedded_redis(tmp) as url:
        yield url


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp = tmp_path_factory.mktemp("engines")
    with (
        _postgres_database(tmp) as database_url,
        _clickhouse_database() as clickhouse_url,
        _redis_url(tmp) as redis_url,
    ):
        yield Settings(
            env="development",
            data_dir=tmp,
            database_url=database_url,
            clickhouse_url=clickhouse_url,
            redis_url=redis_url,
            redis_key_prefix=f"eventide-test-{SESSION_ID}:",
            jwt_secret=secrets.token_urlsafe(48),
        )


@pytest.fixture(scope="session")
async def engines(settings: Settings) -> AsyncIterator[Engines]:
    async with open_engines(settings) as opened:
        yield opened
        await _delete_redis_keys(opened)


async def _delete_redis_keys(engines: Engines) -> None:
    async for key in engines.redis.scan_iter(match=engines.redis_key("*")):
        await engines.redis.delete(key)


@pytest.fixture(autouse=True)
async def fresh_state(request: pytest.FixtureRequest) -> None:
    """Every test that uses the engines starts from empty tables and no Redis keys, with
    one project, :data:`TEST_PROJECT`, where the fixture accounts act."""
    if "engines" not in request.fixturenames:
        return
    engines: Engines = request.getfixturevalue("engines")
    # A removal a deletion of the previous test started must not reach into this one's
    # projects (ids start over here).
    await purge.stop_started()
    await completion.stop_started()
    async with engines.db.acquire() as conn:
        # Day partitions go (ingestion and the archiver make them again as needed): kept,
        # they would pile up over the run, and TRUNCATE syncs the files of every one.
        partitions = await conn.fetch(
            """SELECT i.inhrelid::regclass::text AS name FROM pg_inherits i
               WHERE i.inhparent IN ('events'::regclass, 'user_buckets'::regclass)"""
        )
        if partitions:
            # A test may leave thousands (generated dates): longer than a command may take.
            await conn.execute(
                f"DROP TABLE {', '.join(p['name'] for p in partitions)}", timeout=600
            )
        ingest_store._known_days.clear()  # the hint of the partitions this process has seen
        tables = await conn.fetch(
            """SELECT quote_ident(c.relname) AS name FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
                 AND NOT c.relispartition AND c.relname <> 'schema_migrations'"""
        )
        if tables:
            await conn.execute(
                f"TRUNCATE {', '.join(t['name'] for t in tables)} RESTART IDENTITY CASCADE"
            )
        await conn.execute(
            "INSERT INTO projects (id, name) OVERRIDING SYSTEM VALUE VALUES ($1, 'Test')",
            TEST_PROJECT,
        )
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('projects', 'id'), $1)", TEST_PROJECT
        )
    for (table,) in await engines.cold.fetch(
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND engine LIKE '%%MergeTree' AND name <> 'schema_migrations'"
    ):
        await engines.cold.execute(f"TRUNCATE TABLE {table}")
    await _delete_redis_keys(engines)


@pytest.fixture
async def client(engines: Engines, settings: Settings) -> AsyncIterator[GraphQLClient]:
    app = create_app(settings)
    app.state.engines = engines  # the session's engines; the lifespan is not run
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://eventide.test") as http:
        yield GraphQLClient(http)


# Nobody signs in as a fixture account (their tokens are issued directly): one password.
FIXTURE_PASSWORD = "password of a fixture account"


async def _new_account(engines: Engines, role: Role) -> UserRecord:
    """An account whose only project is :data:`TEST_PROJECT`, as its OWNER: its sessions
    and API tokens act there when they name no project."""
    name = f"{role.value.lower()}-{uuid.uuid4().hex[:12]}"
    user = await users.create_user(
        engines.db,
        username=name,
        email=f"{name}@example.test",
        password_hash=await password_hash(FIXTURE_PASSWORD),
        role=role,
    )
    await store.insert_member(
        engines.db, project_id=TEST_PROJECT, user_id=user.id, role=ProjectRole.OWNER
    )
    return user


@pytest.fixture
async def user_token(engines: Engines) -> str:
    """An access token (JWT) of a fresh USER."""
    user = await _new_account(engines, Role.USER)
    return issue_access_token(engines.settings, user_id=user.id, session_epoch=0)


@pytest.fixture
async def admin_token(engines: Engines) -> str:
    """An access token (JWT) of a fresh ADMIN."""
    user = await _new_account(engines, Role.ADMIN)
    return issue_access_token(engines.settings, user_id=user.id, session_epoch=0)


@pytest.fixture
def api_token(engines: Engines) -> Callable[[list[str]], Awaitable[str]]:
    """``await api_token(["INGEST"])``: an ``evt_`` secret with those scopes, of a fresh USER."""

    async def make(scopes: list[str]) -> str:
        user = await _new_account(engines, Role.USER)
        secret, _ = await api_tokens.create_api_token(
            engines.db,
            user_id=user.id,
            project_id=TEST_PROJECT,
            name="test token",
            scopes=[TokenScope(scope) for scope in scopes],
            ttl_seconds=None,
        )
        return secret

    return make


def pytest_report_header(config: pytest.Config) -> list[str]:
    def where(name: str) -> str:
        return "server" if os.environ.get(name) else "embedded"

    return [
        "engines: postgres={} clickhouse={} redis={}".format(
            where("EVENTIDE_TEST_DATABASE_URL"),
            where("EVENTIDE_TEST_CLICKHOUSE_URL"),
            where("EVENTIDE_TEST_REDIS_URL"),
        )
    ]
