"""The intervals of a trend: local hours, days, weeks (from Monday) or months of a zone.

A day, week or month is numbered by :func:`calendar.period_key` of the local day. A
local hour is numbered by the local hour *and* the UTC offset it is read at
(:func:`hour_key`): when clocks fall back, the repeated hour is two intervals, each with
its own start, and a 25-hour day has 25 of them; a skipped hour has none. Both stores
compute the same numbers from the same offsets (``_sql_time``), and :func:`intervals`
lists every interval of a window in Python from those offsets, so an empty interval
is listed too and every row of either store falls in a listed one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from eventide.analytics import calendar
from eventide.analytics.calendar import DAY_US, SECOND_US, Period, Window

HOUR_US = 3600 * SECOND_US
MAX_HOUR_RANGE_DAYS = 31
# A local hour's key is hour * OFFSET_SLOTS + offset in seconds + OFFSET_BIAS: every UTC
# offset lies within 26 hours (93,600 s) of zero, so the offset part never overflows.
OFFSET_SLOTS = 1 << 18
OFFSET_BIAS = 1 << 17


class Interval(enum.Enum):
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"

    @property
    def period(self) -> Period | None:
        """The calendar period of a DAY, WEEK or MONTH; None for HOUR."""
        return None if self is Interval.HOUR else Period(self.value)


@dataclass(frozen=True)
class IntervalSpan:
    """One interval: its key (as both stores compute it) and its first instant within
    the range, in microseconds since the epoch."""

    key: int
    start_us: int


def hour_key(local_us: int, offset_us: int) -> int:
    """The key of the local hour holding local time ``local_us`` read at ``offset_us``."""
    return (local_us // HOUR_US) * OFFSET_SLOTS + offset_us // SECOND_US + OFFSET_BIAS


def key_of(interval: Interval, offsets: calendar.Offsets, instant_us: int) -> int:
    """The key of the interval holding ``instant_us``."""
    offset = offsets.at(instant_us)
    if interval.period is None:
        return hour_key(instant_us + offset, offset)
    return calendar.period_key(interval.period, (instant_us + offset) // DAY_US)


def intervals(window: Window, interval: Interval) -> list[IntervalSpan]:
    """Every interval of the window's local days, by start: the part of each interval
    that lies on those days, its start the earliest instant of that part."""
    starts: dict[int, int] = {}
    first_local, end_local = window.first * DAY_US, (window.last + 1) * DAY_US
    for segment_start, segment_end, offset in _segments(window):
        # The segment's local times, cut to the window's days.
        low = max(segment_start + offset, first_local)
        high = min(segment_end + offset, end_local)
        if low >= high:
            continue
        unit = HOUR_US if interval.period is None else DAY_US
        for number in range(low // unit, -(-high // unit)):
            local_start = max(number * unit, low)
            if interval.period is None:
                key = hour_key(local_start, offset)
            else:
                key = calendar.period_key(interval.period, number)
            start = local_start - offset
            if key not in starts or start < starts[key]:
                starts[key] = start
    return sorted((IntervalSpan(k, s) for k, s in starts.items()), key=lambda i: i.start_us)


def _segments(window: Window) -> list[tuple[int, int, int]]:
    """The window's instants as runs ``(start, end, offset)`` of one UTC offset."""
    bounds = [window.start_us]
    offsets = [window.offsets.initial]
    for start, offset in window.offsets.steps:
        if window.start_us < start < window.end_us:
            bounds.append(start)
            offsets.append(offset)
        elif start <= window.start_us:
            offsets[0] = offset
    bounds.append(window.end_us)
    return [(bounds[i], bounds[i + 1], offsets[i]) for i in range(len(offsets))]
