"""The calendar of ``calendar`` as SQL of each store, so both bucket instants identically.

Every number inlined here comes from Python integers, never from caller text.
"""

from __future__ import annotations

from eventide.analytics.calendar import (
    DAY_US,
    SECOND_US,
    Offsets,
    Period,
    Window,
    from_instant_us,
)
from eventide.analytics.intervals import HOUR_US, OFFSET_BIAS, OFFSET_SLOTS, Interval

# Added before integer divisions so that they floor for instants before 1970 too.
_BASE_DAYS = 100_000
_BASE_WEEKS = 20_000
_BASE_HOURS = _BASE_DAYS * 24


class _Dialect:
    @staticmethod
    def instant(value_us: int) -> str:
        raise NotImplementedError

    @staticmethod
    def local_day(column: str, offsets: Offsets) -> str:
        raise NotImplementedError

    @staticmethod
    def period_key(period: Period, day: str) -> str:
        raise NotImplementedError

    @staticmethod
    def local_hour(column: str, offsets: Offsets) -> str:
        raise NotImplementedError

    @classmethod
    def interval_key(cls, interval: Interval, column: str, offsets: Offsets) -> str:
        """The key of ``column``'s interval, as :func:`intervals.key_of` computes it."""
        if interval.period is None:
            return cls.local_hour(column, offsets)
        return cls.period_key(interval.period, cls.local_day(column, offsets))

    @classmethod
    def in_window(cls, column: str, window: Window) -> str:
        """``column`` lies on a local day of ``window`` (instant bounds, for the indexes)."""
        start, end = cls.instant(window.start_us), cls.instant(window.end_us)
        bounds = f"{column} >= {start} AND {column} < {end}"
        if window.exact:
            return bounds
        day = cls.local_day(column, window.offsets)
        return f"{bounds} AND {day} BETWEEN {window.first} AND {window.last}"


class Postgres(_Dialect):
    """SQL for the hot store (PostgreSQL)."""

    @staticmethod
    def instant(value_us: int) -> str:
        # A constant literal, so that partitions are pruned when the query is planned.
        return f"'{from_instant_us(value_us).isoformat()}'::timestamptz"

    @staticmethod
    def local_day(column: str, offsets: Offsets) -> str:
        """Local day number of the timestamptz ``column``."""
        shift = _interval(offsets.initial)
        if offsets.steps:
            cases = []
            previous = offsets.initial
            for start, value in offsets.steps:
                cases.append(
                    f"WHEN {column} < {Postgres.instant(start)} THEN {_interval(previous)}"
                )
                previous = value
            shift = f"CASE {' '.join(cases)} ELSE {_interval(previous)} END"
        return f"((({column} + {shift}) AT TIME ZONE 'UTC')::date - DATE '1970-01-01')"

    @staticmethod
    def local_hour(column: str, offsets: Offsets) -> str:
        """:func:`intervals.hour_key` of the timestamptz ``column``."""
        micros = f"(EXTRACT(EPOCH FROM {column}) * {SECOND_US})::bigint"
        shift = str(offsets.initial)
        if offsets.steps:
            cases = []
            previous = offsets.initial
            for start, value in offsets.steps:
                cases.append(f"WHEN {column} < {Postgres.instant(start)} THEN {previous}")
                previous = value
            shift = f"CASE {' '.join(cases)} ELSE {previous} END"
        shift = f"({shift})::bigint"
        hour = f"(({micros} + {shift} + {_BASE_HOURS * HOUR_US}) / {HOUR_US} - {_BASE_HOURS})"
        # Offsets are whole seconds: the division is exact.
        return f"({hour} * {OFFSET_SLOTS} + {shift} / {SECOND_US} + {OFFSET_BIAS})"

    @staticmethod
    def period_key(period: Period, day: str) -> str:
        if period is Period.DAY:
            return day
        if period is Period.WEEK:
            return f"(({day} + {_BASE_WEEKS * 7 + 3}) / 7 - {_BASE_WEEKS})"
        date = f"(DATE '1970-01-01' + {day})"
        return f"(EXTRACT(YEAR FROM {date}) * 12 + EXTRACT(MONTH FROM {date}) - 1)::int"


class ClickHouse(_Dialect):
    """SQL for the cold store (ClickHouse)."""

    @staticmethod
    def instant(value_us: int) -> str:
        return f"fromUnixTimestamp64Micro(toInt64({value_us}))"

    @staticmethod
    def local_day(column: str, offsets: Offsets) -> str:
        micros = f"toUnixTimestamp64Micro({column})"
        shift = str(offsets.initial)
        if offsets.steps:
            branches = []
            previous = offsets.initial
            for start, value in offsets.steps:
                branches.append(f"{micros} < {start}, {previous}")
                previous = value
            shift = f"multiIf({', '.join(branches)}, {previous})"
        return (
            f"toInt64(intDiv({micros} + {shift} + {_BASE_DAYS * DAY_US}, {DAY_US}) - {_BASE_DAYS})"
        )

    @staticmethod
    def local_hour(column: str, offsets: Offsets) -> str:
        """:func:`intervals.hour_key` of the DateTime64 ``column``."""
        micros = f"toUnixTimestamp64Micro({column})"
        shift = f"toInt64({offsets.initial})"
        if offsets.steps:
            branches = []
            previous = offsets.initial
            for start, value in offsets.steps:
                branches.append(f"{micros} < {start}, {previous}")
                previous = value
            shift = f"toInt64(multiIf({', '.join(branches)}, {previous}))"
        hour = f"(intDiv({micros} + {shift} + {_BASE_HOURS * HOUR_US}, {HOUR_US}) - {_BASE_HOURS})"
        return f"toInt64({hour} * {OFFSET_SLOTS} + intDiv({shift}, {SECOND_US}) + {OFFSET_BIAS})"

    @staticmethod
    def period_key(period: Period, day: str) -> str:
        if period is Period.DAY:
            return day
        if period is Period.WEEK:
            return f"toInt64(intDiv({day} + {_BASE_WEEKS * 7 + 3}, 7) - {_BASE_WEEKS})"
        date = f"addDays(toDate32('1970-01-01'), {day})"
        return f"toInt64(toYear({date}) * 12 + toMonth({date}) - 1)"


def _interval(offset_us: int) -> str:
    return f"interval '{offset_us} microseconds'"
