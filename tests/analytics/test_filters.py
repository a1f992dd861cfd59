"""Property filters: PostgreSQL's conditions, ClickHouse's (on the text the archiver
copies) and the Python oracle agree on every op and every kind of JSON value, and so do
the canonical texts of values read from either store."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from eventide.analytics.filters import (
    ColdConditions,
    EventSelector,
    FilterOp,
    HotConditions,
    PropertyFilter,
    canonical_json,
    property_filters,
    property_path,
)
from eventide.analytics.listing import Event
from eventide.archive.archiver import archive_pass
from eventide.archive.tiers import Tiers, tier_snapshot
from eventide.errors import InvalidInput
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import EVENTS, Scope
from tests.analytics import oracle_filters
from tests.analytics.stores import clear, put_hot

BIG = 10**30
OVERFLOW = 2**1024 - 2**970  # the least integer that rounds past the largest double
PROPERTIES: list[dict[str, Any] | None] = [
    None,
    {},
    {"s": "1", "n": 1},
    {"s": 1, "n": 1.0},
    {"s": "abc", "n": 1.5},
    {"n": 2**53 + 1},  # rounds to 2**53
    {"n": 2**53},
    {"n": BIG},
    {"n": str(BIG)},  # the digits of a big integer, as a string
    {"n": -(2**63) - 1},
    {"n": 2**64 - 1},
    {"n": 2**64},
    {"n": 10**400},
    {"n": -(10**400)},
    {"n": OVERFLOW - 1},  # rounds to the largest double
    {"n": OVERFLOW},  # rounds to infinity
    {"n": 1e300},
    {"n": 1e-7},
    {"n": 0.1},
    {"n": -0.0},
    {"n": 0},
    {"n": 1e16},
    {"n": True},
    {"n": False},
    {"n": "true"},
    {"n": None},
    {"s": None},
    {"s": ""},
    {"s": ["1"]},
    {"s": {"x": 1}},
    {"o": {"a": {"b": 1}}, "a.b": 1},
    {"o": {"a": {"b": "1"}}},
    {"o": {"a": {"b": 10**25, "0": [BIG, 1.0, -0.0, "x"]}}},
    {"o": [{"a": {"b": 1}}]},  # a path through an array finds nothing
    {"o": {"a": [1, 2]}},
    {"o": {"a": {"0": 1}}},
    {"o": "a.b"},
    {"u": "ünïcødé ✓ 😀"},
    {"u": "ü"},
    {"u": 'a"b\\c\n\t\u2028/\x7f'},
    {"u": "12345678901234567890123"},  # a string of digits long enough to look big
    {"u": "1234567890123456789"},
    {"u": "\\u0000"},
    {"": 1, "bb": 2, "é": 3, "z": "x"},
]
PATHS = [("s",), ("n",), ("u",), ("o", "a", "b"), ("o", "a", "0"), ("o", "a"), ("o",), ("a", "b")]
PATHS += [("missing",), ("o", "0"), ("u", "x")]
SCALARS: list[Any] = ["1", 1, 1.0, 1.5, 2**53, 2**53 + 1, BIG, str(BIG), 10**25, True, False]
SCALARS += ["true", "", "ü", "abc", 0, -0.0, 1e300, 0.1, 1e-7, 2**64, 1.7976931348623157e308]
SCALARS += ["12345678901234567890123", "a.b"]
LISTS: list[list[Any]] = [[], ["1", 1], [True, 1.5, "abc"], [BIG, 0, "ü"], [False, "x", 2**64]]
NEEDLES = ["", "1", "b", "ü", "\\", "😀", '"', "\n", "123"]
NUMBERS: list[Any] = [1, 1.5, 2**53, BIG, -1, 1.7976931348623157e308, 0, -(10**300), 1e-7]


def conditions() -> list[PropertyFilter]:
    found = []
    for path in PATHS:
        for op, values in (
            (FilterOp.EQ, SCALARS),
            (FilterOp.NEQ, SCALARS),
            (FilterOp.IN, LISTS),
            (FilterOp.NOT_IN, LISTS),
            (FilterOp.CONTAINS, NEEDLES),
            (FilterOp.NOT_CONTAINS, NEEDLES),
            (FilterOp.GT, NUMBERS),
            (FilterOp.GTE, NUMBERS),
            (FilterOp.LT, NUMBERS),
            (FilterOp.LTE, NUMBERS),
            (FilterOp.IS_SET, [None]),
            (FilterOp.IS_NOT_SET, [None]),
        ):
            for value in values:
                (checked,) = property_filters([(".".join(path), op, value)], argument="where")
                found.append(checked)
    return found


SELECTORS = [
    EventSelector(),
    EventSelector(event_type="b"),
    EventSelector(
        event_type="a",
        where=property_filters([("n", FilterOp.GTE, 1), ("n", FilterOp.LT, 2)], argument="w"),
    ),
    EventSelector(
        where=property_filters(
            [("s", FilterOp.IS_SET, None), ("s", FilterOp.NOT_IN, ["1"]), ("u", FilterOp.NEQ, 1)],
            argument="w",
        )
    ),
]
AT = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)


def stored_events() -> list[Event]:
    return [
        Event(f"e{i:03d}", f"u{i % 3}", "ab"[i % 2], AT, AT, properties)
        for i, properties in enumerate(PROPERTIES)
    ]


async def hot_answers(tiers: Tiers, tests: list[PropertyFilter]) -> dict[str, list[bool]]:
    args: list[Any] = []
    compiled = HotConditions(args)
    columns = [compiled.selector(EventSelector(where=(t,))) for t in tests]
    columns += [compiled.selector(s) for s in SELECTORS]
    rows = await tiers.hot.fetch(
        f"SELECT event_id, ARRAY[{', '.join(columns)}] FROM {EVENTS}", *args
    )
    return {event_id: list(values) for event_id, values in rows}


async def cold_answers(tiers: Tiers, tests: list[PropertyFilter]) -> dict[str, list[bool]]:
    selectors = [EventSelector(where=(t,)) for t in tests] + SELECTORS
    answers: dict[str, list[bool]] = {}
    for start in range(0, len(selectors), 50):  # ClickHouse bounds a statement's size
        params: dict[str, Any] = {}
        compiled = ColdConditions(params, "f")
        columns = [f"toBool({compiled.selector(s)})" for s in selectors[start : start + 50]]
        rows = await tiers.cold_fetch(
            f"SELECT event_id, [{', '.join(columns)}] FROM {EVENTS}", params
        )
        for event_id, values in rows:
            answers.setdefault(event_id, []).extend(values)
    return answers


def expected(events: list[Event], tests: list[PropertyFilter]) -> dict[str, list[bool]]:
    return {
        e.event_id: [oracle_filters.matches(e.properties, (t,)) for t in tests]
        + [
            (s.event_type in (None, e.event_type)) and oracle_filters.matches(e.properties, s.where)
            for s in SELECTORS
        ]
        for e in events
    }


def differences(
    got: dict[str, list[bool]], want: dict[str, list[bool]], tests: list[PropertyFilter]
) -> list[tuple[Any, ...]]:
    names = [*tests, *SELECTORS]
    return [
        (event_id, names[i], got[event_id][i])
        for event_id in want
        for i in range(len(names))
        if got[event_id][i] != want[event_id][i]
    ][:10]


async def hot_canonicals(
    tiers: Tiers, paths: list[tuple[str, ...]] = PATHS
) -> dict[tuple[str, tuple[str, ...]], str | None]:
    """Each path's value as hot jsonb text, pushed into ClickHouse and made canonical."""
    found: dict[tuple[str, tuple[str, ...]], str | None] = {}
    for path in paths:
        args: list[Any] = []
        text = HotConditions(args).value_json(path)
        pushed = await tiers.push_hot(
            f"SELECT event_id, ({text} IS NOT NULL)::int AS found, coalesce({text}, '') AS v"
            f" FROM {EVENTS}",
            *args,
            structure="event_id String, found UInt8, v String",
        )
        rows = await tiers.cold_fetch(
            f"SELECT event_id, {canonical_json('if(found = 1, v, NULL)')} FROM {pushed}"
        )
        found.update({(event_id, path): value for event_id, value in rows})
    return found


