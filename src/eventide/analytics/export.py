"""Every event of one project in a range, streamed from both tiers through one snapshot.

The events are exactly those the ``events`` listing returns for the range, in its order
(newest first by occurrence, event id, then receipt), read with the listing's own page
statements: the export sees what every reader sees, and nothing of another project.
All of it is read inside one :func:`tier_snapshot`, in which each event is in exactly
one tier, so an archive pass running meanwhile neither hides an event nor shows it twice.

Memory stays flat whatever the range holds: each tier is read in keyset chunks of at
most ``chunk`` events, the two merged as they come. Each chunk's statement is bounded
in time as well as by key, so the stores scan what is left of the range, not all of it:
in PostgreSQL the upper bound on occurrence meets the index; in ClickHouse, whose key
orders by day but not by instant within one, the range is first cut into windows of
whole days holding about ``chunk`` events each (from a count per day), and each window
is read on its own.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
from collections.abc import AsyncIterator, Awaitable, Callable

from eventide.analytics import calendar
from eventide.analytics.listing import Event, EventFilter, Key, cold_page, hot_page
from eventide.archive.tiers import Tiers, tier_snapshot
from eventide.errors import InvalidInput
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, Scope

CHUNK = 20_000
"""Events per statement: large enough that round trips cost little, small enough that
two chunks (one per tier) and their merge stay a few megabytes."""

_DAY_US = 86_400_000_000
# Added before flooring to whole days so that instants before 1970 floor down too.
_DAY_BASE_US = 100_000 * _DAY_US
_ORDER = operator.attrgetter("occurred_at", "event_id", "received_at")

Page = Callable[[EventFilter, Key | None], Awaitable[list[Event]]]


async def export_events(
    engines: Engines,
    *,
    project: int,
    occurred_from: dt.datetime,
    occurred_to: dt.datetime,
    chunk: int = CHUNK,
) -> AsyncIterator[list[Event]]:
    """The project's events with ``occurred_from <= occurredAt < occurred_to``, newest
    first, in lists of at most ``2 * chunk``."""
    if occurred_from.tzinfo is None or occurred_to.tzinfo is None:
        raise InvalidInput("the range needs instants with a UTC offset")
    if occurred_from > occurred_to:
        raise InvalidInput("the range's start is after its end")
    if chunk < 1:
        raise ValueError("chunk must be positive")
    async with tier_snapshot(engines, scope=Scope.of(project)) as tiers:

        async def hot(where: EventFilter, below: Key | None) -> list[Event]:
            return await hot_page(tiers, where, below, chunk)

        async def cold(where: EventFilter, below: Key | None) -> list[Event]:
            return await cold_page(tiers, where, below, chunk, None)

        windows = await _cold_windows(tiers, occurred_from, occurred_to, chunk)
        hot_chunks = _chunks(hot, [(occurred_from, occurred_to)], chunk)
        cold_chunks = _chunks(cold, windows, chunk)
        async for merged in _merge(hot_chunks, cold_chunks):
            yield merged


async def _chunks(
    page: Page, windows: list[tuple[dt.datetime, dt.datetime]], chunk: int
) -> AsyncIterator[list[Event]]:
    """Every event of the windows (newest first, each ``[start, end)``), a page at a time."""
    for start, end in windows:
        below: Key | None = None
        while True:
            events = await page(EventFilter(occurred_from=start, occurred_to=end), below)
            if events:
                yield events
            if len(events) < chunk:
                break
            last = events[-1]
            below = last.key
            # Redundant with the key, but a bound the stores' indexes can use.
            end = last.occurred_at + dt.timedelta(microseconds=1)


async def _cold_windows(
    tiers: Tiers, start: dt.datetime, end: dt.datetime, chunk: int
) -> list[tuple[dt.datetime, dt.datetime]]:
    """``[start, end)`` cut at day boundaries into windows, newest first, each of about
    ``chunk`` cold events or of one day. Together they cover the range whatever the
    counts say: the counts only decide where the cuts fall."""
    if start >= end:
        return []
    rows = await tiers.cold_fetch(
        f"SELECT intDiv(toUnixTimestamp64Micro(occurred_at) + {_DAY_BASE_US}, {_DAY_US})"
        f" * {_DAY_US} - {_DAY_BASE_US} AS day, count() FROM {EVENTS}"
        " WHERE occurred_at >= fromUnixTimestamp64Micro(%(from)s)"
        " AND occurred_at < fromUnixTimestamp64Micro(%(to)s)"
        " GROUP BY day ORDER BY day DESC",
        {"from": calendar.instant_us(start), "to": calendar.instant_us(end)},
    )
    cuts, held = [end], 0
    for day_us, events in rows:
        day = max(start, calendar.from_instant_us(day_us))
        held += events
        # A window ends (below) at this day's start once it holds a chunk's worth.
        if held >= chunk and day > start:
            cuts.append(day)
            held = 0
    if cuts[-1] > start:
        cuts.append(start)
    return [(cuts[i + 1], cuts[i]) for i in range(len(cuts) - 1)]


async def _merge(
    first: AsyncIterator[list[Event]], second: AsyncIterator[list[Event]]
) -> AsyncIterator[list[Event]]:
    """Two streams of events, each newest first and disjoint, as one stream newest first.

    At each step, whichever buffer reaches further down (ends at the greater key) is
    emitted whole with the events of the other at or above its end: nothing either
    stream yields later can come before those.
    """
    a = await anext(first, None)
    b = await anext(second, None)
    while a is not None and b is not None:
        if _ORDER(a[-1]) < _ORDER(b[-1]):
            a, b, first, second = b, a, second, first
        # a ends higher: b's events above a's end go out with a; the rest wait.
        split = _count_above(b, _ORDER(a[-1]))
        out = a + b[:split]
        out.sort(key=_ORDER, reverse=True)
        yield out
        rest = b[split:]
        a = await anext(first, None)
        b = rest if rest else await anext(second, None)
    for remaining, stream in ((a, first), (b, second)):
        while remaining is not None:
            yield remaining
            remaining = await anext(stream, None)


def _count_above(events: list[Event], key: tuple[dt.datetime, str, dt.datetime]) -> int:
    """How many of ``events`` (newest first) order above ``key``."""
    return len(events) - bisect.bisect_left(events[::-1], key, key=_ORDER)
