"""Retention: events before the boundary count as never accepted, in both tiers and for
every project, before and after their removal, which drops whole partitions and is safe
to interrupt anywhere."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY

from eventide.analytics.dau import daily_active_users
from eventide.analytics.filters import FilterOp, PropertyFilter
from eventide.analytics.listing import Event, EventFilter
from eventide.analytics.top_events import top_events
from eventide.archive.archiver import archive_pass
from eventide.archive.boundary import boundary_at, read_boundary
from eventide.archive.expiry import remove_expired, retention_removal
from eventide.archive.tiers import tier_snapshot
from eventide.ingest.service import ingest
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, Scope
from tests.analytics import oracle
from tests.analytics.stores import put_hot
from tests.analytics.test_oracle import listed
from tests.archive.tiers import read_tiers

UTC = dt.UTC
# Ten days before NOW is 2026-11-12 12:07:30; its bucket starts at 12:00.
NOW = dt.datetime(2026, 11, 22, 12, 7, 30, tzinfo=UTC)
DAYS = 10
BOUNDARY = dt.datetime(2026, 11, 12, 12, 0, tzinfo=UTC)
NEW_YORK = "America/New_York"  # 12 November there: 05:00 UTC on the 12th to 05:00 on the 13th


def at(day: int, hour: int, minute: int = 0, micro: int = 0, *, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, 0, micro, tzinfo=UTC)


def events(project: int, cold: bool) -> list[Event]:
    """Events on both sides of the boundary, in whole months, whole days and its own day."""
    before = [at(20, 9, month=10), at(5, 8), at(12, 3), at(12, 11, 59, 999_999)]
    instants = (
        [*before, at(12, 12), at(12, 15), at(13, 2)]
        if cold
        # Late hot events of days the archiver has moved already, and recent ones.
        else [at(10, 4), at(11, 23, 59), at(12, 6), at(12, 11, 45), at(12, 13), at(20, 10)]
    )
    tier = "c" if cold else "h"
    return [
        Event(
            event_id=f"p{project}-{tier}{i}",
            user_id=f"u{(i + project) % 4}",
            event_type=("view", "buy")[i % 2],
            occurred_at=instant,
            received_at=instant,
            properties={"plan": "pro"} if i % 3 else None,
        )
        for i, instant in enumerate(instants)
    ]


def retained(engines: Engines) -> Engines:
    settings = dataclasses.replace(engines.settings, retention_days=DAYS, retention_now=NOW)
    return dataclasses.replace(engines, settings=settings)


async def scenario(engines: Engines) -> list[Event]:
    """Two projects' events in both tiers; every one of them, kept or not."""
    stored = events(1, True) + events(2, True)
    await put_hot(engines, events(1, True))
    await put_hot(engines, events(2, True), project=2)
    # Moves everything before 15 November cold.
    await archive_pass(engines, trigger="cli", now=NOW)
    await put_hot(engines, events(1, False))
    await put_hot(engines, events(2, False), project=2)
    return stored + events(1, False) + events(2, False)


def of(project: int, stored: list[Event]) -> list[Event]:
    return [
        e for e in stored if e.event_id.startswith(f"p{project}-") and e.occurred_at >= BOUNDARY
    ]


async def assert_answers(engines: Engines, stored: list[Event]) -> None:
    """DAU (from buckets and from events), top events and the listing of each project
    equal the oracle over its events from the boundary on."""
    tz = ZoneInfo(NEW_YORK)
    first, last = dt.date(2026, 10, 1), dt.date(2026, 11, 30)
    plan = (PropertyFilter(("plan",), FilterOp.EQ, "pro"),)
    for project in (1, 2):
        kept = of(project, stored)
        for event_type, where in ((None, ()), ("buy", ()), (None, plan)):
            got = await daily_active_users(
                engines,
                project=project,
                first=first,
                last=last,
                timezone=NEW_YORK,
                event_type=event_type,
                where=where,
            )
            expected = oracle.dau(kept, first, last, tz, event_type, where)
            assert [(r.date, r.users) for r in got] == expected, (project, event_type, where)
        top = await top_events(
            engines, project=project, first=first, last=last, timezone=NEW_YORK, limit=5
        )
        assert [(r.event_type, r.events, r.users) for r in top] == oracle.top_events(
            kept, first, last, tz, 5
        )
        for where_ in (EventFilter(), EventFilter(occurred_from=at(1, 0), occurred_to=at(13, 0))):
            assert await listed(engines, project, where_, 2) == oracle.listing(kept, where_)


