"""Every event of one project in a range, streamed from both tiers through one snapshot.

The events are exactly those the ``events`` listing returns for the range (occurred at
``from`` or later and before ``to``), in its order: newest first by occurrence, then
event id (byte-wise), then receipt. Both tiers are read as :data:`EVENTS` inside one
:func:`tier_snapshot`, as every reader reads them, so the export honours the project
scope and the cold visibility, and sees each event in exactly one tier even while an
archive pass moves events meanwhile.

Memory stays flat whatever the range holds: each tier is read in keyset chunks of at
most ``chunk`` events, and the two are merged as they come. Each chunk's statement is
bounded in time as well as by key, so that the stores scan what is left of the range,
not all of it: in PostgreSQL the upper bound on occurrence meets the index; in
ClickHouse, whose key orders by day but not by instant within one, the range is cut
into windows holding about ``chunk`` events each (from counts per day, and per hour,
minute or second within a day of many), and each window is read on its own.

The stores render each row as text, as the API writes it: instants in UTC with
microseconds and ``Z`` (text that sorts as the instants do), properties as their stored
JSON text, which is what the API parses to answer. Python never builds a datetime or
parses a JSON document per event.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Sequence,
)
from typing import Any

from eventide.analytics import calendar
from eventide.archive.tiers import Tiers, tier_snapshot
from eventide.errors import InvalidInput
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, Scope

CHUNK = 20_000
"""Events per statement: large enough that round trips cost little, small enough that
two chunks (one per tier) and their merge stay a few megabytes."""

Row = Sequence[Any]
"""``(eventId, userId, eventType, occurredAt, receivedAt, properties)``, all text but
``properties``, which is None for an event without."""
# A row's place in the order: occurredAt, eventId, receivedAt.
_KEY = operator.itemgetter(3, 0, 4)
Key = tuple[str, str, str]

# The cold windows' buckets: a day, an hour, a minute, a second (in microseconds).
_BUCKETS_US = (86_400_000_000, 3_600_000_000, 60_000_000, 1_000_000)
# Added before flooring to whole buckets so that instants before 1970 floor down too.
_BASE_US = 100_000 * _BUCKETS_US[0]


def _hot_text(column: str) -> str:
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def _cold_text(column: str) -> str:
    return f"concat(replace(toString({column}), ' ', 'T'), 'Z')"


_HOT_BELOW = (
    '(occurred_at < $4 OR (occurred_at = $4 AND (event_id COLLATE "C" < $5'
    " OR (event_id = $5 AND received_at < $6))))"
)
_COLD_BELOW = (
    "(occurred_at, event_id, received_at) < (fromUnixTimestamp64Micro(%(at)s),"
    " %(event_id)s, fromUnixTimestamp64Micro(%(received)s))"
)


def _hot_page(*, below: bool) -> str:
    return (
        f"SELECT event_id, user_id, event_type, {_hot_text('occurred_at')},"
        f" {_hot_text('received_at')}, properties::text FROM {EVENTS}"
        f" WHERE occurred_at >= $1 AND occurred_at < $2 AND {_HOT_BELOW if below else 'true'}"
        ' ORDER BY occurred_at DESC, event_id COLLATE "C" DESC, received_at DESC LIMIT $3'
    )


def _cold_page(*, below: bool) -> str:
    return (
        f"SELECT event_id, user_id, event_type, {_cold_text('occurred_at')},"
        f" {_cold_text('received_at')}, nullIf(properties, '') FROM {EVENTS}"
        " WHERE occurred_at >= fromUnixTimestamp64Micro(%(from)s)"
        " AND occurred_at < fromUnixTimestamp64Micro(%(to)s)"
        f" AND {_COLD_BELOW if below else 'true'}"
        " ORDER BY occurred_at DESC, event_id DESC, received_at DESC LIMIT %(limit)s"
    )


Window = tuple[dt.datetime, dt.datetime]
Page = Callable[[Window, Key | None], Awaitable[list[Row]]]


async def export_events(
    engines: Engines,
    *,
    project: int,
    occurred_from: dt.datetime,
    occurred_to: dt.datetime,
    chunk: int = CHUNK,
) -> AsyncGenerator[list[Row]]:
    """The project's events with ``occurred_from <= occurredAt < occurred_to``, newest
    first, in lists of at most ``2 * chunk``."""
    if occurred_from.tzinfo is None or occurred_to.tzinfo is None:
        raise InvalidInput("the range needs instants with a UTC offset")
    if occurred_from > occurred_to:
        raise InvalidInput("the range's start is after its end")
    if chunk < 1:
        raise ValueError("chunk must be positive")
    async with tier_snapshot(engines, scope=Scope.of(project)) as tiers:

        async def hot(window: Window, below: Key | None) -> list[Row]:
            args: list[Any] = [*window, chunk]
            if below is not None:
                at, event_id, received = below
                args += [_instant(at), event_id, _instant(received)]
            rows: list[Row] = await tiers.hot.fetch(_hot_page(below=below is not None), *args)
            return rows

        async def cold(window: Window, below: Key | None) -> list[Row]:
            params: dict[str, Any] = {
                "from": calendar.instant_us(window[0]),
                "to": calendar.instant_us(window[1]),
                "limit": chunk,
            }
            if below is not None:
                at, params["event_id"], received = below
                params["at"] = calendar.instant_us(_instant(at))
                params["received"] = calendar.instant_us(_instant(received))
            return [*await tiers.cold_fetch(_cold_page(below=below is not None), params)]

        hot_chunks = _chunks(hot, _one((occurred_from, occurred_to)), chunk)
        cold_chunks = _chunks(cold, _cold_windows(tiers, occurred_from, occurred_to, chunk), chunk)
        async for merged in _merge(hot_chunks, cold_chunks):
            yield merged


async def _one(window: Window) -> AsyncIterator[Window]:
    yield window


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def _chunks(
    page: Page, windows: AsyncIterable[Window], chunk: int
) -> AsyncIterator[list[Row]]:
    """Every event of the windows (newest first, each ``[start, end)``), a page at a time."""
    async for start, end in windows:
        below: Key | None = None
        while True:
            rows = await page((start, end), below)
            if rows:
                yield rows
            if len(rows) < chunk:
                break
            below = _KEY(rows[-1])
            # Redundant with the key, but a bound the stores' indexes can use.
            end = _instant(below[0]) + dt.timedelta(microseconds=1)


async def _cold_windows(
    tiers: Tiers, start: dt.datetime, end: dt.datetime, chunk: int
) -> AsyncIterator[Window]:
    """``[start, end)`` cut into windows, newest first, each of at most ``chunk`` cold
    events (read by one statement) or of one bucket (a day, or within a day of more, an
    hour, a minute or a second). Together they cover the range whatever the counts
    say: the counts only decide where the cuts fall."""
    cut, held, lowest = end, 0, end
    async for bucket, events in _buckets(tiers, start, end, chunk, level=0):
        if held and held + events > chunk:
            # The window so far is full: it ends (below) where its oldest bucket starts.
            yield lowest, cut
            cut, held = lowest, 0
        held += events
        lowest = bucket
    if cut > start:
        yield start, cut


async def _buckets(
    tiers: Tiers, start: dt.datetime, end: dt.datetime, chunk: int, *, level: int
) -> AsyncIterator[tuple[dt.datetime, int]]:
    """The cold events of ``[start, end)`` counted per bucket of ``_BUCKETS_US[level]``,
    newest first, with each bucket of more than ``chunk`` counted again per finer bucket:
    a window then scans little more than its own events."""
    if start >= end:
        return
    size = _BUCKETS_US[level]
    rows = await tiers.cold_fetch(
        f"SELECT intDiv(toUnixTimestamp64Micro(occurred_at) + {_BASE_US}, {size})"
        f" * {size} - {_BASE_US} AS bucket, count() FROM {EVENTS}"
        " WHERE occurred_at >= fromUnixTimestamp64Micro(%(from)s)"
        " AND occurred_at < fromUnixTimestamp64Micro(%(to)s)"
        " GROUP BY bucket ORDER BY bucket DESC",
        {"from": calendar.instant_us(start), "to": calendar.instant_us(end)},
    )
    for bucket_us, events in rows:
        bucket = max(start, calendar.from_instant_us(bucket_us))
        if events > chunk and level + 1 < len(_BUCKETS_US):
            bucket_end = min(end, calendar.from_instant_us(bucket_us + size))
            async for finer in _buckets(tiers, bucket, bucket_end, chunk, level=level + 1):
                yield finer
        else:
            yield bucket, events


async def _merge(
    first: AsyncIterator[list[Row]], second: AsyncIterator[list[Row]]
) -> AsyncIterator[list[Row]]:
    """Two streams of rows, each newest first and disjoint, as one stream newest first.

    At each step, whichever buffer reaches further down (ends at the greater key) goes
    out whole with the rows of the other at or above its end: nothing either stream
    yields later can come before those.
    """
    a = await anext(first, None)
    b = await anext(second, None)
    while a is not None and b is not None:
        if _KEY(a[-1]) < _KEY(b[-1]):
            a, b, first, second = b, a, second, first
        split = _count_above(b, _KEY(a[-1]))
        out = a + b[:split]
        out.sort(key=_KEY, reverse=True)
        yield out
        rest = b[split:]
        a = await anext(first, None)
        b = rest if rest else await anext(second, None)
    for remaining, stream in ((a, first), (b, second)):
        while remaining is not None:
            yield remaining
            remaining = await anext(stream, None)


def _count_above(rows: list[Row], key: Key) -> int:
    """How many of ``rows`` (newest first) order at or above ``key``."""
    return len(rows) - bisect.bisect_left(rows[::-1], key, key=_KEY)
