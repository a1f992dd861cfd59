"""Two ``eventide serve`` processes sharing PostgreSQL and Redis (each with its own
embedded ClickHouse): a subscriber on one replica is sent every event accepted by the
other, once, and nothing of another project."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.live.clients import events, ingest, live_socket, subscribed
from tests.processes import fresh_database
from tests.sdks.server import EventideProcess, Tenant, server_environment

pytestmark = [
    pytest.mark.slow,  # two server processes
    pytest.mark.skipif(
        not os.environ.get("EVENTIDE_TEST_REDIS_URL"),
        reason="replicas share the test Redis; the embedded one is each process's own",
    ),
]


def test_a_subscriber_on_one_replica_is_sent_every_event_the_other_accepts_once(
    tmp_path: Path,
) -> None:
    with fresh_database("eventide_replicas") as database_url:
        # One environment: the same database, Redis key prefix and settings for both.
        env = server_environment(database_url, {})
        replicas = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            replicas.append(EventideProcess(tmp_path / name, env))
        try:
            for replica in replicas:  # one at a time: the first runs the migrations
                replica.start()
            ingesting, serving = replicas
            mine, theirs = ingesting.new_tenant(), ingesting.new_tenant()
            asyncio.run(_watch(ingesting, serving, mine, theirs))
        finally:
            for replica in replicas:
                replica.stop()


async def _watch(
    ingesting: EventideProcess, serving: EventideProcess, mine: Tenant, theirs: Tenant
) -> None:
    ws_url = f"ws://127.0.0.1:{serving.port}/graphql"
    async with live_socket(ws_url, mine.token) as socket:
        await socket.subscribe(projectId=mine.project)
        await subscribed(socket, ingesting.base, mine.token, project=mine.project)
        batches = [events(25, prefix=f"batch{n}") for n in range(3)]
        accepted = []
        for batch in batches:
            # Another project's events, with the same ids, in between.
            await ingest(ingesting.base, theirs.token, batch, project=theirs.project)
            outcome = await ingest(ingesting.base, mine.token, batch, project=mine.project)
            assert outcome == {"accepted": len(batch), "duplicates": 0}
            accepted += [event["eventId"] for event in batch]
        # Re-sent: duplicates, never sent again.
        outcome = await ingest(ingesting.base, mine.token, batches[0], project=mine.project)
        assert outcome == {"accepted": 0, "duplicates": len(batches[0])}
        last = events(1, prefix="last")
        await ingest(ingesting.base, mine.token, last, project=mine.project)
        received = await socket.events_until("last-0")
    # Each once (in any order within a call); their events carry the same ids, so one
    # of them sent here would be an id too many.
    assert sorted(event["eventId"] for event in received) == sorted([*accepted, "last-0"])