async def test_the_boundary_is_the_bucket_of_the_retention_period_start(engines: Engines) -> None:
    settings = retained(engines).settings
    assert boundary_at(NOW, settings) == BOUNDARY
    assert boundary_at(NOW, engines.settings) is None
    async with engines.db.acquire() as conn:
        assert await read_boundary(conn, settings) == BOUNDARY
        live = dataclasses.replace(settings, retention_now=None)
        before = await conn.fetchval("SELECT clock_timestamp()")
        computed = await read_boundary(conn, live)
        after = await conn.fetchval("SELECT clock_timestamp()")
        earliest, latest = boundary_at(before, live), boundary_at(after, live)
        assert earliest is not None
        assert latest is not None
        assert computed is not None
        assert earliest <= computed <= latest


async def test_queries_answer_as_if_old_events_were_never_accepted(engines: Engines) -> None:
    stored = await scenario(engines)
    # Without retention, everything counts.
    assert len((await read_tiers(engines)).all) == len(stored)
    keeping = retained(engines)
    await assert_answers(keeping, stored)
    tiers = await read_tiers(keeping)
    assert sorted(tiers.all) == sorted(e.event_id for p in (1, 2) for e in of(p, stored))

    removal = await remove_expired(keeping)
    assert removal is not None
    assert removal.boundary == BOUNDARY
    await assert_answers(keeping, stored)
    # Later archive passes change nothing either.
    await archive_pass(keeping, trigger="cli", now=NOW + dt.timedelta(days=2))
    await assert_answers(keeping, stored)


async def test_readers_never_plan_the_hot_partitions_before_the_boundary(engines: Engines) -> None:
    await scenario(engines)
    async with tier_snapshot(retained(engines), scope=Scope.of(1)) as tiers:
        rows = await tiers.hot.fetch(f"EXPLAIN SELECT count(*) FROM {EVENTS}")
    plan = "\n".join(row[0] for row in rows)
    assert "events_20261112" in plan
    assert "events_20261111" not in plan
    assert "events_20261110" not in plan


