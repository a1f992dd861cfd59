from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from eventide.errors import InvalidInput, Unavailable
from eventide.ingest.service import ingest
from eventide.storage.engines import Engines

NOW = dt.datetime.now(dt.UTC)


def event(event_id: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventId": event_id,
        "userId": "u1",
        "eventType": "click",
        "occurredAt": NOW - dt.timedelta(hours=1),
    }
    return base | changes


async def hot_ids(engines: Engines) -> list[str]:
    rows = await engines.db.fetch("SELECT event_id FROM events ORDER BY event_id")
    return [r["event_id"] for r in rows]


async def test_stored_event_keeps_every_column(engines: Engines) -> None:
    occurred = dt.datetime(2026, 11, 19, 8, 30, 1, 234_567, tzinfo=dt.UTC)
    outcome = await ingest(
        engines.db,
        [event("e1", occurredAt=occurred, properties={"plan": "pro", "n": [1, 2]})],
        project=1,
        settings=engines.settings,
        received_at=NOW,
    )
    assert (outcome.accepted, outcome.duplicates, outcome.rejected) == (1, 0, [])
    row = await engines.db.fetchrow("SELECT * FROM events")
    assert dict(row) == {
        "project_id": 1,
        "event_id": "e1",
        "user_id": "u1",
        "event_type": "click",
        "occurred_at": occurred,
        "received_at": NOW,
        "properties": {"plan": "pro", "n": [1, 2]},
    }
    assert await engines.db.fetchval("SELECT received_at FROM event_ids") == NOW


async def test_mixed_batch_stores_the_valid_events_and_counts_add_up(engines: Engines) -> None:
    events = [
        event("a"),
        event("b", userId=""),
        event("a"),
        event("c", properties=[1]),
        event("d", occurredAt=NOW + dt.timedelta(hours=25)),
        event("e"),
    ]
    outcome = await ingest(engines.db, events, project=1, settings=engines.settings)
    assert (outcome.accepted, outcome.duplicates) == (2, 1)
    assert [(r.index, r.code) for r in outcome.rejected] == [
        (1, "INVALID_FIELD"),
        (3, "PROPERTIES_NOT_OBJECT"),
        (4, "FUTURE_TIMESTAMP"),
    ]
    assert await hot_ids(engines) == ["a", "e"]


async def test_a_repeat_across_calls_is_a_duplicate_and_the_first_copy_wins(
    engines: Engines,
) -> None:
    await ingest(engines.db, [event("a", userId="first")], project=1, settings=engines.settings)
    outcome = await ingest(
        engines.db, [event("a", userId="second"), event("b")], project=1, settings=engines.settings
    )
    assert (outcome.accepted, outcome.duplicates) == (1, 1)
    assert await engines.db.fetchval("SELECT user_id FROM events WHERE event_id = 'a'") == "first"


async def test_an_archived_event_stays_deduplicated(engines: Engines) -> None:
    await ingest(engines.db, [event("gone")], project=1, settings=engines.settings)
    row = await engines.db.fetchrow("SELECT * FROM events")
    # What an archive pass does: copy to the cold store, then drop the hot row.
    micros = int(row["occurred_at"].timestamp() * 1_000_000)
    await engines.cold.execute(
        "INSERT INTO project_events (project_id, event_id, user_id, event_type, occurred_at,"
        " received_at, properties, batch_id) VALUES (1, %(id)s, 'u1', 'click',"
        " fromUnixTimestamp64Micro(%(t)s), fromUnixTimestamp64Micro(%(t)s), '', 1)",
        {"id": "gone", "t": micros},
    )
    await engines.db.execute("DELETE FROM events")

    outcome = await ingest(engines.db, [event("gone")], project=1, settings=engines.settings)
    assert (outcome.accepted, outcome.duplicates) == (0, 1)
    assert await hot_ids(engines) == []
    assert await engines.cold.fetch("SELECT count() FROM project_events") == [(1,)]


