"""Which failures the API answers as SERVICE_UNAVAILABLE, on errors the drivers really raise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
import strawberry
from clickhouse_driver import Client as ClickHouseClient
from strawberry.extensions import SchemaExtension

from eventide.graphql.errors import client_error
from eventide.graphql.schema import EventideSchema
from eventide.storage import postgres
from eventide.storage.engines import Engines
from eventide.storage.outages import unavailable_engine
from eventide.storage.redis import connect_redis
from tests.faults.servers import free_port


async def raised(call: Callable[[], Awaitable[object]]) -> Exception:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - which one is what is tested
        await call()
    return caught.value


async def test_a_refused_postgresql_connection() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    error = await raised(lambda: postgres.create_pool(url, connect_timeout=2))
    assert isinstance(error, OSError)  # bare: only the traceback names asyncpg
    assert unavailable_engine(error) == "PostgreSQL"
    answer = client_error(error, where="me")
    assert answer.extensions == {"code": "SERVICE_UNAVAILABLE"}
    assert answer.message == "PostgreSQL is unavailable, retry later"


async def test_a_closed_postgresql_connection(engines: Engines) -> None:
    assert engines.settings.database_url is not None
    conn = await asyncpg.connect(engines.settings.database_url)
    await conn.close()
    error = await raised(lambda: conn.fetchval("SELECT 1"))
    assert isinstance(error, asyncpg.InterfaceError)
    assert unavailable_engine(error) == "PostgreSQL"


async def test_a_refused_redis_connection() -> None:
    redis = connect_redis(f"redis://127.0.0.1:{free_port()}/0")
    try:
        error = await raised(lambda: redis.exists("key"))
    finally:
        await redis.aclose()
    assert unavailable_engine(error) == "Redis"


async def test_a_refused_clickhouse_connection() -> None:
    def query() -> object:
        with ClickHouseClient(host="127.0.0.1", port=free_port(), connect_timeout=2) as client:
            return client.execute("SELECT 1")

    error = await raised(lambda: asyncio.to_thread(query))
    assert unavailable_engine(error) == "ClickHouse"


async def test_waits_are_bounded_and_answered_as_unavailable(engines: Engines) -> None:
    url = engines.settings.database_url
    assert url is not None
    pool = await postgres.create_pool(url, size=1, acquire_timeout=0.2, command_timeout=0.2)
    try:
        slow = await raised(lambda: pool.execute("SELECT pg_sleep(2)"))
        async with pool.acquire():
            starved = await raised(lambda: pool.fetchval("SELECT 1"))
    finally:
        await pool.close()
    assert isinstance(slow, TimeoutError)
    assert isinstance(starved, TimeoutError)
    assert unavailable_engine(slow) == unavailable_engine(starved) == "PostgreSQL"


async def test_an_error_raised_from_an_outage_is_an_outage() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"

    async def wrapped() -> None:
        try:
            await asyncpg.connect(url, timeout=2)
        except OSError as error:
            raise RuntimeError("could not load the user") from error

    assert unavailable_engine(await raised(wrapped)) == "PostgreSQL"


async def test_concurrent_calls_failed_by_an_outage(engines: Engines) -> None:
    redis = connect_redis(f"redis://127.0.0.1:{free_port()}/0")

    async def exists() -> int:
        return await redis.exists("key")

    async def both() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(engines.db.fetchval("SELECT 1"))
            group.create_task(exists())

    try:
        error = await raised(both)
    finally:
        await redis.aclose()
    assert isinstance(error, ExceptionGroup)
    assert unavailable_engine(error) == "Redis"


def read_missing_file() -> str:
    with open("/nonexistent/eventide") as file:
        return file.read()


async def test_other_failures_stay_masked(engines: Engines) -> None:
    missing_file = await raised(lambda: asyncio.to_thread(read_missing_file))
    async with engines.db.acquire() as conn:
        # Two statements at once on one connection: a bug, not an outage.
        both = await asyncio.gather(
            conn.fetch("SELECT 1"), conn.fetch("SELECT 2"), return_exceptions=True
        )
        misuse = next(result for result in both if isinstance(result, Exception))
        sql_error = await raised(lambda: conn.fetch("SELECT * FROM no_such_table"))
        await conn.execute("SET statement_timeout = 50")
        try:
            cancelled = await raised(lambda: conn.execute("SELECT pg_sleep(1)"))
        finally:
            await conn.execute("RESET statement_timeout")
    for error in (missing_file, misuse, sql_error, cancelled):
        assert unavailable_engine(error) is None, repr(error)
    answer = client_error(missing_file, where="me")
    assert answer.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert answer.message == "Internal server error"


class _HookFailure(SchemaExtension):
    """Fails in the hook around execution as the context says: an outage, or a bug."""

    async def on_execute(self) -> AsyncIterator[None]:
        if self.execution_context.context == "outage":
            await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/x", timeout=2)
        else:
            await asyncio.to_thread(read_missing_file)
        yield


@strawberry.type
class _Query:
    answer: int = 42


@pytest.mark.parametrize(
    ("failure", "code", "message"),
    [
        ("outage", "SERVICE_UNAVAILABLE", "PostgreSQL is unavailable, retry later"),
        ("bug", "INTERNAL_SERVER_ERROR", "Internal server error"),
    ],
)
async def test_a_failure_around_execution_is_not_a_document_error(
    failure: str, code: str, message: str
) -> None:
    schema = EventideSchema(query=_Query, extensions=[_HookFailure])
    result = await schema.execute("{ answer }", context_value=failure)
    assert result.errors is not None
    assert [(e.message, e.extensions) for e in result.errors] == [(message, {"code": code})]
