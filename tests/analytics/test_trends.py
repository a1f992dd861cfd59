"""Pinned edges of trends: repeated local hours, the other series, empty intervals."""

from __future__ import annotations

import datetime as dt

import pytest

from eventide.analytics.filters import EventSelector, FilterOp, PropertyFilter
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
        breakdown=Breakdown.of(None, True),
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
        series=[SeriesSpec(EventSelector("view"))],
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


async def test_events_without_the_property_are_the_null_value_ranked_like_any(
    engines: Engines,
) -> None:
    await clear(engines)
    day = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
    cold = [
        event(1, "a", "view", day, plan={"tier": 1}),
        event(2, "b", "view", day, plan={"tier": "1"}),
        event(3, "c", "view", day),
    ]
    await put_hot(engines, cold)
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 20, tzinfo=UTC))
    later = day + dt.timedelta(days=1)
    await put_hot(
        engines,
        [
            event(4, "a", "view", later, plan={"tier": 1.0}),  # equal to 1 in the cold tier
            event(5, "d", "view", later, plan={"tier": None}),  # null: as if absent
            event(6, "e", "view", later, plan="flat"),  # no object to look into
            event(7, "f", "buy", later, plan={"tier": "1"}),
            event(8, "g", "buy", later, plan={"tier": 5}),
        ],
    )
    got = await trends(
        engines,
        project=1,
        first=dt.date(2026, 3, 2),
        last=dt.date(2026, 3, 3),
        timezone="UTC",
        interval=Interval.DAY,
        series=[SeriesSpec(measure=Measure.USERS)],
        breakdown=Breakdown.of("plan.tier", None),
        breakdown_limit=3,
    )
    # null: c, d, e (3 users); "1": b, f (2); 1: a (1, in both tiers); 5: g (1, by its
    # JSON text after 1).
    assert [(s.breakdown_value, s.other, s.total, [p.value for p in s.points]) for s in got] == [
        (None, False, 3, [1, 2]),
        ("1", False, 2, [1, 1]),
        (1, False, 1, [1, 1]),
        (None, True, 1, [0, 1]),
    ]


async def test_ties_rank_by_json_text_and_where_selects_events(engines: Engines) -> None:
    await clear(engines)
    day = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
    await put_hot(
        engines,
        [
            event(1, "a", "view", day, k=2, ok=True),
            event(2, "a", "view", day, k="b", ok=True),
            event(3, "a", "view", day, k="a", ok=True),
            event(4, "a", "view", day, k="a"),
        ],
    )
    got = await trends(
        engines,
        project=1,
        first=dt.date(2026, 3, 2),
        last=dt.date(2026, 3, 2),
        timezone="UTC",
        interval=Interval.DAY,
        series=[SeriesSpec(EventSelector(where=(PropertyFilter(("ok",), FilterOp.EQ, True),)))],
        breakdown=Breakdown.of("k", None),
    )
    # '"a"' < '"b"' < '2' as JSON text; the event without ok is not selected.
    assert [(s.breakdown_value, s.total) for s in got] == [("a", 1), ("b", 1), (2, 1)]


@pytest.mark.parametrize(
    ("path", "by_event_type", "named"),
    [
        (None, None, "breakdown"),
        (None, False, "breakdown"),
        ("plan", True, "breakdown"),
        ("plan..tier", None, "breakdown.property"),
        ("", False, "breakdown.property"),
    ],
)
def test_a_breakdown_is_one_property_or_the_event_type(
    path: str | None, by_event_type: bool | None, named: str
) -> None:
    with pytest.raises(InvalidInput, match=named):
        Breakdown.of(path, by_event_type)
