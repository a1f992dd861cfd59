"""Test helpers: hot events written directly, and what each tier holds in one snapshot."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from eventide.archive.tiers import tier_snapshot
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, Scope

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
# With the default hot window of 7 days, a pass at NOW moves what occurred before this.
CUTOFF = dt.datetime(2026, 11, 15, tzinfo=dt.UTC)


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
    return Tiers(sorted(hot), sorted(cold))


async def assert_exactly_once(engines: Engines, events: list[Event]) -> Tiers:
    """Every event is in exactly one tier and nothing else is anywhere."""
    tiers = await read_tiers(engines)
    assert tiers.all == Counter(e.event_id for e in events)
    return tiers


async def hot_partitions(engines: Engines) -> set[str]:
    rows = await engines.db.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'events'::regclass"""
    )
    return {r["relname"] for r in rows}
