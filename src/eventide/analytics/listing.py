"""The events listing: newest first, keyset-paged across both tiers.

Events are ordered by (occurred_at, event_id) descending, then by received_at: an event
id is accepted again once its dedup window has passed, so only the three together
identify a stored event. A cursor is the key of the last event of a page. Each page
reads both tiers through one snapshot, in which every event is in exactly one tier, and
the key is a total order, so paging visits every matching event exactly once even while
an archive pass moves events between pages. Event ids compare byte-wise in both stores
(``COLLATE "C"`` in PostgreSQL), as in Python.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from eventide.analytics import calendar
from eventide.analytics.filters import (
    ColdConditions,
    EventSelector,
    HotConditions,
    PropertyFilter,
)
from eventide.archive.tiers import Tiers, tier_snapshot
from eventide.storable import checked_text
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, Scope

# (occurred_at, event_id, received_at), instants in microseconds since the epoch.
Key = tuple[int, str, int]


@dataclass(frozen=True)
class Event:
    event_id: str
    user_id: str
    event_type: str
    occurred_at: dt.datetime
    received_at: dt.datetime
    properties: dict[str, Any] | None

    @property
    def key(self) -> Key:
        return (
            calendar.instant_us(self.occurred_at),
            self.event_id,
            calendar.instant_us(self.received_at),
        )


@dataclass(frozen=True)
class EventFilter:
    user_id: str | None = None
    event_type: str | None = None
    occurred_from: dt.datetime | None = None  # inclusive
    occurred_to: dt.datetime | None = None  # exclusive
    where: tuple[PropertyFilter, ...] = ()


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    has_next_page: bool


async def list_events(
    engines: Engines, *, project: int, where: EventFilter, first: int, below: Key | None = None
) -> EventPage:
    """Up to ``first`` events matching ``where``, newest first, with keys below ``below``
    (an event's :attr:`Event.key`)."""
    checked_text("filter.userId", where.user_id)
    checked_text("filter.eventType", where.event_type)
    if below is not None:
        checked_text("cursor", below[1])
    async with tier_snapshot(engines, scope=Scope.of(project)) as tiers:
        hot = await _hot_page(tiers, where, below, first + 1)
        # The page is the first + 1 newest of both tiers: cold events older than the
        # oldest of a full hot page cannot be among them, which bounds the cold scan.
        since = hot[-1].occurred_at if len(hot) > first else None
        cold = await _cold_page(tiers, where, below, first + 1, since)
    merged = sorted(hot + cold, key=lambda event: event.key, reverse=True)
    return EventPage(events=merged[:first], has_next_page=len(merged) > first)


async def _hot_page(tiers: Tiers, where: EventFilter, below: Key | None, limit: int) -> list[Event]:
    conditions, args = [], []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if where.user_id is not None:
        conditions.append(f"user_id = {arg(where.user_id)}")
    if where.event_type is not None:
        conditions.append(f"event_type = {arg(where.event_type)}")
    if where.occurred_from is not None:
        conditions.append(f"occurred_at >= {arg(where.occurred_from)}")
    if where.occurred_to is not None:
        conditions.append(f"occurred_at < {arg(where.occurred_to)}")
    if where.where:
        conditions.append(HotConditions(args).selector(EventSelector(where=where.where)))
    if below is not None:
        at, event_id = arg(calendar.from_instant_us(below[0])), arg(below[1])
        received = arg(calendar.from_instant_us(below[2]))
        conditions.append(
            f"(occurred_at < {at} OR (occurred_at = {at} AND ("
            f'event_id COLLATE "C" < {event_id}'
            f" OR (event_id = {event_id} AND received_at < {received}))))"
        )
    rows = await tiers.hot.fetch(
        "SELECT event_id, user_id, event_type, occurred_at, received_at, properties"
        f" FROM {EVENTS} WHERE {' AND '.join(conditions) or 'true'}"
        f' ORDER BY occurred_at DESC, event_id COLLATE "C" DESC, received_at DESC'
        f" LIMIT {arg(limit)}",
        *args,
    )
    return [Event(*row) for row in rows]


async def _cold_page(
    tiers: Tiers,
    where: EventFilter,
    below: Key | None,
    limit: int,
    since: dt.datetime | None,
) -> list[Event]:
    conditions: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    if where.user_id is not None:
        conditions.append("user_id = %(user_id)s")
        params["user_id"] = where.user_id
    if where.event_type is not None:
        conditions.append("event_type = %(event_type)s")
        params["event_type"] = where.event_type
    if where.occurred_from is not None:
        conditions.append("occurred_at >= fromUnixTimestamp64Micro(%(from)s)")
        params["from"] = calendar.instant_us(where.occurred_from)
    if where.occurred_to is not None:
        conditions.append("occurred_at < fromUnixTimestamp64Micro(%(to)s)")
        params["to"] = calendar.instant_us(where.occurred_to)
    if where.where:
        conditions.append(
            ColdConditions(params, "where").selector(EventSelector(where=where.where))
        )
    if since is not None:
        conditions.append("occurred_at >= fromUnixTimestamp64Micro(%(since)s)")
        params["since"] = calendar.instant_us(since)
    if below is not None:
        conditions.append(
            "(occurred_at, event_id, received_at) < (fromUnixTimestamp64Micro(%(at)s),"
            " %(event_id)s, fromUnixTimestamp64Micro(%(received)s))"
        )
        params["at"], params["event_id"], params["received"] = below
    rows = await tiers.cold_fetch(
        "SELECT event_id, user_id, event_type, occurred_at, received_at, properties"
        f" FROM {EVENTS} WHERE {' AND '.join(conditions) or 'true'}"
        " ORDER BY occurred_at DESC, event_id DESC, received_at DESC LIMIT %(limit)s",
        params,
    )
    return [
        Event(
            event_id=event_id,
            user_id=user_id,
            event_type=event_type,
            occurred_at=occurred_at,
            received_at=received_at,
            properties=json.loads(properties) if properties else None,
        )
        for event_id, user_id, event_type, occurred_at, received_at, properties in rows
    ]
