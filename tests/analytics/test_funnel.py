"""The funnel's documented edges, each pinned, with events split between the tiers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from eventide.analytics._funnel_paths import MASK_BITS
from eventide.analytics.calendar import MAX_INSTANT_US, MIN_INSTANT_US
from eventide.analytics.filters import EventSelector, FilterOp, property_filters
from eventide.analytics.funnel import MAX_STEPS, Breakdown, FunnelOrder, FunnelResult, funnel
from eventide.analytics.listing import Event
from eventide.archive.archiver import archive_pass
from eventide.errors import InvalidInput
from eventide.storage.engines import Engines
from tests.analytics.stores import put_hot

UTC = dt.UTC
DAY = dt.date(2026, 3, 2)
NOON = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
# A pass at this instant moves every event before 4 March to the cold store.
ARCHIVE_AT = dt.datetime(2026, 3, 11, 7, tzinfo=UTC)
ORDERED, STRICT = FunnelOrder.ORDERED, FunnelOrder.STRICT


def at(
    seconds: float,
    event_type: str,
    *,
    user: str = "u",
    event_id: str | None = None,
    properties: dict[str, object] | None = None,
) -> Event:
    occurred = NOON + dt.timedelta(seconds=seconds)
    return Event(
        event_id=event_id or f"{user}-{event_type}-{seconds}",
        user_id=user,
        event_type=event_type,
        occurred_at=occurred,
        received_at=occurred,
        properties=properties,
    )


async def stored(engines: Engines, cold: Sequence[Event], hot: Sequence[Event] = ()) -> None:
    await put_hot(engines, cold)
    if cold:
        await archive_pass(engines, trigger="cli", now=ARCHIVE_AT)
    await put_hot(engines, hot)


async def ask(
    engines: Engines,
    steps: Sequence[str | EventSelector | None],
    *,
    order: FunnelOrder = ORDERED,
    window_seconds: int = 3600,
    first: dt.date = DAY,
    last: dt.date = DAY,
    breakdown: Breakdown | None = None,
    breakdown_limit: int = 10,
) -> list[FunnelResult]:
    return await funnel(
        engines,
        project=1,
        first=first,
        last=last,
        timezone="UTC",
        steps=[s if isinstance(s, EventSelector) else EventSelector(event_type=s) for s in steps],
        window_seconds=window_seconds,
        order=order,
        breakdown=breakdown,
        breakdown_limit=breakdown_limit,
    )


def users(results: list[FunnelResult]) -> list[int]:
    (result,) = results
    return [s.users for s in result.steps]


def medians(results: list[FunnelResult]) -> list[float | None]:
    (result,) = results
    return [s.median_seconds_from_previous for s in result.steps]


def test_an_events_instant_and_mask_sort_as_one_number() -> None:
    assert MAX_STEPS <= MASK_BITS
    assert MAX_INSTANT_US - MIN_INSTANT_US < 2 ** (64 - MASK_BITS)


async def test_strict_is_broken_by_one_event_between_steps(engines: Engines) -> None:
    # The page view between them is cold, the steps hot: STRICT still sees it.
    await stored(engines, cold=[at(0, "view"), at(5, "scroll")], hot=[])
    await put_hot(engines, [at(10, "buy", event_id="zz")])
    assert users(await ask(engines, ["view", "buy"], order=ORDERED)) == [1, 1]
    assert users(await ask(engines, ["view", "buy"], order=STRICT)) == [1, 0]
    assert users(await ask(engines, ["view", "scroll", "buy"], order=STRICT)) == [1, 1, 1]


async def test_steps_at_one_instant_go_by_event_id(engines: Engines) -> None:
    await stored(
        engines,
        cold=[at(0, "view", event_id="b"), at(0, "buy", event_id="a", user="v")],
        hot=[at(0, "buy", event_id="c"), at(0, "view", event_id="b", user="v")],
    )
    # u: view (b) then buy (c), 0 seconds apart; v: buy (a) comes before view (b).
    result = await ask(engines, ["view", "buy"], order=STRICT)
    assert users(result) == [2, 1]
    assert medians(result) == [None, 0.0]
    assert result[0].steps[1].conversion == 0.5


async def test_entries_at_one_instant_give_the_lower_ids_value(engines: Engines) -> None:
    # u's entries differ in value only: "a" (pro) comes before "b" (free), though "free"
    # sorts first as text. w's entries at one instant are alike: either is the entry.
    await stored(
        engines,
        cold=[at(0, "view", event_id="b", properties=plan("free")), at(0, "view", user="w")],
        hot=[at(0, "view", event_id="a", properties=plan("pro")), at(9, "buy")],
    )
    await put_hot(engines, [at(0, "view", user="w", event_id="w2"), at(3, "buy", user="w")])
    got = await ask(engines, ["view", "buy"], breakdown=Breakdown(property="plan"))
    assert [(r.breakdown_value, [s.users for s in r.steps]) for r in got] == [
        ("pro", [1, 1]),
        (None, [1, 1]),
    ]
    assert medians(await ask(engines, ["view", "buy"])) == [None, 6.0]


async def test_one_event_fills_one_step_of_overlapping_selectors(engines: Engines) -> None:
    # Every step matches any event: one event is an entry, never also the next step.
    await stored(
        engines, cold=[at(0, "view")], hot=[at(30, "buy", user="w"), at(40, "x", user="w")]
    )
    assert users(await ask(engines, [None, None])) == [2, 1]
    assert users(await ask(engines, ["view", None, "view"])) == [1, 0, 0]
    assert users(await ask(engines, [None, "x", None], order=STRICT)) == [2, 1, 0]


async def test_an_entry_at_the_range_end_reaches_steps_after_it(engines: Engines) -> None:
    end = 12 * 3600 - 1  # 23:59:59 on the last day of the range
    await stored(engines, cold=[at(end, "view"), at(end + 2, "buy")], hot=[at(end + 90, "pay")])
    result = await ask(engines, ["view", "buy", "pay"], window_seconds=90)
    assert users(result) == [1, 1, 1]
    assert medians(result) == [None, 2.0, 88.0]
    # An entry after the range is no entry, and a step past the window is not reached.
    assert users(await ask(engines, ["buy", "pay"], first=DAY, last=DAY)) == [0, 0]
    assert users(await ask(engines, ["view", "buy", "pay"], window_seconds=89)) == [1, 1, 0]


async def test_medians_of_even_counts_are_the_mean_of_the_middle_two(engines: Engines) -> None:
    gaps = {"a": 1, "b": 2, "c": 10, "d": 30}
    await stored(
        engines,
        cold=[at(0, "view", user=u) for u in gaps],
        hot=[at(gap, "buy", user=u) for u, gap in gaps.items()],
    )
    assert medians(await ask(engines, ["view", "buy"])) == [None, 6.0]


async def test_the_path_is_the_earliest_entry_reaching_the_depth(engines: Engines) -> None:
    # The first entry reaches buy only; the second reaches pay, and buy earliest.
    await stored(
        engines,
        cold=[at(0, "view"), at(10, "buy")],
        hot=[at(100, "view"), at(150, "buy"), at(160, "buy"), at(170, "pay")],
    )
    result = await ask(engines, ["view", "buy", "pay"], window_seconds=75)
    assert users(result) == [1, 1, 1]
    assert medians(result) == [None, 50.0, 20.0]


async def test_empty_answer_and_conversion(engines: Engines) -> None:
    (result,) = await ask(engines, ["view", "buy"])
    assert [
        (s.index, s.users, s.conversion, s.median_seconds_from_previous) for s in result.steps
    ] == [
        (0, 0, 0.0, None),
        (1, 0, 0.0, None),
    ]
    assert (result.breakdown_value, result.other) == (None, False)


@pytest.mark.parametrize(
    ("steps", "window_seconds", "message"),
    [
        (["view"], 60, "steps"),
        (["view"] * 11, 60, "steps"),
        (["view", "buy"], 0, "windowSeconds"),
        (["view", "buy"], 90 * 86_400 + 1, "windowSeconds"),
    ],
)
async def test_invalid_arguments(
    engines: Engines, steps: list[str], window_seconds: int, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await ask(engines, steps, window_seconds=window_seconds)


async def test_another_projects_events_never_count(engines: Engines) -> None:
    # Project 2 holds the same user's missing step, with the same event ids, in both tiers.
    await put_hot(engines, [at(0, "view")])
    await put_hot(engines, [at(0, "view"), at(5, "cart")], project=2)
    await archive_pass(engines, trigger="cli", now=ARCHIVE_AT)
    await put_hot(engines, [at(9, "buy")], project=2)
    assert users(await ask(engines, ["view", "cart"])) == [1, 0]
    assert users(await ask(engines, ["view", None], order=STRICT)) == [1, 0]


def plan(value: object) -> dict[str, object]:
    return {"plan": value}


async def test_breakdown_past_the_limit_gathers_the_rest_in_other(engines: Engines) -> None:
    # Entries by plan: "pro" x3 (1 buys), 1 and 1.0 are one value x2, none x2, "free" x1.
    entries = [
        ("a", plan("pro")), ("b", plan("pro")), ("c", plan("pro")), ("d", plan(1)),
        ("e", plan(1.0)), ("f", None), ("g", plan(None)), ("h", plan("free")),
    ]  # fmt: skip
    await stored(engines, cold=[at(0, "view", user=u, properties=p) for u, p in entries[:4]])
    await put_hot(engines, [at(0, "view", user=u, properties=p) for u, p in entries[4:]])
    await put_hot(engines, [at(60, "buy", user=u) for u in ("a", "d", "h")])
    # A later entry's value does not count: the path starts at the first entry.
    await put_hot(engines, [at(5, "view", user="a", properties=plan("free"))])
    by_plan = Breakdown(property="plan")
    got = await ask(engines, ["view", "buy"], breakdown=by_plan, breakdown_limit=2)
    assert [(r.breakdown_value, r.other, [s.users for s in r.steps]) for r in got] == [
        ("pro", False, [3, 1]),
        (1, False, [2, 1]),  # ties by JSON text: "1" before "null"
        (None, True, [3, 1]),  # null (absent or JSON null) x2 and "free" x1
    ]
    assert got[2].steps[1].conversion == 1 / 3
    everyone = await ask(engines, ["view", "buy"], breakdown=by_plan, breakdown_limit=50)
    assert [(r.breakdown_value, r.other) for r in everyone] == [
        ("pro", False),
        (1, False),
        (None, False),
        ("free", False),
    ]
    assert await ask(engines, ["nothing", "buy"], breakdown=by_plan) == []


async def test_steps_select_by_properties(engines: Engines) -> None:
    cheap = EventSelector("buy", property_filters([("price", FilterOp.LT, 10)], argument="w"))
    await stored(engines, cold=[at(0, "view"), at(1, "buy", properties={"price": 50})])
    await put_hot(engines, [at(2, "buy", properties={"price": 5})])
    result = await ask(engines, ["view", cheap])
    assert users(result) == [1, 1]
    assert medians(result) == [None, 2.0]
    assert users(await ask(engines, ["view", cheap], order=STRICT)) == [1, 0]


@pytest.mark.parametrize(
    ("breakdown", "message"),
    [
        (Breakdown(by_event_type=True), "byEventType"),
        (Breakdown(), "exactly one"),
        (Breakdown(property="a..b"), "breakdown.property"),
    ],
)
async def test_invalid_breakdowns(engines: Engines, breakdown: Breakdown, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        await ask(engines, ["view", "buy"], breakdown=breakdown)


@pytest.mark.parametrize("order", [ORDERED, STRICT])
async def test_ten_steps_with_medians_and_a_breakdown(engines: Engines, order: FunnelOrder) -> None:
    # The most steps there may be: the statement stays within ClickHouse's limits.
    walk = [at(10 * k, f"s{k}", properties={"plan": "pro"}) for k in range(10)]
    await stored(engines, walk[:5], walk[5:])
    steps = [f"s{k}" for k in range(10)]
    (result,) = await ask(engines, steps, order=order, breakdown=Breakdown(property="plan"))
    assert result.breakdown_value == "pro"
    assert [s.users for s in result.steps] == [1] * 10
    assert [s.median_seconds_from_previous for s in result.steps] == [None] + [10.0] * 9
