"""``eventProperties`` equals the oracle whatever the split of the events between the
tiers, for properties of every JSON type, and its documented edges."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventide.analytics.event_properties import PropertyInfo, event_properties
from eventide.analytics.listing import Event
from eventide.archive.archiver import archive_pass
from eventide.errors import InvalidInput
from eventide.storage.engines import Engines
from tests.analytics import oracle
from tests.analytics.oracle_filters import canonical
from tests.analytics.stores import put_hot
from tests.analytics.test_graphql import event
from tests.analytics.test_oracle import (
    ORACLE_SETTINGS,
    TIMEZONES,
    TYPES,
    Wave,
    histories,
    ranges,
    store,
)

UTC = dt.UTC
KEYS = ["plan", "n", "", "a.b", "it's", 'q"', "ü-ñ", "back\\slash", "100%", "line\nbreak"]
SCALARS: list[Any] = [
    0, 1, 1.0, -1, 2.5, 1e20, -0.25, 10, 9, "1", "", "a", "b", "ü", "é\u0001", 'q"', "x\\y",
    "100%", "line\nbreak", True, False, None, 2**70, -(2**70), 2**64, 18446744073709551615,
    str(2**70), "1234567890123456789", 0.1, 1e-7,
]  # fmt: skip


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 2 and roll < 0.1:
        return {rng.choice(KEYS): random_value(rng, depth + 1) for _ in range(rng.randrange(3))}
    if depth < 2 and roll < 0.2:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return rng.choice(SCALARS)


def random_properties(rng: random.Random) -> dict[str, Any] | None:
    if rng.random() < 0.15:
        return rng.choice([None, {}])
    keys = rng.sample(KEYS, rng.randrange(1, 5))  # the other keys are absent
    return {key: random_value(rng) for key in keys}


@st.composite
def histories_with_properties(draw: st.DrawFn) -> list[Wave]:
    rng = draw(st.randoms(use_true_random=False))
    return [
        dataclasses.replace(
            wave,
            events=[dataclasses.replace(e, properties=random_properties(rng)) for e in wave.events],
        )
        for wave in draw(histories())
    ]


def answered(rows: list[PropertyInfo]) -> list[tuple[str, list[str], int, list[str]]]:
    return [(r.property, r.types, r.events, [canonical(v) for v in r.top_values]) for r in rows]


@pytest.mark.slow
@ORACLE_SETTINGS
@given(
    history=histories_with_properties(),
    tz_name=st.sampled_from(TIMEZONES),
    span=ranges(),
    event_type=st.one_of(st.none(), st.sampled_from(TYPES)),
    limit=st.sampled_from([1, 3, 1000]),
)
async def test_event_properties_equal_the_oracle(
    engines: Engines,
    history: list[Wave],
    tz_name: str,
    span: tuple[dt.date, dt.date],
    event_type: str | None,
    limit: int,
) -> None:
    events = await store(engines, history)
    first, last = span
    got = await event_properties(
        engines,
        project=1,
        first=first,
        last=last,
        timezone=tz_name,
        event_type=event_type,
        limit=limit,
    )
    assert answered(got) == oracle.event_properties(
        events, first, last, ZoneInfo(tz_name), event_type, limit
    )


def at(minute: int, kind: str = "view", **properties: Any) -> Event:
    occurred = dt.datetime(2026, 3, 1, 10, tzinfo=UTC) + dt.timedelta(minutes=minute)
    return event(f"e{minute}-{kind}", "ann", kind, occurred, **properties)


async def split_between_tiers(engines: Engines, cold: list[Event], hot: list[Event]) -> None:
    await put_hot(engines, cold)
    await archive_pass(engines, trigger="cli", now=dt.datetime(2026, 3, 20, tzinfo=UTC))
    await put_hot(engines, hot)  # late events of the same, now cold, day


async def properties_of(engines: Engines, **arguments: Any) -> list[PropertyInfo]:
    day = dt.date(2026, 3, 1)
    return await event_properties(
        engines, project=1, first=day, last=day, timezone="UTC", **arguments
    )


async def test_equal_numbers_are_one_value_across_tiers(engines: Engines) -> None:
    # 1 (cold) and 1.0 (hot) are one value counted 3 times; "1" is a string, another.
    await split_between_tiers(
        engines,
        cold=[at(0, v=1), at(1, v=1), at(2, v="1")],
        hot=[at(3, v=1.0), at(4, v="1"), at(5, v=2)],
    )
    (info,) = await properties_of(engines)
    assert (info.property, info.types, info.events) == ("v", ["number", "string"], 6)
    assert [canonical(v) for v in info.top_values] == [canonical(1), canonical("1"), canonical(2)]
    assert info.top_values[:2] == [1, "1"]


async def test_integers_beyond_64_bits_are_numbers_in_both_tiers(engines: Engines) -> None:
    # ClickHouse's parser reads them as strings of digits, beside a real such string.
    big, digits = 2**70, str(2**70)
    await split_between_tiers(
        engines,
        cold=[at(0, v=big, w=digits), at(1, v=digits, w=big), at(2, v=float(big))],
        hot=[at(3, v=big, w=digits)],
    )
    got = {info.property: info for info in await properties_of(engines)}
    assert got["v"].types == got["w"].types == ["number", "string"]
    # 2**70 and its double are one number.
    assert [canonical(v) for v in got["v"].top_values] == [canonical(big), canonical(digits)]
    assert [canonical(v) for v in got["w"].top_values] == [canonical(digits), canonical(big)]


async def test_numbers_beyond_doubles_are_one_finite_value_of_each_sign(engines: Engines) -> None:
    huge = 10**400
    await split_between_tiers(
        engines, cold=[at(0, v=huge), at(1, v=-huge)], hot=[at(2, v=huge + 1), at(3, v=-huge)]
    )
    (info,) = await properties_of(engines)
    assert (info.types, info.top_values) == (["number"], [-(10**999), 10**999])


async def test_ties_rank_by_json_text_and_only_ten_values_are_shown(engines: Engines) -> None:
    # Twelve values once each, "b" twice in total (once in each tier): "b" first, then
    # the rest by their JSON text: strings (opening quote) before numbers, then true.
    values: list[Any] = ["b", "a", "c", 3, 1, 2, True, False, "z", "y", "x", 4]
    await split_between_tiers(
        engines, cold=[at(i, v=v) for i, v in enumerate(values)], hot=[at(30, v="b")]
    )
    (info,) = await properties_of(engines)
    expected = sorted({canonical(v) for v in values} - {canonical("b")})
    assert [canonical(v) for v in info.top_values] == [canonical("b"), *expected[:9]]


async def test_null_objects_and_arrays_are_typed_but_never_top_values(engines: Engines) -> None:
    await split_between_tiers(
        engines,
        cold=[at(0, o={"x": 1}, a=[1], z=None), at(1, o={"x": 1}, z="s")],
        hot=[at(2, o={}, a=[], z=None), at(3)],
    )
    got = {info.property: info for info in await properties_of(engines)}
    assert (got["o"].types, got["o"].events, got["o"].top_values) == (["object"], 3, [])
    assert (got["a"].types, got["a"].events, got["a"].top_values) == (["array"], 2, [])
    assert (got["z"].types, got["z"].events, got["z"].top_values) == (["null", "string"], 3, ["s"])


async def test_keys_rank_by_events_then_name_within_the_limit(engines: Engines) -> None:
    await split_between_tiers(
        engines,
        cold=[at(0, b=1, a=1), at(1, c=1)],
        hot=[at(2, c=1, a=1), at(3, b=2, d=1), at(4, kind="buy", d=2, e=1)],
    )
    assert [i.property for i in await properties_of(engines)] == ["a", "b", "c", "d", "e"]
    assert [i.property for i in await properties_of(engines, limit=2)] == ["a", "b"]
    by_type = await properties_of(engines, event_type="buy")
    assert [(i.property, i.events) for i in by_type] == [("d", 1), ("e", 1)]
    assert await properties_of(engines, event_type="none") == []


async def test_the_range_is_of_local_days(engines: Engines) -> None:
    # 1 March in Kathmandu (+05:45) is 28 Feb 18:15 to 1 March 18:15 UTC.
    edge = dt.datetime(2026, 2, 28, 18, 15, tzinfo=UTC)
    instants = [edge - dt.timedelta(microseconds=1), edge, edge + dt.timedelta(days=1)]
    events = [event(f"k{i}", "ann", "view", t, k=i) for i, t in enumerate(instants)]
    await split_between_tiers(engines, cold=events[:2], hot=events[2:])
    day = dt.date(2026, 3, 1)
    (info,) = await event_properties(
        engines, project=1, first=day, last=day, timezone="Asia/Kathmandu"
    )
    assert (info.property, info.events, info.top_values) == ("k", 1, [1])


async def test_invalid_arguments(engines: Engines) -> None:
    for limit in (0, 1001):
        with pytest.raises(InvalidInput, match="limit"):
            await properties_of(engines, limit=limit)
    with pytest.raises(InvalidInput, match="eventType"):
        await properties_of(engines, event_type="nul\x00")
