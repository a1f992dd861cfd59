"""Local days, windows and periods against Python's own time-zone arithmetic."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventide.analytics import calendar
from eventide.analytics.calendar import DAY_US, Period
from eventide.errors import InvalidInput
from tests.analytics import oracle

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Havana",  # springs forward at midnight: a day that starts at 01:00
    "America/Santiago",  # falls back at midnight: instants of one day on both sides
    "Pacific/Apia",  # skipped 30 December 2011 entirely
]
instants = st.integers(
    calendar.instant_us(dt.datetime(1990, 1, 1, tzinfo=dt.UTC)),
    calendar.instant_us(dt.datetime(2040, 1, 1, tzinfo=dt.UTC)),
)


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES), instant=instants, span=st.integers(0, 40))
def test_local_day_and_window_agree_with_zoneinfo(zone: str, instant: int, span: int) -> None:
    tz = ZoneInfo(zone)
    local = calendar.from_instant_us(instant).astimezone(tz).date()
    first = calendar.day_number(local) - span // 2
    window = calendar.window(tz, first, first + span)
    assert window.offsets.local_day(instant) == calendar.day_number(local)
    for probe in (instant, window.start_us, window.end_us - 1, window.end_us):
        day = calendar.day_number(calendar.from_instant_us(probe).astimezone(tz).date())
        in_days = window.first <= day <= window.last
        in_window = window.start_us <= probe < window.end_us and (
            window.exact or window.first <= window.offsets.local_day(probe) <= window.last
        )
        assert in_days == in_window, (zone, probe)


def test_windows_next_to_an_offset_change_are_not_exact() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    day = calendar.day_number(dt.date(2026, 3, 29))  # 23 hours long
    assert not calendar.window(berlin, day, day).exact
    quiet = calendar.day_number(dt.date(2026, 6, 1))
    window = calendar.window(berlin, quiet, quiet)
    assert window.exact
    assert window.end_us - window.start_us == DAY_US
    assert calendar.from_instant_us(window.start_us) == dt.datetime(2026, 5, 31, 22, tzinfo=dt.UTC)


@given(day=st.dates(dt.date(1900, 1, 8), dt.date(2261, 12, 1)), period=st.sampled_from(Period))
def test_periods_start_on_mondays_and_firsts_of_months(day: dt.date, period: Period) -> None:
    key = calendar.period_key(period, calendar.day_number(day))
    start = calendar.day_of(calendar.period_first_day(period, key))
    assert start == oracle.period_start(day, period.value)
    assert calendar.period_key(period, calendar.day_number(start)) == key
    following = calendar.day_of(calendar.period_first_day(period, key + 1))
    assert following == oracle.shift(start, period.value, 1)


@pytest.mark.parametrize("name", ["Mars/Base", "", "../etc/passwd", "UTC ", "\x00"])
def test_unknown_zones_are_invalid(name: str) -> None:
    with pytest.raises(InvalidInput):
        calendar.zone(name)


def test_last_day_before_sees_days_an_offset_falling_back_leaves() -> None:
    # At 01:00 on day 10 the offset falls back by two hours: local time is 23:00 of day 9.
    change = 10 * DAY_US + 3_600_000_000
    offsets = calendar.Offsets(0, ((change, -2 * 3_600_000_000),))
    after = change + 1_800_000_000
    assert offsets.local_day(after) == 9
    assert offsets.last_day_before(after) == 10
    assert offsets.last_day_before(change) == 10
    assert offsets.last_day_before(change - DAY_US) == 9


@given(st.integers(-3 * 24 * 60, 3 * 24 * 60))
def test_last_day_before_is_the_latest_day_of_earlier_instants(minute: int) -> None:
    hour, step = 3_600_000_000, 60_000_000  # offsets change on whole minutes here
    offsets = calendar.Offsets(
        5 * hour, ((-DAY_US + hour, 3 * hour), (DAY_US // 2, 0), (DAY_US + 2 * hour, -3 * hour))
    )  # the last one falls back from 02:00 to 23:00 of the day before
    instant = minute * step
    earlier = range(instant - 1, instant - 4 * DAY_US, -step)  # hits each step's last instant
    assert offsets.last_day_before(instant) == max(offsets.local_day(t) for t in earlier)
