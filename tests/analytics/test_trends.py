"""Pinned edges of trends: repeated local hours, the other series, empty intervals."""

from __future__ import annotations

import datetime as dt

import pytest

from eventide.analytics.intervals import Interval
from eventide.analytics.listing import Event
from eventide.analytics.trends import Breakdown, Measure, SeriesSpec, trends
from eventide.archive.archiver import archive_pass
from eventide.errors import InvalidInput
from eventide.storage.engines import Engines
from tests.analytics.stores import clear, put_hot

UTC = dt.UTC


def event(n: int, user: str, event_type: str, occurred: dt.datetime, **properties: object) -> Event:
    return Event(
        event_id=f"e{n}",
        user_id=user,
        event_type=event_type,
        occurred_at=occurred,
        received_at=occurred,
        properties=properties or None,
    )


async def test_a_repeated_local_hour_is_two_points_with_their_own_start(engines: Engines) -> None:
    await clear(engines)
    # New York falls back on 2026-11-01 at 06:00 UTC: 01:00-02:00 local happens twice.
    await put_hot(
        engines,
        [
            event(1, "a", "view", dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),  # 01:30 EDT
            event(2, "a", "view", dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),  # 01:30 EST
            event(3, "b", "view", dt.datetime(2026, 11, 1, 6, 45, tzinfo=UTC)),  # 01:45 EST
        ],
    )
    [series] = await trends(
        engines,
        project=1,
        first=dt.date(2026, 11, 1),
        last=dt.date(2026, 11, 1),
        timezone="America/New_York",
        interval=Interval.HOUR,
        series=[SeriesSpec(measure=Measure.USERS)],
    )
    assert len(series.points) == 25
    assert (series.label, series.total) == ("all events", 2)
    assert [(p.start, p.value) for p in series.points[1:3]] == [
        (dt.datetime(2026, 11, 1, 5, tzinfo=UTC), 1),
        (dt.datetime(2026, 11, 1, 6, tzinfo=UTC), 2),
    ]
    assert sum(p.value for p in series.points) == 3


async def test_the_other_series_counts_distinct_users_across_its_values(engines: Engines) -> None:
    await clear(engines)
    day = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
    await put_hot(
        engines,
        [
            event(1, "a", "view", day),
            event(2, "b", "view", day),
            event(3, "c", "view", day),
            event(4, "a", "click", day),
            event(5, "b", "click", day),
            event(6, "a", "buy", day),
            event(7, "a", "sign up", day),
        ],
    )
    # Half the events are cold: the other series' users are distinct across tiers too.
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 20, tzinfo=UTC))
    await put_hot(engines, [event(8, "b", "buy", day + dt.timedelta(hours=1))])
    got = await trends(
        engines,
        project=1,
        first=dt.date(2026, 3, 1),
        last=dt.date(2026, 3, 3),
        timezone="UTC",
        interval=Interval.DAY,
        series=[SeriesSpec(measure=Measure.USERS, label="who")],
        breakdown=Breakdown.of(True),
        breakdown_limit=1,
    )
    assert [(s.label, s.breakdown_value, s.other, s.total) for s in got] == [
        ("who", "view", False, 3),
        ("who", None, True, 2),
    ]
    assert [p.value for p in got[1].points] == [0, 2, 0]


async def test_an_interval_is_the_part_of_it_within_the_range(engines: Engines) -> None:
    await clear(engines)
    [series] = await trends(
        engines,
        project=1,
        first=dt.date(2026, 3, 4),  # a Wednesday
        last=dt.date(2026, 4, 2),
        timezone="Asia/Kathmandu",
        interval=Interval.WEEK,
        series=[SeriesSpec(event_type="view")],
    )
    assert (series.label, series.total) == ("view", 0)
    assert series.points[0].start == dt.datetime(2026, 3, 3, 18, 15, tzinfo=UTC)
    assert series.points[1].start == dt.datetime(2026, 3, 8, 18, 15, tzinfo=UTC)
    assert len(series.points) == 5


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"series": []}, "series"),
        ({"series": [SeriesSpec()] * 11}, "series"),
        ({"breakdown_limit": 0}, "breakdownLimit"),
        ({"breakdown_limit": 51}, "breakdownLimit"),
        ({"interval": Interval.HOUR, "last": dt.date(2026, 2, 1)}, "range"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
    ],
)
async def test_bad_arguments_are_refused_by_name(
    engines: Engines, arguments: dict[str, object], named: str
) -> None:
    given: dict[str, object] = {
        "first": dt.date(2026, 1, 1),
        "last": dt.date(2026, 1, 1),
        "timezone": "UTC",
        "interval": Interval.DAY,
        "series": [SeriesSpec()],
        **arguments,
    }
    with pytest.raises(InvalidInput, match=named):
        await trends(engines, project=1, **given)  # type: ignore[arg-type]
