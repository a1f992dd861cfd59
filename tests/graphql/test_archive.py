"""``storage`` and ``archiveNow`` through the API."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import pytest

from eventide.archive.archiver import hot_cutoff
from eventide.archive.tiers import tier_snapshot
from eventide.graphql.scalars import format_datetime
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, Scope
from tests.archive.tiers import Event, put_hot
from tests.graphql_client import GraphQLClient

STORAGE = """{ storage { hotEvents coldEvents copiedEvents archivedThrough hotWindowDays
                         lastArchiveRun { startedAt finishedAt moved } } }"""
ARCHIVE_NOW = "mutation { archiveNow { startedAt finishedAt moved } }"


def _cutoffs(engines: Engines) -> set[str]:
    # The pass reads the clock itself: a day may begin between it and the test.
    now = dt.datetime.now(dt.UTC)
    days = engines.settings.hot_window_days
    return {format_datetime(hot_cutoff(t, days)) for t in (now, now + dt.timedelta(minutes=1))}


async def test_storage_before_any_pass(
    client: GraphQLClient, engines: Engines, admin_token: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    await put_hot(engines, [Event("a", now), Event("b", now - dt.timedelta(days=30))])
    storage = (await client.data(STORAGE, token=admin_token))["storage"]
    assert storage == {
        "hotEvents": 2,
        "coldEvents": 0,
        "copiedEvents": 0,
        "archivedThrough": None,
        "hotWindowDays": engines.settings.hot_window_days,
        "lastArchiveRun": None,
    }


async def test_archive_now_moves_old_events_and_storage_reports_it(
    client: GraphQLClient, engines: Engines, admin_token: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    old = [Event(f"old{i}", now - dt.timedelta(days=20, minutes=i)) for i in range(3)]
    await put_hot(engines, [*old, Event("new", now)])

    run = (await client.data(ARCHIVE_NOW, token=admin_token))["archiveNow"]

    assert run["moved"] == 3
    assert run["finishedAt"] >= run["startedAt"]
    storage = (await client.data(STORAGE, token=admin_token))["storage"]
    assert (storage["hotEvents"], storage["coldEvents"], storage["copiedEvents"]) == (1, 3, 0)
    assert storage["archivedThrough"] in _cutoffs(engines)
    assert storage["lastArchiveRun"] == run
    again = (await client.data(ARCHIVE_NOW, token=admin_token))["archiveNow"]
    assert again["moved"] == 0


async def test_cold_events_counts_only_committed_batches(
    client: GraphQLClient, engines: Engines, admin_token: str
) -> None:
    await put_hot(engines, [Event("old", dt.datetime.now(dt.UTC) - dt.timedelta(days=20))])
    await client.data(ARCHIVE_NOW, token=admin_token)
    # Rows of a batch that never committed (an interrupted copy) are not counted.
    await engines.cold.execute(
        "INSERT INTO project_events (project_id, event_id, user_id, event_type, occurred_at,"
        " received_at, properties, batch_id)"
        " VALUES (1, 'ghost', 'u', 't', now64(6), now64(6), '', 999999)"
    )
    storage = (await client.data(STORAGE, token=admin_token))["storage"]
    assert (storage["hotEvents"], storage["coldEvents"]) == (0, 1)


@pytest.mark.parametrize("document", [STORAGE, ARCHIVE_NOW])
async def test_only_admins_see_storage(
    client: GraphQLClient,
    user_token: str,
    api_token: Callable[[list[str]], Awaitable[str]],
    document: str,
) -> None:
    assert await client.error_code(document) == "UNAUTHENTICATED"
    assert await client.error_code(document, token=user_token) == "FORBIDDEN"
    token = await api_token(["READ", "INGEST"])
    assert await client.error_code(document, token=token) == "FORBIDDEN"


async def test_archive_now_finishes_its_pass_when_the_request_is_cancelled(
    client: GraphQLClient, engines: Engines, admin_token: str
) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    await put_hot(engines, [Event("old", old)])
    # An open snapshot makes the pass wait before it can drop the day's partition.
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        await tiers.hot.fetchval(f"SELECT count(*) FROM {EVENTS}")
        request = asyncio.create_task(client.data(ARCHIVE_NOW, token=admin_token))
        for _ in range(500):
            if await engines.db.fetchval("SELECT count(*) FROM archive_batches"):
                break
            await asyncio.sleep(0.02)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
    for _ in range(200):
        status = await engines.db.fetchval("SELECT status FROM archive_runs")
        if status != "running":
            break
        await asyncio.sleep(0.05)
    assert status == "succeeded"
    assert await engines.db.fetchval("SELECT count(*) FROM events") == 0


async def test_storage_counts_each_project_apart(
    client: GraphQLClient, engines: Engines, admin_token: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(days=20)
    # The same event ids in two projects are two projects' events.
    await put_hot(engines, [Event("a", old), Event("b", now), Event("c", now)])
    await put_hot(engines, [Event("a", old, project=7), Event("b", old, project=7)])
    await client.data(ARCHIVE_NOW, token=admin_token)
    query = "{ storage { hotEvents coldEvents projects { projectId hotEvents coldEvents } } }"
    storage = (await client.data(query, token=admin_token))["storage"]
    assert storage == {
        "hotEvents": 2,
        "coldEvents": 3,
        "projects": [
            {"projectId": "1", "hotEvents": 2, "coldEvents": 1},
            {"projectId": "7", "hotEvents": 0, "coldEvents": 2},
        ],
    }


async def test_storage_counts_the_copies_kept_of_closed_days(
    client: GraphQLClient, engines: Engines, admin_token: str
) -> None:
    now = dt.datetime.now(dt.UTC)
    # Yesterday is closed and within the hot window: copied, and kept in PostgreSQL.
    yesterday = now - dt.timedelta(days=1)
    await put_hot(engines, [Event("a", yesterday), Event("b", yesterday), Event("c", now)])
    await client.data(ARCHIVE_NOW, token=admin_token)
    storage = (await client.data(STORAGE, token=admin_token))["storage"]
    assert (storage["hotEvents"], storage["coldEvents"], storage["copiedEvents"]) == (1, 2, 2)
