"""Test helpers: hot events written directly, and what each tier holds in one snapshot."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from eventide.analytics.calendar import instant_us
from eventide.archive.tiers import Tiers as ReaderTiers
from eventide.archive.tiers import tier_snapshot
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, TYPE_BUCKETS, USER_BUCKETS, Scope

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
# With the default hot window of 7 days, a pass at NOW moves what occurred before this.
CUTOFF = dt.datetime(2026, 11, 15, tzinfo=dt.UTC)
# A pass at NOW copies the closed days before this to the cold store.
TODAY = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Event:
    event_id: str
    occurred_at: dt.datetime
    user_id: str = "u1"
    event_type: str = "click"
    properties: dict[str, Any] | None = None
    project: int = 1


def spread(prefix: str, day: dt.date, count: int) -> list[Event]:
    """``count`` events over one UTC day, a few users and types."""
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    step = dt.timedelta(days=1) / count
    return [
        Event(
            f"{prefix}{i:05d}",
            start + step * i,
            user_id=f"u{i % 3}",
            event_type=("click", "view")[i % 2],
            properties={"i": i} if i % 4 else None,
        )
        for i in range(count)
    ]


async def put_hot(engines: Engines, events: list[Event]) -> None:
    """Store events in the hot store as ingestion does (partitions created on demand)."""
    async with engines.db.acquire() as conn:
        await conn.execute(
            "SELECT ensure_event_partitions($1::timestamptz[])", [e.occurred_at for e in events]
        )
        await conn.executemany(
            """INSERT INTO events (project_id, event_id, user_id, event_type, occurred_at,
                                   received_at, properties)
               VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb)""",
            [
                (
                    e.project,
                    e.event_id,
                    e.user_id,
                    e.event_type,
                    e.occurred_at,
                    NOW,
                    None if e.properties is None else json.dumps(e.properties),
                )
                for e in events
            ],
        )


@dataclass(frozen=True)
class Tiers:
    hot: list[str]
    cold: list[str]

    @property
    def all(self) -> Counter[str]:
        return Counter(self.hot) + Counter(self.cold)


async def read_tiers(engines: Engines, project: int | None = None) -> Tiers:
    """Event ids in each tier as one reader sees them (cold: visible rows only), of one
    project or of all."""
    scope = Scope.every_project() if project is None else Scope.of(project)
    async with tier_snapshot(engines, scope=scope) as tiers:
        hot = [r["event_id"] for r in await tiers.hot.fetch(f"SELECT event_id FROM {EVENTS}")]
        cold = [r[0] for r in await tiers.cold_fetch(f"SELECT event_id FROM {EVENTS}")]
        await assert_buckets_count_events(tiers)
    return Tiers(sorted(hot), sorted(cold))


BUCKET_US = 900_000_000


def bucket_of(instant_us: int) -> int:
    """The 15-minute UTC bucket of an instant, computed here rather than by either store."""
    return instant_us // BUCKET_US * BUCKET_US


async def assert_buckets_count_events(tiers: ReaderTiers) -> None:
    """In ``tiers``' snapshot, the hot buckets count exactly the hot events, and (once
    readers count from them) the visible cold buckets exactly the visible cold events."""
    hot_events = await tiers.hot.fetch(f"SELECT project_id, occurred_at, user_id FROM {EVENTS}")
    expected = Counter((p, bucket_of(instant_us(at)), u) for p, at, u in hot_events)
    counted = {
        (p, instant_us(bucket), u): n
        for p, bucket, u, n in await tiers.hot.fetch(
            f"SELECT project_id, bucket, user_id, events FROM {USER_BUCKETS}"
        )
    }
    assert counted == dict(expected), (counted, expected)
    if not tiers.visibility.bucketed:
        return
    cold_events = await tiers.cold_fetch(
        "SELECT project_id, toUnixTimestamp64Micro(occurred_at), user_id, toString(event_type)"
        f" FROM {EVENTS}"
    )
    by_user = Counter((p, bucket_of(at), u) for p, at, u, _ in cold_events)
    by_type = Counter((p, bucket_of(at), t, u) for p, at, u, t in cold_events)
    user_rows = await tiers.cold_fetch(
        f"SELECT project_id, toUnixTimestamp64Micro(bucket) AS b, user_id, sum(events)"
        f" FROM {USER_BUCKETS} GROUP BY project_id, b, user_id"
    )
    type_rows = await tiers.cold_fetch(
        "SELECT project_id, toUnixTimestamp64Micro(bucket) AS b, toString(event_type) AS t,"
        f" user_id, sum(events) FROM {TYPE_BUCKETS} GROUP BY project_id, b, t, user_id"
    )
    assert {row[:-1]: row[-1] for row in user_rows} == dict(by_user), (user_rows, by_user)
    assert {row[:-1]: row[-1] for row in type_rows} == dict(by_type), (type_rows, by_type)


async def assert_exactly_once(engines: Engines, events: list[Event]) -> Tiers:
    """Every event is in exactly one tier and nothing else is anywhere."""
    tiers = await read_tiers(engines)
    assert tiers.all == Counter(e.event_id for e in events)
    return tiers


async def copied_events(engines: Engines) -> list[str]:
    """The ids of the events PostgreSQL keeps after copying them to the cold store."""
    rows = await engines.db.fetch("SELECT event_id FROM copied_events ORDER BY event_id")
    return [r["event_id"] for r in rows]


async def hot_partitions(engines: Engines) -> set[str]:
    rows = await engines.db.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'events'::regclass"""
    )
    return {r["relname"] for r in rows}
