"""The native-protocol transport against a real clickhouse-server.

The server in CI is an old release, so these tests use simple tables of their own
rather than Eventide's DDL. Outside CI they skip, with the reason, when no server
is configured; in CI they never skip.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from eventide.storage.clickhouse import NativeColdStore, open_cold_store

SERVER_URL = os.environ.get("EVENTIDE_TEST_CLICKHOUSE_NATIVE_URL") or os.environ.get(
    "EVENTIDE_TEST_CLICKHOUSE_URL"
)

pytestmark = pytest.mark.clickhouse_server

if not SERVER_URL:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI must set EVENTIDE_TEST_CLICKHOUSE_NATIVE_URL")
    pytest.skip(
        "no clickhouse-server: set EVENTIDE_TEST_CLICKHOUSE_NATIVE_URL "
        "(scripts/clickhouse-server.sh start DIR prints one)",
        allow_module_level=True,
    )


@pytest.fixture
async def store() -> AsyncIterator[NativeColdStore]:
    assert SERVER_URL
    database = f"eventide_native_{uuid.uuid4().hex[:8]}"
    url = SERVER_URL.rsplit("/", 1)[0] + f"/{database}"
    opened = await open_cold_store(url, embedded_path="unused")
    assert isinstance(opened, NativeColdStore)
    try:
        yield opened
    finally:
        await opened.execute(f"DROP DATABASE IF EXISTS {database}")
        await opened.close()


async def test_creates_its_database_and_answers_ping(store: NativeColdStore) -> None:
    assert await store.ping()
    rows = await store.fetch("SELECT currentDatabase()")
    assert rows == [(store.database,)]


async def test_insert_and_fetch_round_trip_with_parameters(store: NativeColdStore) -> None:
    await store.execute(
        "CREATE TABLE t (id String, n UInt64, ts DateTime, d Date) ENGINE = MergeTree ORDER BY id"
    )
    when = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    rows = [("a'b", 1, when, when.date()), ("c\\d", 2**40, when, when.date())]
    await store.insert("t", ("id", "n", "ts", "d"), rows)

    fetched = await store.fetch(
        "SELECT id, n, ts, d FROM t WHERE id IN %(ids)s ORDER BY id", {"ids": ("a'b", "c\\d")}
    )
    assert fetched == rows
    assert fetched[0][2].tzinfo is not None


async def test_datetime_parameters_are_refused(store: NativeColdStore) -> None:
    with pytest.raises(TypeError, match="microseconds"):
        await store.fetch("SELECT %(t)s", {"t": dt.datetime.now(dt.UTC)})


async def test_calls_run_concurrently_over_several_connections(store: NativeColdStore) -> None:
    import asyncio

    results = await asyncio.gather(*(store.fetch("SELECT %(i)s", {"i": i}) for i in range(12)))
    assert [r[0][0] for r in results] == list(range(12))


async def test_a_cluster_the_server_does_not_define_is_refused() -> None:
    assert SERVER_URL
    with pytest.raises(RuntimeError, match="no cluster 'nowhere' in its remote_servers"):
        await open_cold_store(SERVER_URL, embedded_path="unused", cluster="nowhere")