async def cold_canonicals(
    tiers: Tiers, paths: list[tuple[str, ...]] = PATHS
) -> dict[tuple[str, tuple[str, ...]], str | None]:
    found: dict[tuple[str, tuple[str, ...]], str | None] = {}
    for path in paths:
        params: dict[str, Any] = {}
        conditions = ColdConditions(params, "v")
        rows = await tiers.cold_fetch(
            f"SELECT event_id, {conditions.value_canonical(path)},"
            f" {canonical_json(conditions.value_json(path))} FROM {EVENTS}",
            params,
        )
        # Read at once and from the value's JSON text, the canonical text is one.
        assert [read for *_, read in rows] == [direct for _, direct, _ in rows]
        found.update({(event_id, path): value for event_id, value, _ in rows})
    return found


def expected_canonicals(
    events: list[Event], paths: list[tuple[str, ...]] = PATHS
) -> dict[tuple[str, tuple[str, ...]], str | None]:
    found: dict[tuple[str, tuple[str, ...]], str | None] = {}
    for e in events:
        for path in paths:
            present, value = oracle_filters.value_at(e.properties, path)
            found[(e.event_id, path)] = oracle_filters.canonical(value) if present else None
    return found


def unequal(got: dict[Any, Any], want: dict[Any, Any]) -> list[tuple[Any, Any, Any]]:
    return [(key, got.get(key), value) for key, value in want.items() if got.get(key) != value]