async def hot_partitions(engines: Engines) -> set[str]:
    rows = await engines.db.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent IN ('events'::regclass, 'user_buckets'::regclass)"""
    )
    return {r["relname"] for r in rows}


async def cold_partitions(engines: Engines) -> set[tuple[str, str]]:
    rows = await engines.cold.fetch(
        """SELECT DISTINCT table, partition FROM system.parts
           WHERE database = currentDatabase() AND active
             AND table IN ('project_events', 'project_user_buckets', 'project_type_buckets')"""
    )
    return {(str(table), str(partition)) for table, partition in rows}


async def stored_instants(engines: Engines) -> tuple[list[dt.datetime], list[dt.datetime]]:
    """Every stored instant in each store, visible to readers or not."""
    hot = [r[0] for r in await engines.db.fetch("SELECT occurred_at FROM events ORDER BY 1")]
    cold = await engines.cold.fetch("SELECT occurred_at FROM project_events ORDER BY occurred_at")
    return hot, [r[0].astimezone(UTC) for r in cold]


async def assert_removed(engines: Engines, stored: list[Event]) -> None:
    hot_days = {"20261110", "20261111"}
    assert not {f"{t}_{d}" for t in ("events", "user_buckets") for d in hot_days} & (
        await hot_partitions(engines)
    )
    assert {"events_20261112", "user_buckets_20261112"} <= await hot_partitions(engines)
    cold = await cold_partitions(engines)
    for table in ("project_events", "project_user_buckets", "project_type_buckets"):
        assert (table, "202610") not in cold
        assert (table, "202611") in cold
    hot, cold_instants = await stored_instants(engines)
    assert min(hot) >= BOUNDARY
    # The cold rows of the boundary's own day wait for the next day's removal, unseen.
    day = dt.datetime(2026, 11, 12, tzinfo=UTC)
    assert min(cold_instants) >= day
    assert sorted(i for i in cold_instants if i < BOUNDARY) == [
        at(12, 3),
        at(12, 3),
        at(12, 11, 59, 999_999),
        at(12, 11, 59, 999_999),
    ]
    buckets = await engines.db.fetchval("SELECT count(*) FROM user_buckets WHERE bucket < $1", day)
    assert buckets == 0
    old_buckets = await engines.cold.fetch(
        "SELECT count() FROM project_type_buckets"
        " WHERE bucket < toDateTime64('2026-11-12', 6, 'UTC')"
    )
    assert old_buckets[0][0] == 0


async def test_removal_drops_whole_partitions_in_both_stores(engines: Engines) -> None:
    stored = await scenario(engines)
    keeping = retained(engines)
    assert {"events_20261110", "user_buckets_20261110"} <= await hot_partitions(engines)
    assert ("project_events", "202610") in await cold_partitions(engines)
    counted = _removal_metrics()
    removal = await remove_expired(keeping)
    assert removal is not None
    assert [after - before for after, before in zip(_removal_metrics(), counted, strict=True)] == [
        4,
        3,
        4,
    ]
    assert set(removal.hot_partitions) == {
        f"{t}_{d}" for t in ("events", "user_buckets") for d in ("20261110", "20261111")
    }
    assert set(removal.cold_partitions) == {
        f"{t}:202610" for t in ("project_events", "project_user_buckets", "project_type_buckets")
    }
    # Both projects' rows of the partial day before the boundary are deleted one by one.
    assert removal.hot_rows == 4
    await assert_removed(keeping, stored)
    # Safe to repeat: nothing more to do.
    again = await remove_expired(keeping)
    assert again is not None
    assert (again.hot_partitions, again.hot_rows, again.cold_partitions) == ((), 0, ())
    await assert_removed(keeping, stored)


async def test_the_cold_store_waits_for_readers_that_may_count_with_an_older_boundary(
    engines: Engines,
) -> None:
    stored = await scenario(engines)
    keeping = retained(engines)
    async with tier_snapshot(keeping, scope=Scope.of(1)):
        # This reader holds its lock on `events` for longer than a removal waits.
        removal = await remove_expired(keeping)
    assert removal is not None
    assert removal.cold_partitions == ()
    assert ("project_events", "202610") in await cold_partitions(engines)
    # The hot store's partitions waited too, and their rows went one by one instead.
    assert removal.hot_partitions == ()
    assert removal.hot_rows == 8
    await assert_answers(keeping, stored)
    await remove_expired(keeping)
    await assert_removed(keeping, stored)


def _removal_metrics() -> list[float]:
    """Partitions dropped (hot, cold) and hot events deleted, as /metrics counts them."""
    sample = REGISTRY.get_sample_value
    return [
        sample("eventide_retention_dropped_partitions_total", {"store": "hot"}) or 0.0,
        sample("eventide_retention_dropped_partitions_total", {"store": "cold"}) or 0.0,
        sample("eventide_retention_deleted_hot_events_total") or 0.0,
    ]


class Crash(Exception):
    pass


@pytest.mark.parametrize(
    "step",
    [
        "hot_day_dropped",
        "hot_chunk_deleted",
        "hot_deleted",
        "cold_partition_dropped",
        "cold_deleted",
    ],
)
async def test_a_removal_interrupted_at_any_step_is_finished_by_the_next(
    engines: Engines, step: str
) -> None:
    stored = await scenario(engines)
    keeping = retained(engines)

    async def crash(name: str) -> None:
        if name == step:
            raise Crash(name)

    with pytest.raises(Crash):
        await remove_expired(keeping, chunk=1, faults=crash)
    await assert_answers(keeping, stored)
    # The lock went with the failed removal: the next one runs.
    await remove_expired(keeping, wait=False)
    await assert_answers(keeping, stored)
    await assert_removed(keeping, stored)


async def test_ingestion_refuses_events_before_the_boundary(engines: Engines) -> None:
    keeping = retained(engines)
    sent = [
        {"eventId": "old", "userId": "u", "eventType": "view", "occurredAt": BOUNDARY - _US},
        {"eventId": "kept", "userId": "u", "eventType": "view", "occurredAt": BOUNDARY},
    ]
    outcome = await ingest(keeping.db, sent, project=1, settings=keeping.settings, received_at=NOW)
    assert outcome.accepted == 1
    [rejection] = outcome.rejected
    assert (rejection.event_id, rejection.code) == ("old", "TIMESTAMP_TOO_OLD")
    assert "2026-11-12T12:00:00Z" in rejection.message
    # Without retention the same event is accepted.
    outcome = await ingest(engines.db, sent[:1], project=1, settings=engines.settings)
    assert (outcome.accepted, outcome.rejected) == (1, [])


_US = dt.timedelta(microseconds=1)


def _removal_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "eventide-retention"]


async def test_the_server_removes_expired_events_at_startup_and_only_with_retention(
    engines: Engines,
) -> None:
    stored = await scenario(engines)
    async with retention_removal(engines, interval=3600):
        assert not _removal_tasks()
    assert "events_20261110" in await hot_partitions(engines)
    keeping = retained(engines)
    async with retention_removal(keeping, interval=3600):
        assert _removal_tasks()
        for _ in range(400):  # up to 20 s on a busy machine
            if "events_20261110" not in await hot_partitions(engines):
                break
            await asyncio.sleep(0.05)
        # The turn holds the archive lock until it is done.
        await remove_expired(keeping)
    assert not _removal_tasks()
    await assert_removed(keeping, stored)
