"""Trend intervals against Python's own time-zone arithmetic, and each store's SQL
against the Python keys."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventide.analytics import calendar
from eventide.analytics._sql_time import ClickHouse, Postgres
from eventide.analytics.intervals import Interval, intervals, key_of
from eventide.storage.engines import Engines
from tests.analytics import oracle_trends

# Every offset and change a whole quarter hour (what the oracle's scan needs), with
# 30- and 45-minute offsets, a 30-minute daylight saving, and changes at midnight.
QUARTER_HOUR_ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "America/Havana",  # springs forward at midnight
    "America/Santiago",  # falls back at midnight
]
# Offsets of seconds: Monrovia's -00:44:30 until 1972, Amsterdam's +00:19:32 until 1937.
ODD_ZONES = [("Africa/Monrovia", dt.date(1971, 1, 1)), ("Europe/Amsterdam", dt.date(1930, 1, 1))]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(QUARTER_HOUR_ZONES),
    first=st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)),
    span=st.integers(0, 3),
    interval=st.sampled_from(Interval),
)
def test_intervals_follow_the_wall_clock(
    zone: str, first: dt.date, span: int, interval: Interval
) -> None:
    tz, last = ZoneInfo(zone), first + dt.timedelta(days=span)
    window = calendar.window(tz, calendar.day_number(first), calendar.day_number(last))
    expected = oracle_trends.intervals(first, last, tz, interval.value)
    spans = intervals(window, interval)
    assert [calendar.from_instant_us(s.start_us) for s in spans] == [s for _, s in expected]
    # Every instant's key is the key of the interval the wall clock puts it in.
    position = {span.key: i for i, span in enumerate(spans)}
    for i, (_, start) in enumerate(expected):
        for probe in (start, start + dt.timedelta(minutes=14, seconds=59)):
            if first <= probe.astimezone(tz).date() <= last:
                key = key_of(interval, window.offsets, calendar.instant_us(probe))
                assert position[key] == i


def test_a_day_of_offsets_in_seconds_has_its_24_hours() -> None:
    for zone, day in ODD_ZONES:
        number = calendar.day_number(day)
        window = calendar.window(ZoneInfo(zone), number, number)
        spans = intervals(window, Interval.HOUR)
        assert len(spans) == 24
        assert spans[0].start_us == window.start_us
        assert all(b.start_us - a.start_us == 3_600_000_000 for a, b in pairwise(spans))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    zone=st.sampled_from([*QUARTER_HOUR_ZONES, *(z for z, _ in ODD_ZONES)]),
    instants=st.lists(
        st.integers(
            calendar.instant_us(dt.datetime(1925, 1, 1, tzinfo=dt.UTC)),
            calendar.instant_us(dt.datetime(2040, 1, 1, tzinfo=dt.UTC)),
        ),
        min_size=1,
        max_size=20,
    ),
    interval=st.sampled_from(Interval),
)
async def test_both_stores_key_instants_as_python_does(
    engines: Engines, zone: str, instants: list[int], interval: Interval
) -> None:
    offsets = calendar.offsets(ZoneInfo(zone), min(instants), max(instants) + 1)
    expected = [key_of(interval, offsets, t) for t in instants]
    hot_key = Postgres.interval_key(interval, "t", offsets)
    async with engines.db.acquire() as conn:
        hot = await conn.fetch(
            f"SELECT {hot_key} FROM unnest($1::timestamptz[]) WITH ORDINALITY AS i(t, n)"
            " ORDER BY n",
            [calendar.from_instant_us(t) for t in instants],
        )
    assert [row[0] for row in hot] == expected
    cold_key = ClickHouse.interval_key(interval, "t", offsets)
    cold = await engines.cold.fetch(
        f"SELECT {cold_key} FROM (SELECT arrayJoin(arrayEnumerate(%(ts)s)) AS n,"
        " fromUnixTimestamp64Micro(toInt64(%(ts)s[n])) AS t) ORDER BY n",
        {"ts": instants},
    )
    assert [row[0] for row in cold] == expected