async def test_both_stores_and_python_agree_on_every_op_and_type(engines: Engines) -> None:
    await clear(engines)
    events = stored_events()
    await put_hot(engines, events)
    tests = conditions()
    want, want_canonical = expected(events, tests), expected_canonicals(events)
    async with tier_snapshot(engines, scope=Scope.of(1)) as tiers:
        assert differences(await hot_answers(tiers, tests), want, tests) == []
        assert unequal(await hot_canonicals(tiers), want_canonical) == []
    await archive_pass(engines, trigger="cli", now=AT + dt.timedelta(days=30))
    async with tier_snapshot(engines, scope=Scope.of(1)) as tiers:
        assert await tiers.hot.fetch(f"SELECT event_id FROM {EVENTS}") == []
        assert differences(await cold_answers(tiers, tests), want, tests) == []
        assert unequal(await cold_canonicals(tiers), want_canonical) == []


def test_canonical_numbers_are_one_text_per_double() -> None:
    canonical = oracle_filters.canonical
    assert canonical(1) == canonical(1.0) == "1"
    assert canonical(-0.0) == canonical(0) == "0"
    assert canonical(2**53 + 1) == canonical(2**53) == "9007199254740992"
    assert canonical(1e21) == "1e21"
    assert canonical(1e-7) == "1e-7"
    assert canonical(1e20) == "1" + "0" * 20
    assert canonical(10**400) == "1e999"
    assert canonical(-(10**400)) == "-1e999"
    assert canonical("1") == '"1"'
    assert canonical(True) == "true"
    assert canonical(None) == "null"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([("a", FilterOp.EQ, None)], "where[0].value must be a string, a number or a boolean"),
        ([("a", FilterOp.EQ, {"x": 1})], "where[0].value must be a string, a number"),
        ([("a", FilterOp.EQ, [1])], "where[0].value must be a string, a number"),
        ([("a", FilterOp.IN, 1)], "where[0].value must be a JSON array"),
        ([("a", FilterOp.IN, [1, None])], "where[0].value[1] must be a string"),
        ([("a", FilterOp.NOT_IN, [0] * 1001)], "at most 1000 values"),
        ([("a", FilterOp.CONTAINS, 1)], "where[0].value must be a string for CONTAINS"),
        ([("a", FilterOp.GT, "1")], "where[0].value must be a number"),
        ([("a", FilterOp.LTE, True)], "where[0].value must be a number"),
        ([("a", FilterOp.GT, 10**400)], "where[0].value must be a finite number"),
        ([("a", FilterOp.GT, float("inf"))], "where[0].value must be a finite number"),
        ([("a", FilterOp.IS_SET, 1)], "where[0].value must be omitted"),
        ([("a", FilterOp.EQ, "x\x00")], "where[0].value must not contain NUL"),
        ([("a", FilterOp.EQ, "\ud800")], "where[0].value must not contain unpaired surrogate"),
        ([("a.", FilterOp.IS_SET, None)], "where[0].property must not have an empty segment"),
        ([(".a", FilterOp.IS_SET, None)], "where[0].property must not have an empty segment"),
        ([("", FilterOp.IS_SET, None)], "where[0].property must be 1 to 256 characters"),
        ([("a" * 257, FilterOp.IS_SET, None)], "where[0].property must be 1 to 256 characters"),
        ([("a\x00", FilterOp.IS_SET, None)], "where[0].property must not contain NUL"),
        ([("a", FilterOp.IS_SET, None)] * 21, "where takes at most 20 conditions"),
        ([("ok", FilterOp.IS_SET, None), ("b", FilterOp.GT, None)], "where[1].value must be"),
    ],
)
def test_invalid_filters_name_the_argument(raw: list[Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        property_filters(raw, argument="where")


def test_valid_filters() -> None:
    assert property_filters(None, argument="where") == ()
    assert property_path("a" * 256, argument="p") == ("a" * 256,)
    (f,) = property_filters([("a.b.c", FilterOp.IN, ["x", 1, True])], argument="where")
    assert f == PropertyFilter(("a", "b", "c"), FilterOp.IN, ("x", 1, True))
    assert len(property_filters([("a", FilterOp.IS_NOT_SET, None)] * 20, argument="w")) == 20
