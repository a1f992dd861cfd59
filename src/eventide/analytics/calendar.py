"""Calendar arithmetic in a query's IANA time zone: local days, periods and UTC offsets.

A local day is numbered as days since 1970-01-01: an instant ``t`` (microseconds since
the epoch) falls on local day ``floor((t + offset(t)) / 1 day)``, where ``offset`` is
the zone's UTC offset at ``t``. This is exactly ``t.astimezone(zone).date()``, also on
daylight-saving days of 23 or 25 hours and in zones with non-whole-hour offsets. The
offset is a step function of the instant; :func:`offsets` finds its steps with Python's
IANA data, and both stores evaluate the same steps (``_sql_time``), so a day never
depends on the engines' own copies of the time-zone database.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventide.errors import InvalidInput

MAX_RANGE_DAYS = 3660
EPOCH = dt.date(1970, 1, 1)
SECOND_US = 1_000_000
DAY_US = 86_400 * SECOND_US
# The span of the stores' buckets (migrations/0006_buckets.sql).
BUCKET_US = 900 * SECOND_US
# Offsets never exceed 26 hours: a day's instants lie within this margin of its UTC day.
DAY_MARGIN_US = 2 * DAY_US
# Both stores hold instants of years 1900 to 2261 only (ClickHouse DateTime64 and Date32).
MIN_INSTANT_US = -2_208_988_800 * SECOND_US
MAX_INSTANT_US = 9_183_110_400 * SECOND_US
# Offsets are sampled this often, and each change found by bisection to the second; real
# zones never change their offset twice within six hours.
_SAMPLE_SECONDS = 6 * 3600


class Period(enum.Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or :class:`InvalidInput`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(f"Unknown time zone: {name[:64]!r}") from None


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def day_of(number: int) -> dt.date:
    return EPOCH + dt.timedelta(days=number)


@dataclass(frozen=True)
class DayRange:
    """An inclusive range of local days, as day numbers."""

    first: int
    last: int

    @classmethod
    def of(cls, first: dt.date, last: dt.date) -> DayRange:
        """Validate an API range: ``first <= last``, at most :data:`MAX_RANGE_DAYS` days."""
        if first > last:
            raise InvalidInput("range.from must not be after range.to")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise InvalidInput(f"range covers more than {MAX_RANGE_DAYS} days")
        return cls(day_number(first), day_number(last))

    def days(self) -> range:
        return range(self.first, self.last + 1)


def period_key(period: Period, day: int) -> int:
    """The number of the period holding local day ``day``; consecutive periods differ by 1."""
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return (day + 3) // 7  # day 0, 1970-01-01, is a Thursday; weeks start on Monday
    date = day_of(day)
    return date.year * 12 + date.month - 1


def period_first_day(period: Period, key: int) -> int:
    """The first local day of period ``key``."""
    if period is Period.DAY:
        return key
    if period is Period.WEEK:
        return key * 7 - 3
    return day_number(dt.date(key // 12, key % 12 + 1, 1))


@dataclass(frozen=True)
class Offsets:
    """A zone's UTC offset (microseconds) as a step function of the instant."""

    initial: int
    # (instant, offset): from that instant on, the offset is this one.
    steps: tuple[tuple[int, int], ...] = ()

    def at(self, instant_us: int) -> int:
        offset = self.initial
        for start, value in self.steps:
            if instant_us < start:
                break
            offset = value
        return offset

    def constant_near(self, instant_us: int) -> bool:
        """Whether the offset stays the same within :data:`DAY_MARGIN_US` of the instant."""
        low, high = instant_us - DAY_MARGIN_US, instant_us + DAY_MARGIN_US
        return not any(low < start <= high for start, _ in self.steps)

    def local_day(self, instant_us: int) -> int:
        return (instant_us + self.at(instant_us)) // DAY_US

    def last_day_before(self, instant_us: int) -> int:
        """The latest local day of any instant before ``instant_us`` (an offset falling back
        across midnight makes local days non-monotonic)."""
        ends = [start for start, _ in self.steps if start < instant_us]
        return max(self.local_day(end - 1) for end in (*ends, instant_us))


@dataclass(frozen=True)
class Window:
    """Local days ``first..last`` of a zone: the UTC instants that can fall on them and
    the zone's offsets over those instants. When ``exact``, the instants in
    ``[start_us, end_us)`` are exactly those of the days; otherwise (an offset change
    next to an edge can make a day's instants non-contiguous) a superset."""

    first: int
    last: int
    start_us: int
    end_us: int
    offsets: Offsets
    exact: bool = False

    @property
    def empty(self) -> bool:
        return self.start_us >= self.end_us

    @property
    def in_buckets(self) -> bool:
        """Whether every 15-minute UTC bucket (see the stores' buckets) lies within one
        local day and either inside or outside the window: true when the bounds, each
        offset and each offset change are whole multiples of 15 minutes, as in every zone
        since the 1970s. Buckets then answer exactly what events answer."""
        steps = self.offsets.steps
        values = (self.start_us, self.end_us, self.offsets.initial)
        return all(v % BUCKET_US == 0 for v in values) and all(
            start % BUCKET_US == 0 and offset % BUCKET_US == 0 for start, offset in steps
        )


def window(tz: ZoneInfo, first: int, last: int) -> Window:
    """The instants that may lie on local days ``first..last``, clamped to storable years."""
    start = max(first * DAY_US - DAY_MARGIN_US, MIN_INSTANT_US)
    end = min((last + 1) * DAY_US + DAY_MARGIN_US, MAX_INSTANT_US)
    steps = offsets(tz, start, end)
    first_edge, last_edge = first * DAY_US, (last + 1) * DAY_US
    if steps.constant_near(first_edge) and steps.constant_near(last_edge):
        # Local time is continuous around both edges: each is one exact instant.
        exact_start, exact_end = first_edge - steps.at(first_edge), last_edge - steps.at(last_edge)
        if exact_start >= MIN_INSTANT_US and exact_end <= MAX_INSTANT_US:
            return Window(first, last, exact_start, exact_end, steps, exact=True)
    return Window(first, last, start, end, steps)


def offsets(tz: ZoneInfo, start_us: int, end_us: int) -> Offsets:
    """The offsets of ``tz`` over ``[start_us, end_us)``; outside, the nearest applies."""
    return _offsets(tz, start_us // SECOND_US, -(-end_us // SECOND_US))


@functools.lru_cache(maxsize=256)
def _offsets(tz: ZoneInfo, start: int, end: int) -> Offsets:
    initial = _offset_us(tz, start)
    steps: list[tuple[int, int]] = []
    previous, current = start, initial
    while previous < end:
        sample = min(previous + _SAMPLE_SECONDS, end)
        value = _offset_us(tz, sample)
        if value != current:
            low, high = previous, sample  # offset(low) == current != offset(high)
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_us(tz, middle) == current:
                    low = middle
                else:
                    high = middle
            steps.append((high * SECOND_US, value))
            current = value
        previous = sample
    return Offsets(initial, tuple(steps))


def _offset_us(tz: ZoneInfo, second: int) -> int:
    offset = dt.datetime.fromtimestamp(second, tz).utcoffset()
    assert offset is not None
    return offset // dt.timedelta(microseconds=1)


def instant_us(value: dt.datetime) -> int:
    """Microseconds since the epoch of an aware datetime, exactly."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return (value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def from_instant_us(value: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=value)