async def test_an_id_outside_the_dedup_window_is_accepted_again(engines: Engines) -> None:
    window = dt.timedelta(days=engines.settings.dedup_window_days)
    for event_id, received_at in [
        ("a", NOW - window - dt.timedelta(seconds=1)),
        ("b", NOW - window + dt.timedelta(seconds=1)),
    ]:
        first = event(event_id, occurredAt=received_at)
        outcome = await ingest(
            engines.db, [first], project=1, settings=engines.settings, received_at=received_at
        )
        assert outcome.accepted == 1
    await engines.db.execute("DELETE FROM events")

    outcome = await ingest(
        engines.db, [event("a"), event("b")], project=1, settings=engines.settings, received_at=NOW
    )
    assert (outcome.accepted, outcome.duplicates) == (1, 1)
    assert await hot_ids(engines) == ["a"]


async def test_empty_and_oversized_batches_fail_whole(engines: Engines) -> None:
    with pytest.raises(InvalidInput):
        await ingest(engines.db, [], project=1, settings=engines.settings)
    limit = engines.settings.max_batch_events
    events = [event(f"e{i}") for i in range(limit + 1)]
    with pytest.raises(InvalidInput, match=str(limit)):
        await ingest(engines.db, events, project=1, settings=engines.settings)
    assert await engines.db.fetchval("SELECT count(*) FROM event_ids") == 0


async def test_concurrent_overlapping_batches_store_each_id_once(engines: Engines) -> None:
    batches = [[event(f"e{(k * 37 + i) % 300}") for i in range(200)] for k in range(8)]
    outcomes = await asyncio.gather(
        *(ingest(engines.db, b, project=1, settings=engines.settings) for b in batches)
    )
    sent_ids = {e["eventId"] for b in batches for e in b}
    assert sum(o.accepted for o in outcomes) == len(sent_ids)
    assert sum(o.accepted + o.duplicates for o in outcomes) == 8 * 200
    assert await hot_ids(engines) == sorted(sent_ids)


async def test_concurrent_calls_creating_the_same_partitions_all_store(
    engines: Engines,
) -> None:
    # Every call finds these days without a partition and races the others to create them.
    days = [dt.datetime(2011, 2, d, 12, tzinfo=dt.UTC) for d in range(1, 7)]
    batches = [[event(f"k{k}-{i}", occurredAt=day) for i, day in enumerate(days)] for k in range(8)]
    outcomes = await asyncio.gather(
        *(ingest(engines.db, b, project=1, settings=engines.settings) for b in batches)
    )
    assert [o.accepted for o in outcomes] == [len(days)] * len(batches)
    assert len(await hot_ids(engines)) == len(days) * len(batches)


async def test_a_dropped_day_partition_is_recreated(engines: Engines) -> None:
    day = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    await ingest(engines.db, [event("a", occurredAt=day)], project=1, settings=engines.settings)
    await engines.db.execute("DROP TABLE events_20260105")
    outcome = await ingest(
        engines.db, [event("b", occurredAt=day)], project=1, settings=engines.settings
    )
    assert outcome.accepted == 1
    assert await hot_ids(engines) == ["b"]


async def test_a_connection_lost_mid_call_stores_nothing_and_a_retry_stores_all_once(
    engines: Engines,
) -> None:
    await ingest(engines.db, [event("old")], project=1, settings=engines.settings)
    batch = [event("old"), event("a"), event("b"), event("c", userId="")]
    async with engines.db.acquire() as blocker, blocker.transaction():
        # Hold the ledger so the call is caught inside its statement, then cut it off.
        await blocker.execute("LOCK TABLE event_ids IN EXCLUSIVE MODE")
        call = asyncio.create_task(ingest(engines.db, batch, project=1, settings=engines.settings))
        pid = await _wait_for_blocked_backend(blocker)
        assert await blocker.fetchval("SELECT pg_terminate_backend($1)", pid)
        with pytest.raises(Unavailable):
            await call
    assert await hot_ids(engines) == ["old"]

    outcome = await ingest(engines.db, batch, project=1, settings=engines.settings)
    assert (outcome.accepted, outcome.duplicates, len(outcome.rejected)) == (2, 1, 1)
    assert await hot_ids(engines) == ["a", "b", "old"]
    assert await engines.db.fetchval("SELECT count(*) FROM event_ids") == 3


async def _wait_for_blocked_backend(conn: Any) -> int:
    for _ in range(200):
        # Inside a transaction the activity view is a snapshot unless cleared.
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        pid = await conn.fetchval(
            """SELECT pid FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid()
                 AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO event_ids%'"""
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError("the ingestion call never reached the ledger")
